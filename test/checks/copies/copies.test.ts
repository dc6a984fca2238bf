import { clusterexternalsecretCoverage } from '../../../lambda/checks/external-secrets/clusterexternalsecret-coverage.js';
import { copyFollowsSource } from '../../../lambda/checks/external-secrets/copy-follows-source.js';
import { secretSecondWriter } from '../../../lambda/checks/external-secrets/secret-second-writer.js';
import { tokenConsumersMatch } from '../../../lambda/checks/token/token-consumers-match.js';
import { tokenStaleInPods } from '../../../lambda/checks/token/token-stale-in-pods.js';
import type { AwsSnapshot, ClusterSnapshot } from '../../../lambda/snapshot/snapshot.js';
import { failed, ok } from '../../support/snapshot-builder.js';
import { tokenRefResolves } from '../../../lambda/checks/token/token-ref-resolves.js';
import { ddSiteConsistent } from '../../../lambda/checks/wiring/dd-site-consistent.js';
import type { Check } from '../../../lambda/checks/check.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import {
  CANARY,
  TOKEN_ID,
  build,
  datadogNamespace,
  externalSecret,
  fargateApp,
  golangNamespace,
  healthyDocs,
  secret,
  summary,
  syncedSecret,
  tokenRef,
  tokenSourceOf,
} from '../token/support.js';
import {
  cesChild,
  clusterExternalSecret,
  clusterStore,
  clusterPushSecret,
  cpsChild,
  kubernetesStore,
  pushSecret,
  type CesOpts,
} from './support.js';
import { copyModel } from '../../../lambda/snapshot/copies/model.js';
import { copyPath, copyWriterLabel } from '../../../lambda/snapshot/copies/writers.js';

/** Every copy the model knows, in its order. */
const copiesIn = (snapshot: ClusterSnapshot) => copyModel(snapshot).copies;

const AGENTS_LABEL = { 'datadog.example.com/agents': 'true' };

function ns(name: string, labels: Record<string, string> = {}): Raw {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

/** An app namespace whose pods ask for an injected sidecar (reads `datadog-secret`). */
function injectedApp(name: string, labels: Record<string, string> = AGENTS_LABEL): Raw[] {
  return [
    ns(name, labels),
    ...fargateApp(name, {
      name: `${name}-api`,
      labels: { 'agent.datadoghq.com/sidecar': 'fargate' },
      containers: [{ name: 'app', image: `${name}:1`, env: [] }],
    }),
  ];
}

function fanOut(o: CesOpts = {}, children: string[] = ['shop']): Raw[] {
  return [
    clusterStore('aws-secrets-manager'),
    clusterExternalSecret('datadog-secret', {
      data: [
        { secretKey: 'token', key: TOKEN_ID },
        { secretKey: 'api-key', key: 'datadog/apikey' },
      ],
      provisioned: children,
      ...o,
    }),
    ...children.flatMap((c) => [
      cesChild(c, 'datadog-secret', {
        data: [
          { secretKey: 'token', key: TOKEN_ID },
          { secretKey: 'api-key', key: 'datadog/apikey' },
        ],
        ...o,
      }),
      secret(c, 'datadog-secret', { token: CANARY.token, 'api-key': CANARY.apiKey }),
    ]),
  ];
}

const run = (check: Check, docs: Raw[]) => summary(check.run(build(docs)));

describe('clusterexternalsecret-coverage', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'a selected namespace with its child passes',
      docs: [...datadogNamespace(), ...injectedApp('shop'), ...fanOut()],
      expected: ['PASS provisioned:shop datadog-secret'],
    },
    {
      name: 'a namespace listed in failedNamespaces fails with the reason',
      docs: [
        ...datadogNamespace(),
        ...injectedApp('shop'),
        ...fanOut({ failed: [{ namespace: 'shop', reason: 'secret already exists' }] }, []),
      ],
      expected: ['FAIL failed:shop datadog-secret'],
    },
    {
      name: 'a namespace running agents that no selector matches fails',
      docs: [...datadogNamespace(), ...injectedApp('billing', {}), ...fanOut()],
      expected: ['FAIL not-selected:billing datadog-secret'],
    },
    {
      name: 'a namespace named in the older spec.namespaces is selected',
      docs: [
        ...datadogNamespace(),
        ...injectedApp('billing', {}),
        ...fanOut({ namespaces: ['billing'] }, ['billing']),
      ],
      expected: ['PASS provisioned:billing datadog-secret'],
    },
    {
      name: 'a selected namespace without a child fails',
      docs: [
        ...datadogNamespace(),
        ...injectedApp('shop'),
        ...fanOut({}, []).filter((d) => d.kind !== 'ExternalSecret'),
      ],
      expected: ['FAIL no-child:shop datadog-secret'],
    },
    {
      name: 'a ClusterExternalSecret that carries no Datadog value is not evaluated',
      docs: [
        ...datadogNamespace(),
        ...injectedApp('shop'),
        clusterExternalSecret('datadog-secret', {
          data: [{ secretKey: 'token', key: 'payments/token' }],
        }),
      ],
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(run(clusterexternalsecretCoverage, docs)).toEqual(expected);
  });

  it('names the ClusterExternalSecret, the namespace, the reason and the fix', () => {
    const [failedNs] = clusterexternalsecretCoverage.run(
      build([
        ...datadogNamespace(),
        ...injectedApp('shop'),
        ...fanOut(
          { failed: [{ namespace: 'shop', reason: 'could not create ExternalSecret: forbidden' }] },
          [],
        ),
      ]),
    );
    expect(failedNs!.message).toContain(
      'ClusterExternalSecret datadog-secret failed in namespace shop: could not create ExternalSecret: forbidden',
    );
    expect(failedNs!.message).toContain(
      'Secret shop/datadog-secret is read by Pod shop/shop-api-7d9f8b6c5-abcde, Deployment shop/shop-api',
    );
    expect(failedNs!.remediation).toContain(
      'kubectl annotate clusterexternalsecret datadog-secret force-sync=$(date +%s) --overwrite',
    );
    const [unselected] = clusterexternalsecretCoverage.run(
      build([...datadogNamespace(), ...injectedApp('billing', {}), ...fanOut()]),
    );
    expect(unselected!.remediation).toContain(
      'kubectl label namespace billing datadog.example.com/agents=true',
    );
  });
});

describe('ClusterExternalSecret children as ESO marks them', () => {
  /** The child of `fanOut` in shop, with its metadata changed. */
  const withChildMeta = (meta: (m: Raw) => Raw): Raw[] =>
    [...datadogNamespace(), ...injectedApp('shop'), ...fanOut()].map((d) =>
      d.kind === 'ExternalSecret' && d.metadata.namespace === 'shop'
        ? { ...d, metadata: meta(d.metadata) }
        : d,
    );

  it('recognises a child by its controller ownerReference alone (ESO sets no label on it)', () => {
    const docs = withChildMeta((m) => ({ ...m, labels: {} }));
    expect(run(clusterexternalsecretCoverage, docs)).toEqual([
      'PASS provisioned:shop datadog-secret',
    ]);
  });

  it('does not take a label naming the ClusterExternalSecret for a child', () => {
    const docs = withChildMeta((m) => ({
      ...m,
      labels: { 'external-secrets.io/cluster-external-secret': 'datadog-secret' },
      ownerReferences: [],
    }));
    expect(run(clusterexternalsecretCoverage, docs)).toEqual(['FAIL no-child:shop datadog-secret']);
    const copy = copiesIn(build(docs)).find((c) => c.namespace === 'shop')!;
    expect(copyWriterLabel(copy.writer)).toBe('ExternalSecret shop/datadog-secret');
  });

  it('does not take an ownerReference that is not the controller for a child', () => {
    const docs = withChildMeta((m) => ({
      ...m,
      ownerReferences: m.ownerReferences.map((o: Raw) => ({ ...o, controller: false })),
    }));
    expect(run(clusterexternalsecretCoverage, docs)).toEqual(['FAIL no-child:shop datadog-secret']);
  });

  it('says the child is missing without naming a label ESO does not set', () => {
    const [r] = clusterexternalsecretCoverage.run(
      build([
        ...datadogNamespace(),
        ...injectedApp('shop'),
        ...fanOut({}, []).filter((d) => d.kind !== 'ExternalSecret'),
      ]),
    );
    expect(r!.message).not.toContain('external-secrets.io/cluster-external-secret');
    expect(r!.message).toContain(
      'no ExternalSecret shop/datadog-secret controlled by it (ownerReference) exists',
    );
  });
});

describe('the copies model', () => {
  it('follows a kubernetes-provider chain to Secrets Manager and sums the refresh intervals', () => {
    const docs = [
      ...datadogNamespace(),
      ns('shop'),
      kubernetesStore('datadog-namespace', 'datadog'),
      externalSecret('shop', 'dd-token', {
        store: { name: 'datadog-namespace', kind: 'ClusterSecretStore' },
        refreshInterval: '15m',
        data: [{ secretKey: 'token', key: 'datadog-secrets', property: 'token' }],
      }),
    ];
    const copy = copiesIn(build(docs)).find((c) => c.namespace === 'shop')!;
    expect(copy.value).toBe('token');
    expect(copy.resolution).toBe('secrets-manager');
    expect(copy.writer.hops.map((h) => h.es.meta.name)).toEqual(['dd-token', 'datadog-secrets']);
    expect(copy.graceMs).toBe((15 + 60 + 5) * 60_000);
    expect(copyPath(copy)).toBe(
      'Secrets Manager datadog/cluster-agent-token -> Secret datadog/datadog-secrets key "token" -> Secret shop/dd-token key "token"',
    );
  });

  it('names a ClusterExternalSecret child as such', () => {
    const copies = copiesIn(build([...datadogNamespace(), ...injectedApp('shop'), ...fanOut()]));
    const child = copies.find((c) => c.namespace === 'shop' && c.key === 'api-key')!;
    expect(child.value).toBe('api-key');
    expect(copyWriterLabel(child.writer)).toBe(
      'ExternalSecret shop/datadog-secret (child of ClusterExternalSecret datadog-secret)',
    );
  });

  it('ignores entries that read none of the configured secrets', () => {
    const copies = copiesIn(
      build([
        ...datadogNamespace(),
        externalSecret('golang', 'db', { data: [{ secretKey: 'password', key: 'golang/db' }] }),
      ]),
    );
    expect(copies.map((c) => `${c.namespace}/${c.secret}/${c.key}:${c.value}`)).toEqual([
      'datadog/datadog-secrets/api-key:api-key',
      'datadog/datadog-secrets/app-key:app-key',
      'datadog/datadog-secrets/token:token',
    ]);
  });
});

describe('copy-follows-source', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'periodic, unpinned, owned copies pass',
      docs: healthyDocs(),
      expected: [
        'PASS follows:api-key datadog/datadog-secrets',
        'PASS follows:app-key datadog/datadog-secrets',
        'PASS follows:token datadog/datadog-secrets',
        'PASS follows:datadog_api_key golang/golang-secrets',
        'PASS follows:token golang/golang-secrets',
      ],
    },
    {
      name: 'a pinned remoteRef.version fails even when the value matches',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.token, {
          data: [{ secretKey: 'token', key: TOKEN_ID, version: 'AWSPREVIOUS' } as never],
        }),
      ].map(pin),
      expected: [
        'PASS follows:api-key datadog/datadog-secrets',
        'PASS follows:app-key datadog/datadog-secrets',
        'PASS follows:token datadog/datadog-secrets',
        'FAIL pinned-version:token golang/golang-secrets',
      ],
    },
    {
      name: 'refreshPolicy CreatedOnce fails',
      docs: [...golangNamespace(CANARY.token, { refreshPolicy: 'CreatedOnce' })],
      expected: [
        'FAIL refreshes-once:datadog_api_key golang/golang-secrets',
        'FAIL refreshes-once:token golang/golang-secrets',
      ],
    },
    {
      name: 'creationPolicy Orphan fails',
      docs: [...golangNamespace(CANARY.token, { creationPolicy: 'Orphan' })],
      expected: [
        'FAIL orphan-target:datadog_api_key golang/golang-secrets',
        'FAIL orphan-target:token golang/golang-secrets',
      ],
    },
  ])('$name', ({ docs, expected }) => {
    expect(run(copyFollowsSource, docs)).toEqual(expected);
  });

  it('gives the exact edit for a pinned version in a ClusterExternalSecret', () => {
    const docs = [
      ...datadogNamespace(),
      ...injectedApp('shop'),
      ...fanOut({ data: [{ secretKey: 'token', key: TOKEN_ID, version: 'uuid/6f1c' }] }),
    ];
    const r = copyFollowsSource.run(build(docs)).find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain('pins remoteRef.version "uuid/6f1c"');
    expect(r.remediation).toContain(
      'Remove remoteRef.version "uuid/6f1c" from the data[] entry with remoteRef.key datadog/cluster-agent-token in spec.externalSecretSpec of ClusterExternalSecret datadog-secret',
    );
  });
});

/** The support builder has no version field: add it to the golang token entry. */
function pin(d: Raw): Raw {
  if (d.kind !== 'ExternalSecret' || d.metadata.namespace !== 'golang') return d;
  return {
    ...d,
    spec: {
      ...d.spec,
      data: d.spec.data.map((e: Raw) =>
        e.secretKey === 'token'
          ? { ...e, remoteRef: { ...e.remoteRef, version: 'AWSPREVIOUS' } }
          : e,
      ),
    },
  };
}

describe('secret-second-writer', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'a PushSecret into the token secret fails',
      docs: [
        ...healthyDocs(),
        clusterStore('aws-secrets-manager'),
        pushSecret('datadog', 'push-token', {
          secret: 'datadog-secrets',
          secretKey: 'token',
          remoteKey: TOKEN_ID,
        }),
      ],
      expected: ['FAIL pushes-into-source:token datadog/push-token'],
    },
    {
      name: 'a PushSecret into the API key secret fails',
      docs: [
        ...healthyDocs(),
        clusterStore('aws-secrets-manager'),
        pushSecret('datadog', 'push-key', {
          secret: 'datadog-secrets',
          secretKey: 'api-key',
          remoteKey: 'datadog/apikey',
        }),
      ],
      expected: ['FAIL pushes-into-source:api-key datadog/push-key'],
    },
    {
      name: 'a PushSecret into another secret passes',
      docs: [
        ...healthyDocs(),
        clusterStore('aws-secrets-manager'),
        pushSecret('golang', 'push-db', {
          secret: 'db',
          secretKey: 'password',
          remoteKey: 'golang/db',
        }),
      ],
      expected: ['PASS no-push-into-source *'],
    },
    {
      name: 'a PushSecret into a non-AWS store is not a second writer',
      docs: [
        ...healthyDocs(),
        kubernetesStore('other-cluster', 'datadog'),
        pushSecret('datadog', 'mirror', {
          secret: 'datadog-secrets',
          secretKey: 'token',
          remoteKey: TOKEN_ID,
          store: { name: 'other-cluster', kind: 'ClusterSecretStore' },
        }),
      ],
      expected: ['PASS no-push-into-source *'],
    },
    { name: 'no PushSecret, nothing to say', docs: healthyDocs(), expected: [] },
  ])('$name', ({ docs, expected }) => {
    expect(run(secretSecondWriter, docs)).toEqual(expected);
  });

  it('names both writers', () => {
    const [r] = secretSecondWriter.run(
      build([
        ...healthyDocs(),
        clusterStore('aws-secrets-manager'),
        pushSecret('datadog', 'push-token', {
          secret: 'datadog-secrets',
          secretKey: 'token',
          remoteKey: TOKEN_ID,
        }),
      ]),
    );
    expect(r!.message).toContain(
      'PushSecret datadog/push-token pushes key "token" of Secret datadog/datadog-secrets into datadog/cluster-agent-token',
    );
    expect(r!.message).toContain('second writer beside');
    expect(r!.remediation).toContain('kubectl -n datadog delete pushsecret push-token');
  });
});

describe('secret-second-writer: PushSecrets a ClusterPushSecret creates', () => {
  const parent = clusterPushSecret('backup-token', {
    secret: 'datadog-secret',
    secretKey: 'token',
    remoteKey: TOKEN_ID,
    provisioned: ['shop', 'billing'],
  });
  const children = [cpsChild('billing', parent), cpsChild('shop', parent)];

  it('reports the children once, on their ClusterPushSecret', () => {
    expect(
      run(secretSecondWriter, [
        ...healthyDocs(),
        clusterStore('aws-secrets-manager'),
        parent,
        ...children,
      ]),
    ).toEqual(['FAIL pushes-into-source:token backup-token']);
  });

  it('puts the fix on the parent, never on a child that ESO recreates', () => {
    const [r] = secretSecondWriter.run(
      build([...healthyDocs(), clusterStore('aws-secrets-manager'), parent, ...children]),
    );
    expect(r!.resource).toEqual({ kind: 'ClusterPushSecret', name: 'backup-token' });
    expect(r!.message).toContain(
      'ClusterPushSecret backup-token creates PushSecret billing/backup-token, shop/backup-token',
    );
    expect(r!.message).toContain('ESO recreates a deleted child');
    expect(r!.remediation).toContain(
      'Change ClusterPushSecret backup-token: set spec.pushSecretSpec.data[].match.remoteRef.remoteKey datadog/cluster-agent-token to another secret',
    );
    expect(r!.remediation).toContain('spec.pushSecretSpec.selector.secret.name');
    expect(r!.remediation).toContain('spec.namespaceSelectors');
    expect(r!.remediation).not.toMatch(/delete pushsecret/);
  });

  it('names the parent of a child even when the ClusterPushSecret was not collected', () => {
    const [r] = secretSecondWriter.run(
      build([...healthyDocs(), clusterStore('aws-secrets-manager'), ...children], {
        kube: { clusterPushSecrets: failed('clusterpushsecrets.external-secrets.io', 403) },
      }),
    );
    expect(r!.resource).toEqual({ kind: 'ClusterPushSecret', name: 'backup-token' });
    expect(r!.remediation).not.toMatch(/delete pushsecret/);
  });

  it('evaluates a ClusterPushSecret from its spec when its children could not be listed', () => {
    const [r] = secretSecondWriter.run(
      build([...healthyDocs(), clusterStore('aws-secrets-manager'), parent], {
        kube: { pushSecrets: failed('pushsecrets.external-secrets.io', 403) },
      }),
    );
    expect(r!.resource).toEqual({ kind: 'ClusterPushSecret', name: 'backup-token' });
    expect(r!.message).toContain('billing/backup-token, shop/backup-token');
    expect(r!.message).toContain('no child was collected');
  });
});

describe('dd-site-consistent', () => {
  const site = (value: string) => ({ name: 'DD_SITE', value });
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'agents on the default site like the Cluster Agent pass',
      docs: healthyDocs(),
      expected: ['PASS same-site:datadog-agent golang/golang-app-7d9f8b6c5-abcde'],
    },
    {
      name: 'an agent on another site fails',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.token, {}, { env: [site('datadoghq.eu')] }),
      ],
      expected: ['FAIL site-mismatch:datadog-agent golang/golang-app-7d9f8b6c5-abcde'],
    },
    {
      name: 'an explicit DD_SITE equal to the default passes',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.token, {}, { env: [site('datadoghq.com')] }),
      ],
      expected: ['PASS same-site:datadog-agent golang/golang-app-7d9f8b6c5-abcde'],
    },
    {
      name: 'DD_SITE from a ConfigMap is not evaluated',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(
          CANARY.token,
          {},
          {
            env: [{ name: 'DD_SITE', valueFrom: { configMapKeyRef: { name: 'dd', key: 'site' } } }],
          },
        ),
      ],
      expected: ['ERROR site-not-evaluated:datadog-agent golang/golang-app-7d9f8b6c5-abcde'],
    },
  ])('$name', ({ docs, expected }) => {
    expect(run(ddSiteConsistent, docs)).toEqual(expected);
  });

  it('gives the exact env to set', () => {
    const [r] = ddSiteConsistent.run(
      build([
        ...datadogNamespace(),
        ...golangNamespace(CANARY.token, {}, { env: [site('us5.datadoghq.com')] }),
      ]),
    );
    expect(r!.message).toContain(
      'uses DD_SITE=us5.datadoghq.com but the Cluster Agent datadog/datadog-agent-cluster-agent uses no DD_SITE (default datadoghq.com)',
    );
    expect(r!.remediation).toContain(
      'Set DD_SITE=datadoghq.com on container datadog-agent of Deployment golang/golang-app',
    );
  });
});

describe('a missing token Secret names the object that should have written it', () => {
  it('token-ref-resolves names the ClusterExternalSecret that does not select the namespace', () => {
    const results = tokenRefResolves.run(
      build([...datadogNamespace(), ...sidecarApp('billing', {}), ...fanOut()]),
    );
    const r = results.find((x) => x.status === 'FAIL' && x.message.includes('"datadog-secret"'))!;
    expect(r.message).toContain(
      'ClusterExternalSecret datadog-secret writes Secrets of this name but does not select namespace billing',
    );
    expect(r.remediation).toContain(
      'kubectl label namespace billing datadog.example.com/agents=true',
    );
  });

  it('token-ref-resolves names the failure reason of the ClusterExternalSecret', () => {
    const results = tokenRefResolves.run(
      build([
        ...datadogNamespace(),
        ...sidecarApp('shop'),
        ...fanOut(
          { failed: [{ namespace: 'shop', reason: 'store aws-secrets-manager not ready' }] },
          [],
        ),
      ]),
    );
    const r = results.find((x) => x.status === 'FAIL' && x.message.includes('"datadog-secret"'))!;
    expect(r.message).toContain(
      'ClusterExternalSecret datadog-secret should write it but failed in shop: store aws-secrets-manager not ready',
    );
  });
});

/** A hand-written sidecar reading the token from `datadog-secret`. */
function sidecarApp(name: string, labels: Record<string, string> = AGENTS_LABEL): Raw[] {
  return [ns(name, labels), ...fargateApp(name, { env: [tokenRef('datadog-secret')] })];
}

describe('token-consumers-match through a kubernetes-provider chain', () => {
  /** shop/dd-token is copied from datadog/datadog-secrets, itself written from Secrets Manager. */
  const chain = (token: string): Raw[] => [
    ns('shop'),
    kubernetesStore('datadog-namespace', 'datadog'),
    externalSecret('shop', 'dd-token', {
      store: { name: 'datadog-namespace', kind: 'ClusterSecretStore' },
      refreshInterval: '15m',
      refreshTime: '2026-11-24T00:45:00Z',
      data: [{ secretKey: 'token', key: 'datadog-secrets', property: 'token' }],
    }),
    syncedSecret('shop', 'dd-token', { token }),
    ...fargateApp('shop', { env: [tokenRef('dd-token')] }),
  ];

  it('takes the sum of the refresh intervals along the chain as the sync grace', () => {
    // Changed 70m ago: past one hop's 1h + 5m, within the chain's 15m + 1h + 5m.
    const results = tokenConsumersMatch.run(
      build(
        [
          ...datadogNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T00:45:00Z' }),
          ...chain(CANARY.oldToken),
        ],
        { source: { lastChangedDate: '2026-11-24T00:50:00.000Z' } },
      ),
    );
    expect(summary(results)).toEqual([
      'FAIL mismatch:token datadog/datadog-secrets',
      'FAIL sync-pending:token shop/dd-token',
    ]);
    const pending = results[1]!;
    expect(pending.message).toContain(
      '15m + 1h (refresh intervals along the chain) + 5m backoff along Secrets Manager datadog/cluster-agent-token -> Secret datadog/datadog-secrets key "token" -> Secret shop/dd-token key "token"',
    );
  });

  it('compares a chained copy with Secrets Manager end to end', () => {
    const results = tokenConsumersMatch.run(
      build([...datadogNamespace(), ...chain(CANARY.oldToken)]),
    );
    expect(summary(results)).toEqual([
      'PASS matches-source:token datadog/datadog-secrets',
      'FAIL mismatch:token shop/dd-token',
    ]);
  });
});

describe('token-stale-in-pods: precise staleness for a shared Secret', () => {
  /** golang-secrets rewritten on 2026-11-22, after the pod started on 2026-11-20. */
  const rewrittenDocs = (): Raw[] =>
    golangNamespace().map((d) =>
      d.kind === 'Secret'
        ? syncedSecret('golang', 'golang-secrets', d.stringData, '2026-11-22T09:00:00.000Z')
        : d,
    );
  const keys = (apiKeyChanged: string): Partial<AwsSnapshot> => ({
    keySources: {
      apiKey: ok(tokenSourceOf({ secretId: 'datadog/apikey', lastChangedDate: apiKeyChanged })),
      appKey: ok(tokenSourceOf({ secretId: 'datadog/appkey' })),
    },
  });
  const stale = (aws: Partial<AwsSnapshot>) =>
    summary(
      tokenStaleInPods.run(build([...datadogNamespace(), ...rewrittenDocs()], { aws })),
    ).filter((l) => l.includes('golang/'));

  it('does not flag the token readers when the write followed an API key change', () => {
    expect(stale(keys('2026-11-22T08:58:00.000Z'))).toEqual([
      'PASS token-unchanged-since-start:datadog-agent golang/golang-app-7d9f8b6c5-abcde',
    ]);
    const [r] = tokenStaleInPods
      .run(
        build([...datadogNamespace(), ...rewrittenDocs()], {
          aws: keys('2026-11-22T08:58:00.000Z'),
        }),
      )
      .filter((x) => x.resource.namespace === 'golang');
    expect(r!.message).toContain('Rule: the token in Secrets Manager last changed at');
    expect(r!.message).toContain('The write followed a change of key "datadog_api_key"');
  });

  it('still flags them when nothing explains the write', () => {
    expect(stale(keys('2026-10-01T08:00:00.000Z'))).toEqual([
      'FAIL started-before-change:datadog-agent golang/golang-app-7d9f8b6c5-abcde',
    ]);
  });
});
