import { externalsecretMapping } from '../../../lambda/checks/external-secrets/externalsecret-mapping.js';
import { runChecks } from '../../../lambda/checks/runner.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { TokenSource } from '../../../lambda/snapshot/snapshot.js';
import type { BuildOptions } from '../../support/snapshot-builder.js';
import { failed } from '../../support/snapshot-builder.js';
import {
  CANARY,
  TOKEN_ID,
  build,
  datadogNamespace,
  externalSecret,
  fargateApp,
  golangNamespace,
  healthyDocs,
  namespace,
  secret,
  secretStore,
  summary,
  syncedSecret,
  tokenRef,
  type EsOpts,
} from '../token/support.js';

type Opts = BuildOptions & { source?: Partial<TokenSource> };

const HEALTHY = [
  'PASS maps-token:token datadog/datadog-secrets',
  'PASS maps-token:token golang/golang-secrets',
];
const asJsonProperty: Opts = {
  settings: { tokenSecretProperty: 'token' },
  source: { property: 'token' },
};

function golang(es: EsOpts, app = {}): Raw[] {
  return [...datadogNamespace(), ...golangNamespace(CANARY.token, es, app)];
}

describe('externalsecret-mapping', () => {
  it.each<{ name: string; docs: Raw[]; opts?: Opts; expected: string[] }>([
    {
      name: 'ExternalSecrets mapping the token into the key agents read pass',
      docs: healthyDocs(),
      expected: HEALTHY,
    },
    {
      name: 'a target name defaulted from the ExternalSecret name counts',
      docs: golang({ target: undefined }),
      expected: HEALTHY,
    },
    {
      name: 'a remote key given as the secret ARN counts',
      docs: golang({
        data: [
          { secretKey: 'datadog_api_key', key: 'datadog/apikey' },
          {
            secretKey: 'token',
            key: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog/cluster-agent-token-Xk3pQ9',
          },
        ],
      }),
      expected: HEALTHY,
    },
    {
      name: 'a token key filled from another remote key fails',
      docs: golang({
        data: [
          { secretKey: 'datadog_api_key', key: 'datadog/apikey' },
          { secretKey: 'token', key: 'datadog/old-cluster-agent-token' },
        ],
      }),
      expected: [
        'PASS maps-token:token datadog/datadog-secrets',
        'FAIL wrong-remote-key:token golang/golang-secrets',
      ],
    },
    {
      name: 'an ExternalSecret without the key the agents read fails',
      docs: golang({ data: [{ secretKey: 'datadog_api_key', key: 'datadog/apikey' }] }),
      expected: [
        'PASS maps-token:token datadog/datadog-secrets',
        'FAIL token-key-missing:token golang/golang-secrets',
      ],
    },
    {
      name: 'a templated ExternalSecret is not second-guessed',
      docs: golang({ data: [{ secretKey: 'tok', key: 'datadog/other' }], template: true }),
      expected: ['PASS maps-token:token datadog/datadog-secrets'],
    },
    {
      name: 'a property where the token is a plain string fails',
      docs: golang({
        data: [
          { secretKey: 'datadog_api_key', key: 'datadog/apikey' },
          { secretKey: 'token', key: TOKEN_ID, property: 'token' },
        ],
      }),
      expected: [
        'PASS maps-token:token datadog/datadog-secrets',
        'FAIL wrong-property:token golang/golang-secrets',
      ],
    },
    {
      name: 'no property where the token is a JSON property fails',
      docs: [
        ...datadogNamespace(CANARY.token, {
          data: [{ secretKey: 'token', key: TOKEN_ID, property: 'token' }],
        }),
        ...golangNamespace(),
      ],
      opts: asJsonProperty,
      expected: [
        'PASS maps-token:token datadog/datadog-secrets',
        'FAIL wrong-property:token golang/golang-secrets',
      ],
    },
    {
      name: 'dataFrom.extract of a JSON token secret provides the configured property as a key',
      docs: [
        namespace('golang'),
        ...fargateApp('golang'),
        syncedSecret('golang', 'golang-secrets', {
          token: CANARY.token,
          datadog_api_key: CANARY.apiKey,
        }),
        {
          ...externalSecret('golang', 'golang-secrets', { data: [] }),
          spec: {
            ...externalSecret('golang', 'golang-secrets').spec,
            data: [],
            dataFrom: [{ extract: { key: TOKEN_ID } }],
          },
        },
        secretStore('golang', 'golang'),
      ],
      opts: asJsonProperty,
      expected: ['PASS maps-token:token golang/golang-secrets'],
    },
    {
      name: 'agents reading a hand-made Secret while an ExternalSecret writes the token elsewhere fail',
      docs: [
        ...golang({}, { env: [tokenRef('go-secrets')] }),
        secret('golang', 'go-secrets', { token: CANARY.token }, { manager: 'kubectl' }),
      ],
      expected: ['FAIL unmanaged-token-secret:token golang/go-secrets', ...HEALTHY],
    },
    {
      name: 'a reference to a Secret that does not exist is left to token-ref-resolves',
      docs: golang({}, { env: [tokenRef('go-secrets')] }),
      expected: HEALTHY,
    },
    {
      name: 'creationPolicy Merge without an existing target fails',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.token, { creationPolicy: 'Merge' }).filter(
          (d) => d.kind !== 'Secret',
        ),
      ],
      expected: [
        'PASS maps-token:token datadog/datadog-secrets',
        'FAIL target-missing-for-policy golang/golang-secrets',
        'PASS maps-token:token golang/golang-secrets',
      ],
    },
    {
      name: 'creationPolicy None without an existing target fails',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.token, { creationPolicy: 'None' }).filter(
          (d) => d.kind !== 'Secret',
        ),
      ],
      expected: [
        'PASS maps-token:token datadog/datadog-secrets',
        'FAIL target-missing-for-policy golang/golang-secrets',
        'PASS maps-token:token golang/golang-secrets',
      ],
    },
    {
      name: 'creationPolicy Merge into an existing target passes',
      docs: golang({ creationPolicy: 'Merge' }),
      expected: HEALTHY,
    },
    {
      name: 'without External Secrets Operator installed there is nothing to judge',
      docs: [namespace('golang')],
      opts: {
        kube: {
          externalSecrets: { status: 'not-installed', detail: 'external-secrets.io not served' },
        },
      },
      expected: [],
    },
  ])('$name', ({ docs, opts, expected }) => {
    expect(summary(externalsecretMapping.run(build(docs, opts)))).toEqual(expected);
  });

  it('gives the data[] entry to add, ready to apply', () => {
    const r = externalsecretMapping
      .run(build(golang({ data: [{ secretKey: 'datadog_api_key', key: 'datadog/apikey' }] })))
      .find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain(
      'ExternalSecret golang/golang-secrets writes Secret golang/golang-secrets (read by Pod golang/golang-app-7d9f8b6c5-abcde (datadog-agent)) but has no data[] entry with secretKey "token"',
    );
    expect(r.remediation).toContain(
      'spec:\n  target:\n    name: golang-secrets\n  data:\n    - secretKey: token\n      remoteRef:\n        key: datadog/cluster-agent-token',
    );
  });

  it('includes the configured property in the snippet', () => {
    const r = externalsecretMapping
      .run(
        build(
          [
            ...datadogNamespace(CANARY.token, {
              data: [{ secretKey: 'token', key: TOKEN_ID, property: 'token' }],
            }),
            ...golangNamespace(),
          ],
          asJsonProperty,
        ),
      )
      .find((x) => x.status === 'FAIL')!;
    expect(r.remediation).toContain(
      '        key: datadog/cluster-agent-token\n        property: token',
    );
  });

  it('names both Secrets and both fixes for a hand-made token Secret', () => {
    const [r] = externalsecretMapping.run(
      build([
        ...golang({}, { env: [tokenRef('go-secrets')] }),
        secret('golang', 'go-secrets', { token: CANARY.token }, { manager: 'kubectl' }),
      ]),
    );
    expect(r!.message).toContain(
      'read the token from Secret golang/go-secrets, which no ExternalSecret writes',
    );
    expect(r!.message).toContain(
      'ExternalSecret golang/golang-secrets writes the token into Secret golang/golang-secrets',
    );
    expect(r!.remediation).toContain(
      'set spec.target.name: go-secrets in ExternalSecret golang/golang-secrets',
    );
    expect(r!.remediation).toContain(
      'set DD_CLUSTER_AGENT_AUTH_TOKEN.valueFrom.secretKeyRef.name to "golang-secrets"',
    );
  });

  it('is high severity and not evaluated when ExternalSecrets could not be listed', () => {
    expect(externalsecretMapping.severity).toBe('high');
    const mine = runChecks(
      build(healthyDocs(), {
        kube: { externalSecrets: failed('externalsecrets.external-secrets.io') },
      }),
      [externalsecretMapping],
    ).filter((f) => f.checkId === 'externalsecret-mapping');
    expect(mine.map((f) => `${f.status} ${f.messageId}`)).toEqual(['ERROR not-evaluated']);
  });
});
