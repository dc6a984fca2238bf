/**
 * Manifest builders for the token and ExternalSecret check tests: a small cluster shaped like the
 * field report (Cluster Agent in `datadog`, a Fargate app with an agent sidecar in `golang`, both
 * fed by ExternalSecrets), which each test bends into the case it needs.
 */
import type { Check } from '../../../lambda/checks/check.js';
import { externalsecretFresh } from '../../../lambda/checks/external-secrets/externalsecret-fresh.js';
import { externalsecretMapping } from '../../../lambda/checks/external-secrets/externalsecret-mapping.js';
import { externalsecretSynced } from '../../../lambda/checks/external-secrets/externalsecret-synced.js';
import { tokenConsumersMatch } from '../../../lambda/checks/token/token-consumers-match.js';
import { tokenNotChartGenerated } from '../../../lambda/checks/token/token-not-chart-generated.js';
import { tokenNotPlaintext } from '../../../lambda/checks/token/token-not-plaintext.js';
import { tokenRefResolves } from '../../../lambda/checks/token/token-ref-resolves.js';
import { tokenSource } from '../../../lambda/checks/token/token-source.js';
import { tokenStaleInPods } from '../../../lambda/checks/token/token-stale-in-pods.js';
import type { CheckResult } from '../../../lambda/config/findings.js';
import { digestSecret } from '../../../lambda/snapshot/secret-digest.js';
import type { ClusterSnapshot, TokenSource } from '../../../lambda/snapshot/snapshot.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { ok, snapshotFromManifests, type BuildOptions } from '../../support/snapshot-builder.js';

export const CANARY = {
  token: 'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c',
  oldToken: 'CANARY-dd-cluster-agent-token-OLD-0b1c2d3e4f5a6b7c',
  apiKey: 'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b',
  appKey: 'CANARY-dd-app-key-9a8b7c6d5e4f3a2b1c0d',
} as const;

/** The checks of issue 3 (token and ExternalSecret areas). */
export const TOKEN_CHECKS: readonly Check[] = [
  tokenSource,
  tokenConsumersMatch,
  tokenRefResolves,
  tokenNotPlaintext,
  tokenNotChartGenerated,
  tokenStaleInPods,
  externalsecretSynced,
  externalsecretFresh,
  externalsecretMapping,
];

export const COLLECTED_AT = '2026-11-24T02:00:00.000Z';
/** When Secrets Manager last changed in the default world (long before the audit). */
export const SM_CHANGED = '2026-10-01T08:00:00.000Z';
/** When ESO last wrote the synced Secrets. */
export const SECRET_WRITTEN = '2026-10-01T08:01:00.000Z';
/** When the pods started (after the Secrets were written). */
export const PODS_STARTED = '2026-11-20T10:00:00.000Z';
export const TOKEN_ID = 'datadog/cluster-agent-token';

export function tokenSourceOf(over: Partial<TokenSource> = {}): TokenSource {
  return {
    secretId: TOKEN_ID,
    arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog/cluster-agent-token-Xk3pQ9',
    valueKind: 'string',
    current: digestSecret(CANARY.token),
    lastChangedDate: SM_CHANGED,
    rotationEnabled: false,
    versionStages: { v1: ['AWSCURRENT'] },
    ...over,
  };
}

/** A snapshot of `docs` with the token in Secrets Manager set to the current canary by default. */
export function build(
  docs: Raw[],
  opts: BuildOptions & { source?: Partial<TokenSource> } = {},
): ClusterSnapshot {
  const { source, ...rest } = opts;
  return snapshotFromManifests(docs, {
    collectedAt: COLLECTED_AT,
    ...rest,
    aws: { tokenSource: ok(tokenSourceOf(source)), ...rest.aws },
  });
}

export function namespace(name: string): Raw {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function secret(
  ns: string,
  name: string,
  stringData: Record<string, string>,
  meta: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    writtenAt?: string;
    manager?: string;
    ownerES?: string;
  } = {},
): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: ns,
      creationTimestamp: '2026-03-02T09:00:00Z',
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
      ...(meta.ownerES
        ? {
            ownerReferences: [
              {
                apiVersion: 'external-secrets.io/v1',
                kind: 'ExternalSecret',
                name: meta.ownerES,
                controller: true,
              },
            ],
          }
        : {}),
      managedFields: [
        {
          manager: meta.manager ?? 'external-secrets',
          operation: 'Update',
          time: meta.writtenAt ?? SECRET_WRITTEN,
        },
      ],
    },
    type: 'Opaque',
    stringData,
  };
}

/** An ESO-written Secret: owner reference to its ExternalSecret, ESO as field manager. */
export function syncedSecret(
  ns: string,
  name: string,
  stringData: Record<string, string>,
  writtenAt = SECRET_WRITTEN,
): Raw {
  return secret(ns, name, stringData, { ownerES: name, writtenAt });
}

export interface EsOpts {
  target?: string;
  data?: { secretKey: string; key: string; property?: string }[];
  refreshInterval?: string | null;
  refreshPolicy?: string;
  creationPolicy?: string;
  store?: { name: string; kind?: string };
  ready?: { status: string; reason: string; message?: string } | null;
  refreshTime?: string | null;
  apiVersion?: string;
  template?: boolean;
}

export function externalSecret(ns: string, name: string, o: EsOpts = {}): Raw {
  const ready =
    o.ready === null
      ? undefined
      : (o.ready ?? { status: 'True', reason: 'SecretSynced', message: 'secret synced' });
  return {
    apiVersion: o.apiVersion ?? 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: {
      ...(o.refreshInterval === null ? {} : { refreshInterval: o.refreshInterval ?? '1h' }),
      ...(o.refreshPolicy ? { refreshPolicy: o.refreshPolicy } : {}),
      secretStoreRef: { name: o.store?.name ?? ns, kind: o.store?.kind ?? 'SecretStore' },
      target: {
        ...(o.target ? { name: o.target } : {}),
        creationPolicy: o.creationPolicy ?? 'Owner',
        ...(o.template ? { template: { data: { token: '{{ .tok }}' } } } : {}),
      },
      data: (o.data ?? [{ secretKey: 'token', key: TOKEN_ID }]).map((d) => ({
        secretKey: d.secretKey,
        remoteRef: { key: d.key, ...(d.property ? { property: d.property } : {}) },
      })),
    },
    status: {
      ...(ready
        ? { conditions: [{ type: 'Ready', lastTransitionTime: '2026-10-01T08:01:00Z', ...ready }] }
        : {}),
      ...(o.refreshTime === null ? {} : { refreshTime: o.refreshTime ?? '2026-11-24T01:30:00Z' }),
    },
  };
}

export function secretStore(
  ns: string | undefined,
  name: string,
  ready: { status: string; reason: string; message?: string } | null = {
    status: 'True',
    reason: 'Valid',
    message: 'store validated',
  },
): Raw {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: ns ? 'SecretStore' : 'ClusterSecretStore',
    metadata: { name, ...(ns ? { namespace: ns } : {}) },
    spec: { provider: { aws: { service: 'SecretsManager', region: 'eu-west-1' } } },
    status: ready ? { conditions: [{ type: 'Ready', ...ready }] } : {},
  };
}

type EnvSpec = Raw[];

export function tokenRef(name: string, key = 'token', optional?: boolean): Raw {
  return {
    name: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
    valueFrom: { secretKeyRef: { name, key, ...(optional !== undefined ? { optional } : {}) } },
  };
}

function podFromTemplate(
  ns: string,
  name: string,
  labels: Record<string, string>,
  containers: Raw[],
  owner: { kind: string; name: string } | undefined,
  startedAt: string,
  nodeName: string,
): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels,
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, controller: true },
            ],
          }
        : {}),
    },
    spec: { serviceAccountName: 'default', nodeName, containers },
    status: {
      phase: 'Running',
      startTime: startedAt,
      containerStatuses: containers.map((c) => ({
        name: c.name,
        ready: true,
        restartCount: 0,
        state: { running: { startedAt } },
      })),
    },
  };
}

function deployment(
  ns: string,
  name: string,
  labels: Record<string, string>,
  containers: Raw[],
): Raw {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { serviceAccountName: 'default', containers } },
    },
    status: { readyReplicas: 1 },
  };
}

/** The Cluster Agent: Deployment `datadog-agent-cluster-agent` and its pod, token from `env`. */
export function clusterAgent(
  ns = 'datadog',
  env: EnvSpec = [tokenRef('datadog-secrets')],
  startedAt = PODS_STARTED,
): Raw[] {
  const labels = {
    app: 'datadog-agent-cluster-agent',
    'app.kubernetes.io/component': 'cluster-agent',
  };
  const containers = [
    {
      name: 'cluster-agent',
      image: 'gcr.io/datadoghq/cluster-agent:7.60.0',
      env: [
        {
          name: 'DD_API_KEY',
          valueFrom: { secretKeyRef: { name: 'datadog-secrets', key: 'api-key' } },
        },
        ...env,
      ],
      ports: [{ containerPort: 5005, name: 'agentport', protocol: 'TCP' }],
    },
  ];
  return [
    deployment(ns, 'datadog-agent-cluster-agent', labels, containers),
    podFromTemplate(
      ns,
      'datadog-agent-cluster-agent-6b9f7c5d4-x2k8q',
      labels,
      containers,
      { kind: 'ReplicaSet', name: 'datadog-agent-cluster-agent-6b9f7c5d4' },
      startedAt,
      'ip-10-0-1-23.eu-west-1.compute.internal',
    ),
  ];
}

export interface AppOpts {
  /** Extra/replacement env of the agent sidecar (default: token from golang-secrets). */
  env?: EnvSpec;
  envFrom?: Raw[];
  startedAt?: string;
  /** Name of the deployment (pods get `<name>-7d9f8b6c5-abcde`). */
  name?: string;
  /** Pod replicas of the deployment. */
  pods?: number;
  /** Deployment only, no running pod. */
  noPods?: boolean;
  labels?: Record<string, string>;
  /** Replace the sidecar entirely (e.g. none, for admission injection). */
  containers?: Raw[];
}

const POD_SUFFIXES = ['abcde', 'fghij', 'klmno', 'pqrst'];

/** An app on Fargate with a Datadog agent sidecar reading the token from `golang-secrets`. */
export function fargateApp(ns = 'golang', o: AppOpts = {}): Raw[] {
  const name = o.name ?? 'golang-app';
  const labels = { app: name, 'eks.amazonaws.com/fargate-profile': 'fp-default', ...o.labels };
  const containers = o.containers ?? [
    {
      name: 'app',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/golang-app:1.4.2',
      env: [],
    },
    {
      name: 'datadog-agent',
      image: 'public.ecr.aws/datadog/agent:7.60.0',
      env: [
        {
          name: 'DD_API_KEY',
          valueFrom: { secretKeyRef: { name: 'golang-secrets', key: 'datadog_api_key' } },
        },
        { name: 'DD_CLUSTER_AGENT_ENABLED', value: 'true' },
        {
          name: 'DD_CLUSTER_AGENT_URL',
          value: 'https://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005',
        },
        ...(o.env ?? [tokenRef('golang-secrets')]),
      ],
      envFrom: o.envFrom ?? [],
    },
  ];
  const docs: Raw[] = [deployment(ns, name, labels, containers)];
  if (!o.noPods) {
    for (let i = 0; i < (o.pods ?? 1); i++) {
      docs.push(
        podFromTemplate(
          ns,
          `${name}-7d9f8b6c5-${POD_SUFFIXES[i % POD_SUFFIXES.length]}`,
          labels,
          containers,
          { kind: 'ReplicaSet', name: `${name}-7d9f8b6c5` },
          o.startedAt ?? PODS_STARTED,
          `fargate-ip-10-0-3-${41 + i}.eu-west-1.compute.internal`,
        ),
      );
    }
  }
  return docs;
}

/** Datadog namespace: Cluster Agent, its ESO-synced Secret, ExternalSecret and store. */
export function datadogNamespace(token: string = CANARY.token, es: EsOpts = {}): Raw[] {
  return [
    namespace('datadog'),
    ...clusterAgent(),
    syncedSecret('datadog', 'datadog-secrets', {
      'api-key': CANARY.apiKey,
      'app-key': CANARY.appKey,
      token,
    }),
    externalSecret('datadog', 'datadog-secrets', {
      target: 'datadog-secrets',
      data: [
        { secretKey: 'api-key', key: 'datadog/apikey' },
        { secretKey: 'app-key', key: 'datadog/appkey' },
        { secretKey: 'token', key: TOKEN_ID },
      ],
      store: { name: 'datadog' },
      ...es,
    }),
    secretStore('datadog', 'datadog'),
  ];
}

/** Golang namespace: the Fargate app, its ESO-synced Secret, ExternalSecret and store. */
export function golangNamespace(
  token: string = CANARY.token,
  es: EsOpts = {},
  app: AppOpts = {},
): Raw[] {
  return [
    namespace('golang'),
    ...fargateApp('golang', app),
    syncedSecret('golang', 'golang-secrets', { datadog_api_key: CANARY.apiKey, token }),
    externalSecret('golang', 'golang-secrets', {
      target: 'golang-secrets',
      data: [
        { secretKey: 'datadog_api_key', key: 'datadog/apikey' },
        { secretKey: 'token', key: TOKEN_ID },
      ],
      store: { name: 'golang' },
      ...es,
    }),
    secretStore('golang', 'golang'),
  ];
}

/** Everything right: both namespaces hold the current token. */
export function healthyDocs(): Raw[] {
  return [...datadogNamespace(), ...golangNamespace()];
}

/** Results as `STATUS messageId namespace/name` lines: what the tables compare. */
export function summary(results: CheckResult[]): string[] {
  return results.map(
    (r) =>
      `${r.status} ${r.messageId} ${r.resource.namespace ? `${r.resource.namespace}/` : ''}${r.resource.name}`,
  );
}

/** Only the failures, as `messageId namespace/name[@severity]` (severity when overridden). */
export function failures(results: CheckResult[]): string[] {
  return results
    .filter((r) => r.status !== 'PASS')
    .map(
      (r) =>
        `${r.status === 'ERROR' ? 'ERROR ' : ''}${r.messageId} ${r.resource.namespace ? `${r.resource.namespace}/` : ''}${r.resource.name}${r.severity ? `@${r.severity}` : ''}`,
    );
}
