import { ConfigError, parseConfig } from '../../lambda/config/config.js';

const base = { clusters: [{ name: 'golang-cluster' }] };

describe('securityHub and datadog configuration', () => {
  it('leaves both off by default', () => {
    const c = parseConfig(base, 'test');
    expect(c.securityHub).toBeUndefined();
    expect(c.datadog).toBeUndefined();
  });

  it('fills in the Datadog site and tags', () => {
    const c = parseConfig({ ...base, datadog: { apiKeySecret: 'datadog/api-key' } }, 'test');
    expect(c.datadog).toEqual({ site: 'datadoghq.com', apiKeySecret: 'datadog/api-key', tags: [] });
  });

  it.each([
    [
      { securityHub: { enabled: true, accountId: '12' } },
      /securityHub.accountId: must be a 12-digit/,
    ],
    [{ securityHub: { enable: true } }, /securityHub/],
    [{ datadog: { site: 'datadoghq.com' } }, /datadog.apiKeySecret/],
    [{ datadog: { apiKeySecret: 'x', site: 'example.com' } }, /datadog.site/],
    [
      { datadog: { apiKeySecret: 'x', tags: ['has space'] } },
      /datadog.tags.0: must be a Datadog tag/,
    ],
  ])('rejects %j naming the field', (extra, message) => {
    expect(() => parseConfig({ ...base, ...extra }, 'test')).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, ...extra }, 'test')).toThrow(message);
  });
});
