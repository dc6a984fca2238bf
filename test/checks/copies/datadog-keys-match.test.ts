import { datadogKeysMatch } from '../../../lambda/checks/keys/datadog-keys-match.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { digestSecret } from '../../../lambda/snapshot/secret-digest.js';
import type { AwsSnapshot, TokenSource } from '../../../lambda/snapshot/snapshot.js';
import { ok } from '../../support/snapshot-builder.js';
import {
  CANARY,
  build,
  datadogNamespace,
  fargateApp,
  golangNamespace,
  healthyDocs,
  secret,
  summary,
  tokenSourceOf,
} from '../token/support.js';

const OLD_API_KEY = 'CANARY-dd-api-key-OLD-1a2b3c4d5e6f7a8b';

function keySource(secretId: string, value: string): TokenSource {
  return tokenSourceOf({
    secretId,
    arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${secretId}-Ab12Cd`,
    current: digestSecret(value),
  });
}

const KEYS: Partial<AwsSnapshot> = {
  keySources: {
    apiKey: ok(keySource('datadog/apikey', CANARY.apiKey)),
    appKey: ok(keySource('datadog/appkey', CANARY.appKey)),
  },
};

function run(docs: Raw[], aws: Partial<AwsSnapshot> = KEYS) {
  return datadogKeysMatch.run(build(docs, { aws }));
}

describe('datadog-keys-match', () => {
  it.each<{ name: string; docs: Raw[]; aws?: Partial<AwsSnapshot>; expected: string[] }>([
    {
      name: 'every API and app key copy equal to Secrets Manager passes',
      docs: healthyDocs(),
      expected: [
        'PASS matches-source:api-key datadog/datadog-secrets',
        'PASS matches-source:app-key datadog/datadog-secrets',
        'PASS matches-source:datadog_api_key golang/golang-secrets',
      ],
    },
    {
      name: 'an agent reading an old API key fails',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace().map((d) =>
          d.kind === 'Secret'
            ? secret(
                'golang',
                'golang-secrets',
                { datadog_api_key: OLD_API_KEY, token: CANARY.token },
                { ownerES: 'golang-secrets' },
              )
            : d,
        ),
      ],
      expected: [
        'PASS matches-source:api-key datadog/datadog-secrets',
        'PASS matches-source:app-key datadog/datadog-secrets',
        'FAIL mismatch:datadog_api_key golang/golang-secrets',
      ],
    },
    {
      name: "an injected sidecar's datadog-secret api-key is compared",
      docs: [
        ...datadogNamespace(),
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
        ...fargateApp('shop', {
          labels: { 'agent.datadoghq.com/sidecar': 'fargate' },
          containers: [{ name: 'app', image: 'shop:1', env: [] }],
        }),
        secret('shop', 'datadog-secret', { token: CANARY.token, 'api-key': OLD_API_KEY }),
      ],
      expected: [
        'PASS matches-source:api-key datadog/datadog-secrets',
        'PASS matches-source:app-key datadog/datadog-secrets',
        'FAIL mismatch:api-key shop/datadog-secret',
      ],
    },
    {
      name: 'a key secret missing from Secrets Manager is not evaluated, once per key',
      docs: healthyDocs(),
      aws: {
        keySources: {
          apiKey: {
            status: 'not-installed',
            detail: 'Secrets Manager has no secret datadog/apikey',
          },
          appKey: ok(keySource('datadog/appkey', CANARY.appKey)),
        },
      },
      expected: [
        'ERROR source-unavailable:api-key api-key',
        'PASS matches-source:app-key datadog/datadog-secrets',
      ],
    },
    {
      name: 'a snapshot without key sources is not evaluated',
      docs: healthyDocs(),
      aws: {},
      expected: [
        'ERROR source-unavailable:api-key api-key',
        'ERROR source-unavailable:app-key app-key',
      ],
    },
  ])('$name', ({ docs, aws, expected }) => {
    expect(summary(run(docs, aws))).toEqual(expected);
  });

  it('an API key mismatch is critical, an app key mismatch high, each with the fix', () => {
    const results = run([
      ...datadogNamespace().map((d) =>
        d.kind === 'Secret'
          ? secret(
              'datadog',
              'datadog-secrets',
              {
                'api-key': OLD_API_KEY,
                'app-key': 'CANARY-dd-app-key-OLD-00',
                token: CANARY.token,
              },
              { ownerES: 'datadog-secrets' },
            )
          : d,
      ),
    ]);
    const api = results.find((r) => r.messageId === 'mismatch:api-key')!;
    const app = results.find((r) => r.messageId === 'mismatch:app-key')!;
    expect(api.severity).toBeUndefined();
    expect(datadogKeysMatch.severity).toBe('critical');
    expect(app.severity).toBe('high');
    expect(api.message).toContain('API Key invalid');
    expect(api.message).toContain('Written by ExternalSecret datadog/datadog-secrets');
    expect(api.remediation).toContain(
      'kubectl -n datadog annotate externalsecret datadog-secrets force-sync',
    );
  });
});
