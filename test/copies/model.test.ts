/**
 * The one copy model: every Secret key holding the token, the API key or the app key, with its
 * readers (containers, workloads not yet running, injected-sidecar requests by the admission
 * controller's effective selector, DatadogAgents) and writers (ExternalSecrets, chains).
 */
import { datadogKeysMatch } from '../../lambda/checks/keys/datadog-keys-match.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { digestSecret } from '../../lambda/snapshot/secret-digest.js';
import type { AwsSnapshot, ClusterSnapshot, TokenSource } from '../../lambda/snapshot/snapshot.js';
import { ok } from '../support/snapshot-builder.js';
import {
  CANARY,
  TOKEN_ID,
  build,
  clusterAgent,
  datadogNamespace,
  externalSecret,
  fargateApp,
  namespace,
  secret,
  summary,
  syncedSecret,
  tokenRef,
  tokenSourceOf,
} from '../checks/token/support.js';
import { kubernetesStore } from '../checks/copies/support.js';
import { copiesOf, copyModel, type HeldKey } from '../../lambda/snapshot/copies/model.js';
import { readerDetail } from '../../lambda/snapshot/copies/readers.js';
import type { CopiedValue } from '../../lambda/snapshot/copies/values.js';

const OLD_API_KEY = 'CANARY-dd-api-key-OLD-9f8e7d6c5b4a3f2e1d0c';

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

const INJECTION_ON = [
  { name: 'DD_ADMISSION_CONTROLLER_ENABLED', value: 'true' },
  { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_ENABLED', value: 'true' },
  { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROVIDER', value: 'fargate' },
  { name: 'DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME', value: 'datadog-agent-cluster-agent' },
];

/** The Cluster Agent injecting sidecars into pods labelled `team: shop` (not the bare label). */
function selectorCa(extra: Raw[] = []): Raw[] {
  return clusterAgent('datadog', [
    tokenRef('datadog-secrets'),
    ...INJECTION_ON,
    {
      name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS',
      value: '[{"objectSelector":{"matchLabels":{"team":"shop"}}}]',
    },
    ...extra,
  ]);
}

/** The datadog namespace of datadogNamespace() with another Cluster Agent. */
function datadogWith(ca: Raw[]): Raw[] {
  // datadogNamespace() is the namespace, the Cluster Agent (Deployment, Pod), then its Secret,
  // ExternalSecret and store.
  return [namespace('datadog'), ...ca, ...datadogNamespace().slice(3)];
}

/** An application pod with no agent container of its own, labelled `labels`. */
function appWithoutAgent(ns: string, labels: Record<string, string>): Raw[] {
  return [
    namespace(ns),
    ...fargateApp(ns, { labels, containers: [{ name: 'app', image: `${ns}:1`, env: [] }] }),
  ];
}

function keysOf(s: ClusterSnapshot, value: CopiedValue): string[] {
  return copyModel(s).keys[value].map(
    (k: HeldKey) =>
      `${k.namespace}/${k.secret}/${k.key}: ${[...new Set(k.users.map(readerDetail))].join(', ')}`,
  );
}

describe('the one copy model', () => {
  it.each<{ name: string; docs: Raw[]; value: CopiedValue; expected: string[] }>([
    {
      name: "a pod the admission controller's effective selector picks reads datadog-secret api-key through its sidecar to be injected",
      docs: [...datadogWith(selectorCa()), ...appWithoutAgent('shop', { team: 'shop' })],
      value: 'api-key',
      expected: [
        'datadog/datadog-secrets/api-key: Pod datadog/datadog-agent-cluster-agent-6b9f7c5d4-x2k8q (cluster-agent)',
        'shop/datadog-secret/api-key: Pod shop/golang-app-7d9f8b6c5-abcde (sidecar to be injected)',
      ],
    },
    {
      name: 'a pod carrying only the bare sidecar label is no reader when the selector is another one',
      docs: [
        ...datadogWith(selectorCa()),
        ...appWithoutAgent('web', { 'agent.datadoghq.com/sidecar': 'fargate' }),
      ],
      value: 'api-key',
      expected: [
        'datadog/datadog-secrets/api-key: Pod datadog/datadog-agent-cluster-agent-6b9f7c5d4-x2k8q (cluster-agent)',
      ],
    },
    {
      name: 'the injected sidecar reads the token from datadog-secret too',
      docs: [...datadogWith(selectorCa()), ...appWithoutAgent('shop', { team: 'shop' })],
      value: 'token',
      expected: [
        'datadog/datadog-secrets/token: Pod datadog/datadog-agent-cluster-agent-6b9f7c5d4-x2k8q (cluster-agent)',
        'shop/datadog-secret/token: Pod shop/golang-app-7d9f8b6c5-abcde (sidecar to be injected)',
      ],
    },
    {
      name: "a sidecar profile pointing DD_API_KEY at another Secret key moves the sidecar's reader there",
      docs: [
        ...datadogWith(
          selectorCa([
            {
              name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES',
              value:
                '[{"env":[{"name":"DD_API_KEY","valueFrom":{"secretKeyRef":{"name":"shop-keys","key":"dd-api"}}}]}]',
            },
          ]),
        ),
        ...appWithoutAgent('shop', { team: 'shop' }),
      ],
      value: 'api-key',
      expected: [
        'datadog/datadog-secrets/api-key: Pod datadog/datadog-agent-cluster-agent-6b9f7c5d4-x2k8q (cluster-agent)',
        'shop/shop-keys/dd-api: Pod shop/golang-app-7d9f8b6c5-abcde (sidecar to be injected)',
      ],
    },
    {
      name: 'a workload whose pods do not run reads DD_API_KEY through its template',
      docs: [
        ...datadogNamespace(),
        namespace('golang'),
        ...fargateApp('golang', {
          noPods: true,
          env: [
            {
              name: 'DD_API_KEY',
              valueFrom: { secretKeyRef: { name: 'golang-secrets', key: 'datadog_api_key' } },
            },
          ],
        }),
      ],
      value: 'api-key',
      expected: [
        'datadog/datadog-secrets/api-key: Pod datadog/datadog-agent-cluster-agent-6b9f7c5d4-x2k8q (cluster-agent)',
        'golang/golang-secrets/datadog_api_key: Deployment golang/golang-app (datadog-agent)',
      ],
    },
    {
      name: 'an app key nobody reads is still a copy when an ExternalSecret writes it',
      docs: datadogNamespace(),
      value: 'app-key',
      expected: ['datadog/datadog-secrets/app-key: '],
    },
    {
      name: "a DatadogAgent's credentials are read by the Operator's agents, named by their field",
      docs: [
        namespace('datadog'),
        secret('datadog', 'datadog-keys', { 'api-key': CANARY.apiKey }),
        {
          apiVersion: 'datadoghq.com/v2alpha1',
          kind: 'DatadogAgent',
          metadata: { name: 'datadog', namespace: 'datadog', uid: 'dda-1' },
          spec: {
            global: {
              credentials: { apiSecret: { secretName: 'datadog-keys', keyName: 'api-key' } },
            },
          },
        },
      ],
      value: 'api-key',
      expected: [
        'datadog/datadog-keys/api-key: DatadogAgent datadog/datadog (spec.global.credentials.apiSecret)',
      ],
    },
  ])('$name', ({ docs, value, expected }) => {
    expect(keysOf(build(docs), value)).toEqual(expected);
  });

  it('keys-match compares the sidecar copy the effective selector implies, not the bare label (bug in the earlier key model)', () => {
    const s = build(
      [
        ...datadogWith(selectorCa()),
        ...appWithoutAgent('shop', { team: 'shop' }),
        secret('shop', 'datadog-secret', { token: CANARY.token, 'api-key': OLD_API_KEY }),
        ...appWithoutAgent('web', { 'agent.datadoghq.com/sidecar': 'fargate' }),
        secret('web', 'datadog-secret', { token: CANARY.token, 'api-key': OLD_API_KEY }),
      ],
      { aws: KEYS },
    );
    expect(summary(datadogKeysMatch.run(s))).toEqual([
      'PASS matches-source:api-key datadog/datadog-secrets',
      'PASS matches-source:app-key datadog/datadog-secrets',
      'FAIL mismatch:api-key shop/datadog-secret',
    ]);
  });

  it('finds the copies of one key by index, through a kubernetes-provider chain, and counts the chained token as a token key', () => {
    const s = build([
      ...datadogNamespace(),
      namespace('shop'),
      kubernetesStore('datadog-namespace', 'datadog'),
      externalSecret('shop', 'dd-token', {
        store: { name: 'datadog-namespace', kind: 'ClusterSecretStore' },
        data: [{ secretKey: 'token', key: 'datadog-secrets', property: 'token' }],
      }),
      syncedSecret('shop', 'dd-token', { token: CANARY.token }),
    ]);
    const copies = copiesOf(s, 'shop', 'dd-token', 'token');
    expect(copies.map((c) => `${c.value} ${c.writer.hops.map((h) => h.es.meta.name)}`)).toEqual([
      'token dd-token,datadog-secrets',
    ]);
    expect(copiesOf(s, 'shop', 'dd-token', 'other')).toEqual([]);
    const model = copyModel(s);
    expect(model.heldKey('token', 'shop', 'dd-token', 'token')?.copies).toEqual(copies);
    expect(model.keys.token.map((k) => `${k.namespace}/${k.secret}/${k.key}`)).toEqual([
      'datadog/datadog-secrets/token',
      'shop/dd-token/token',
    ]);
    expect(model.heldKey('token', 'datadog', 'datadog-secrets', 'token')?.mappings).toHaveLength(1);
    expect(TOKEN_ID).toBe('datadog/cluster-agent-token');
  });

  it("names the Operator as the writer of a DatadogAgent's literal API key, and fixes it in the DatadogAgent", () => {
    const s = build(
      [
        ...datadogNamespace(),
        secret(
          'datadog',
          'datadog-secret',
          { api_key: OLD_API_KEY },
          { manager: 'datadog-operator' },
        ),
        {
          apiVersion: 'datadoghq.com/v2alpha1',
          kind: 'DatadogAgent',
          metadata: { name: 'datadog', namespace: 'datadog', uid: 'dda-1' },
          spec: { global: { credentials: { apiKey: 'CANARY-literal-api-key-in-dda' } } },
        },
      ],
      { aws: KEYS },
    );
    const model = copyModel(s);
    expect(
      model.heldKey('api-key', 'datadog', 'datadog-secret', 'api_key')?.operator?.datadogAgent.meta
        .name,
    ).toBe('datadog');
    expect(
      model.heldKey('token', 'datadog', 'datadog-token', 'token')?.operator?.datadogAgent.meta.name,
    ).toBe('datadog');
    const r = datadogKeysMatch.run(s).find((x) => x.messageId === 'mismatch:api_key')!;
    expect(r.status).toBe('FAIL');
    expect(r.message).toContain(
      'Written by the Datadog Operator from the literal spec.global.credentials.apiKey of DatadogAgent datadog/datadog',
    );
    expect(r.remediation).toContain(
      'In DatadogAgent datadog/datadog replace spec.global.credentials.apiKey with spec.global.credentials.apiSecret: {secretName: datadog-secrets, keyName: api-key} (already written from Secrets Manager by ExternalSecret datadog/datadog-secrets)',
    );
    expect(JSON.stringify(r)).not.toContain('CANARY-literal-api-key-in-dda');
  });

  it('shares one model per snapshot and keeps no secret value', () => {
    const s = build([...datadogWith(selectorCa()), ...appWithoutAgent('shop', { team: 'shop' })]);
    expect(copyModel(s)).toBe(copyModel(s));
    const text = JSON.stringify(
      (['token', 'api-key', 'app-key'] as const).flatMap((v) =>
        copyModel(s).keys[v].map((k) => ({ ...k, users: k.users.map(readerDetail) })),
      ),
    );
    for (const canary of [CANARY.token, CANARY.apiKey, CANARY.appKey]) {
      expect(text).not.toContain(canary);
    }
  });
});
