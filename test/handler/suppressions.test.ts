import { ConfigError } from '../../lambda/config/config.js';
import { harness, testConfig } from './support.js';

describe('handler: suppressions in the configuration', () => {
  it('refuses a suppression expiring more than a year after the run before touching a cluster', async () => {
    const h = harness({
      config: testConfig({
        suppressions: [{ check: 'token-ref-resolves', reason: 'accepted', expires: '2099-01-01' }],
      }),
    });
    h.deps.now = () => new Date('2026-11-24T02:00:00Z');
    await expect(h.handler({})).rejects.toThrow(ConfigError);
    await expect(h.handler({})).rejects.toThrow('suppressions[0].expires');
    expect(h.audits).toEqual([]);
    expect(h.snsMock.calls()).toHaveLength(0);
  });

  it('refuses a suppression naming no known check', async () => {
    const h = harness({
      config: testConfig({
        suppressions: [{ check: 'no-such-check', reason: 'accepted', expires: '2026-12-31' }],
      }),
    });
    h.deps.now = () => new Date('2026-11-24T02:00:00Z');
    await expect(h.handler({ dryRun: true })).rejects.toThrow('matches no check id');
    expect(h.audits).toEqual([]);
  });
});
