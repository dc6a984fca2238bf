/**
 * The canary search itself: every secret value the fixtures serve is a canary (so a leak of any of
 * them is findable), and the search finds a canary in each encoding it could leak in, wherever it
 * sits in a longer text.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadAwsFixture } from '../support/aws-fixture.js';
import { FIXTURES_DIR, loadManifests } from '../support/snapshot-builder.js';
import { CANARIES, findCanaries } from './canary-needles.js';

const FIXTURES = [
  'healthy',
  'field-report',
  'token-stale',
  'mixed-ec2-fargate',
  'injection-healthy',
  'injection-broken',
  'operator',
  'operator-literal',
  'operator-generated',
  'copies-broken',
  'copies-healthy',
  'cluster-agent-only',
  'operator-injection',
  'operator-injection-broken',
  'copies-settings',
];

describe('secret canaries', () => {
  it.each(FIXTURES)(
    'every Secret value and Secrets Manager value of fixture %s is a canary',
    (fixture) => {
      const dir = join(FIXTURES_DIR, fixture);
      const values: string[] = [];
      for (const doc of loadManifests(dir).filter((d) => d?.kind === 'Secret')) {
        values.push(...Object.values((doc.stringData ?? {}) as Record<string, string>));
        for (const v of Object.values((doc.data ?? {}) as Record<string, string>)) {
          values.push(Buffer.from(v, 'base64').toString('utf8'));
        }
      }
      for (const secret of Object.values(loadAwsFixture(dir).SecretsManager ?? {})) {
        for (const version of [secret.GetSecretValue, secret.GetSecretValuePending]) {
          if (version?.SecretString !== undefined) values.push(version.SecretString);
        }
      }
      expect(values.length).toBeGreaterThan(0);
      for (const v of values) expect(CANARIES).toContain(v);
    },
  );

  it('finds each canary raw, base64 and base64url at every alignment, hex, URL-encoded, cut short, or hashed', () => {
    for (const canary of CANARIES) {
      const forms = [
        `token=${canary};`,
        encodeURIComponent(`a b&t=${canary}`),
        Buffer.from(canary).toString('hex').toUpperCase(),
        createHash('sha256').update(canary).digest('hex'),
        `...${canary.slice(0, 20)}`,
        `…and the tail ${canary.slice(-16)}`,
      ];
      for (let shift = 0; shift < 3; shift++) {
        const padded = Buffer.concat([
          Buffer.alloc(shift, 0x41),
          Buffer.from(canary),
          Buffer.from('\n'),
        ]);
        forms.push(`data: ${padded.toString('base64')}`, `x${padded.toString('base64url')}y`);
      }
      for (const text of forms) expect([text, findCanaries(text).length > 0]).toEqual([text, true]);
    }
    expect(findCanaries('nothing secret here: sha256 0123abcd, token golang-secrets')).toEqual([]);
  });
});
