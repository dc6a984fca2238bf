/**
 * Builds ClusterSnapshots for check unit tests, from Kubernetes manifests (the same converters
 * the collector uses) plus AWS snapshot parts. No server, no mocks: checks only see snapshots.
 */
import { join } from 'node:path';
import {
  convertEndpointSlices,
  convertEndpoints,
  convertExternalSecret,
  convertNamespace,
  convertNode,
  convertPod,
  convertRole,
  convertRoleBinding,
  convertSecretStore,
  convertSecurityGroupPolicy,
  convertMutatingWebhookConfiguration,
  convertService,
  convertServiceAccount,
  convertWorkload,
} from '../../lambda/collect/kube/convert.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { DEFAULT_COLLECTED_AT, loadManifests } from '../../lambda/run/demo/fixtures.js';
import { convertDatadogAgent } from '../../lambda/collect/kube/convert-operator.js';
import { convertSecret } from '../../lambda/collect/kube/secrets.js';
import {
  convertClusterExternalSecret,
  convertClusterPushSecret,
  convertPushSecret,
} from '../../lambda/collect/kube/convert-eso.js';
import { referencedSecrets, secretRefInputOf } from '../../lambda/snapshot/secret-refs.js';
import {
  AWS_AUTH_NAME,
  AWS_AUTH_NAMESPACE,
  convertAwsAuth,
} from '../../lambda/collect/kube/aws-auth.js';
import type {
  AuditSettings,
  AwsSnapshot,
  ClusterSnapshot,
  Collected,
  KubeSnapshot,
  SecretLookup,
} from '../../lambda/snapshot/snapshot.js';

export { DEFAULT_COLLECTED_AT, loadManifests };

export const FIXTURES_DIR = new URL('../fixtures/', import.meta.url).pathname;

export function ok<T>(value: T): Collected<T> {
  return { status: 'ok', value };
}

export function failed<T>(kind: string, status = 403, code = 'Forbidden'): Collected<T> {
  return {
    status: 'error',
    error: { source: 'kubernetes', kind, status, code, message: `${kind} is forbidden` },
  };
}

export const DEFAULT_SETTINGS: AuditSettings = {
  tokenSecretId: 'datadog/cluster-agent-token',
  clusterAgent: { port: 5005 },
};

/** An AWS snapshot in which everything collected fine and is empty. */
export function emptyAws(): AwsSnapshot {
  return {
    cluster: ok({
      name: 'test-cluster',
      endpointPublicAccess: true,
      endpointPrivateAccess: true,
      publicAccessCidrs: ['0.0.0.0/0'],
      securityGroupIds: [],
      subnetIds: [],
    }),
    fargateProfiles: ok([]),
    securityGroups: ok([]),
    subnets: ok([]),
    routeTables: ok([]),
    instances: ok([]),
    accessEntries: ok([]),
    tokenSource: { status: 'not-installed', detail: 'not collected in this test' },
  };
}

export interface BuildOptions {
  cluster?: string;
  collectedAt?: string;
  settings?: Partial<AuditSettings>;
  aws?: Partial<AwsSnapshot>;
  /** Replace whole kube kinds (e.g. to inject a failure). */
  kube?: Partial<KubeSnapshot>;
}

/** Turns manifests into a snapshot the way the collector would, secrets reduced to digests. */
export function snapshotFromManifests(docs: Raw[], opts: BuildOptions = {}): ClusterSnapshot {
  const of = (kind: string, apiPrefix?: string) =>
    docs.filter(
      (d) => d?.kind === kind && (!apiPrefix || String(d.apiVersion ?? '').startsWith(apiPrefix)),
    );
  const settings: AuditSettings = {
    ...DEFAULT_SETTINGS,
    ...opts.settings,
    clusterAgent: { ...DEFAULT_SETTINGS.clusterAgent, ...opts.settings?.clusterAgent },
  };
  const slices = of('EndpointSlice');
  const kube: Omit<KubeSnapshot, 'secrets'> = {
    namespaces: ok(of('Namespace').map(convertNamespace)),
    nodes: ok(of('Node').map(convertNode)),
    pods: ok(of('Pod').map(convertPod)),
    deployments: ok(of('Deployment').map((d) => convertWorkload('Deployment', d))),
    daemonsets: ok(of('DaemonSet').map((d) => convertWorkload('DaemonSet', d))),
    statefulsets: ok(of('StatefulSet').map((d) => convertWorkload('StatefulSet', d))),
    services: ok(of('Service').map(convertService)),
    endpoints: ok(
      slices.length ? convertEndpointSlices(slices) : of('Endpoints').map(convertEndpoints),
    ),
    serviceAccounts: ok(of('ServiceAccount').map(convertServiceAccount)),
    clusterRoles: ok(of('ClusterRole').map((r) => convertRole('ClusterRole', r))),
    clusterRoleBindings: ok(
      of('ClusterRoleBinding').map((r) => convertRoleBinding('ClusterRoleBinding', r)),
    ),
    roles: ok(of('Role').map((r) => convertRole('Role', r))),
    roleBindings: ok(of('RoleBinding').map((r) => convertRoleBinding('RoleBinding', r))),
    externalSecrets: ok(of('ExternalSecret').map(convertExternalSecret)),
    secretStores: ok(of('SecretStore').map((s) => convertSecretStore('SecretStore', s))),
    clusterSecretStores: ok(
      of('ClusterSecretStore').map((s) => convertSecretStore('ClusterSecretStore', s)),
    ),
    datadogAgents: ok(of('DatadogAgent', 'datadoghq.com/').map(convertDatadogAgent)),
    securityGroupPolicies: ok(of('SecurityGroupPolicy').map(convertSecurityGroupPolicy)),
    mutatingWebhooks: ok(
      of('MutatingWebhookConfiguration').map(convertMutatingWebhookConfiguration),
    ),
    clusterExternalSecrets: ok(of('ClusterExternalSecret').map(convertClusterExternalSecret)),
    pushSecrets: ok(of('PushSecret').map(convertPushSecret)),
    // Read by name, as the collector does: absent when the manifests hold no aws-auth.
    awsAuth: ok(
      convertAwsAuth(
        of('ConfigMap').find(
          (c) => c.metadata?.name === AWS_AUTH_NAME && c.metadata?.namespace === AWS_AUTH_NAMESPACE,
        ) ?? null,
      ),
    ),
    clusterPushSecrets: ok(of('ClusterPushSecret').map(convertClusterPushSecret)),
    ...opts.kube,
  };
  const refs = referencedSecrets(secretRefInputOf(kube), settings);
  const secretDocs = new Map(
    of('Secret').map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s]),
  );
  const secrets: SecretLookup[] = [...refs.values()].map((r) => {
    const raw = secretDocs.get(`${r.namespace}/${r.name}`);
    return {
      ...r,
      result: raw ? { status: 'found', secret: convertSecret(raw) } : { status: 'not-found' },
    };
  });
  const aws = { ...emptyAws(), ...opts.aws };
  return {
    schemaVersion: 1,
    cluster: { name: opts.cluster ?? 'test-cluster', region: 'eu-west-1', access: 'demo' },
    collectedAt: opts.collectedAt ?? DEFAULT_COLLECTED_AT,
    settings,
    kube: { ...kube, secrets: opts.kube?.secrets ?? secrets },
    aws,
    stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
  };
}

/** Snapshot of a named fixture cluster under test/fixtures/<name>/ (manifests only). */
export function fixtureSnapshot(name: string, opts: BuildOptions = {}): ClusterSnapshot {
  return snapshotFromManifests(loadManifests(join(FIXTURES_DIR, name)), { cluster: name, ...opts });
}
