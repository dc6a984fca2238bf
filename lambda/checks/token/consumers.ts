/**
 * Who reads the Cluster Agent token, and from which Secret key. Every token check works from this
 * one list so they agree on what a consumer is: containers setting DD_CLUSTER_AGENT_AUTH_TOKEN
 * (secretKeyRef or envFrom), pods asking the admission controller for a sidecar (which reads
 * `datadog-secret` key `token`), and ExternalSecrets mapping the configured Secrets Manager secret.
 */
import {
  itemsOf,
  type ClusterSnapshot,
  type Container,
  type EnvVar,
  type ExternalSecret,
  type Pod,
  type Workload,
} from '../../snapshot.js';
import {
  TOKEN_ENV,
  TOKEN_KEY,
  isLive,
  ownerOf,
  readerLabel,
  secretCopyModel,
  secretLookups,
  workloadIndex,
  type ConsumerRole,
  type HeldKey,
  type SecretReader,
} from '../secret-copies/model.js';

export { TOKEN_ENV, TOKEN_KEY, ownerOf, secretLookups, workloadIndex, type ConsumerRole };

export interface EnvSecretRef {
  pod: Pod;
  container: Container;
  env: EnvVar & { secretKeyRef: NonNullable<EnvVar['secretKeyRef']> };
}

/** Every `DD_*` env var of a non-terminated pod that reads a secretKeyRef, in a stable order. */
export function datadogEnvSecretRefs(snapshot: ClusterSnapshot): EnvSecretRef[] {
  const out: EnvSecretRef[] = [];
  for (const pod of itemsOf(snapshot.kube.pods)) {
    if (!isLive(pod)) continue;
    for (const container of [...pod.spec.initContainers, ...pod.spec.containers]) {
      for (const env of container.env) {
        if (env.secretKeyRef && env.name.startsWith('DD_')) {
          out.push({ pod, container, env: env as EnvSecretRef['env'] });
        }
      }
    }
  }
  return out;
}

/**
 * `Pod golang/app-7d9f-x (Deployment golang/app)`; a bare pod is named once: `Pod golang/debug`.
 */
export function podWithOwner(pod: Pod, workloads: Map<string, Workload>): string {
  const own = `Pod ${pod.meta.namespace ?? ''}/${pod.meta.name}`;
  const where = templateLabel(pod, workloads);
  return where === own ? own : `${own} (${where})`;
}

/**
 * Where to change a pod's spec: `the pod template of Deployment golang/app`; for a bare pod,
 * `the manifest of Pod golang/debug (then recreate the pod)`: a running pod's env is immutable.
 */
export function podSpecPlace(pod: Pod, workloads: Map<string, Workload>): string {
  const where = templateLabel(pod, workloads);
  return where.startsWith('Pod ')
    ? `the manifest of ${where} (then recreate the pod)`
    : `the pod template of ${where}`;
}

/** Where a pod's spec is maintained: `Deployment golang/app`, else `Pod golang/app-7d9f`. */
export function templateLabel(pod: Pod, workloads: Map<string, Workload>): string {
  const w = ownerOf(pod, workloads);
  const ns = pod.meta.namespace ?? '';
  if (w) return `${w.kind} ${ns}/${w.meta.name}`;
  const o = pod.meta.ownerReferences[0];
  return o ? `${o.kind} ${ns}/${o.name}` : `Pod ${ns}/${pod.meta.name}`;
}

// ---------------------------------------------------------------------------------------------
// Token consumers: the token's view of the one copy model (secret-copies/model.ts)
// ---------------------------------------------------------------------------------------------

/** A reader of the token. Label for messages: readerLabel (secret-copies/model.ts). */
export type TokenUser = SecretReader;

/** One Secret key that holds (or should hold) the token, with everyone who reads or writes it. */
export type TokenSecretKey = HeldKey;

/**
 * Every Secret key holding the Cluster Agent token, sorted by namespace/secret/key: read by a
 * container, a workload template with no running pod, a pod asking for an injected sidecar or a
 * DatadogAgent; mapped from the Secrets Manager token; or written along a chain of stores.
 * Callers get their own array; the entries are shared between them and must not be changed.
 */
export function tokenSecretKeys(snapshot: ClusterSnapshot): TokenSecretKey[] {
  return [...secretCopyModel(snapshot).keys.token];
}

/** "Pod golang/app-1 (agent), Deployment golang/web" with at most `max` entries. */
export function describeUsers(users: TokenUser[], max = 8): string {
  const labels = [
    ...new Set(
      users.map((u) => (u.container ? `${readerLabel(u)} (${u.container})` : readerLabel(u))),
    ),
  ];
  const shown = labels.slice(0, max).join(', ');
  return labels.length > max ? `${shown} and ${labels.length - max} more` : shown;
}

/** Pods (running) among the users, for "these pods get 403" messages. */
export function podLabels(users: TokenUser[]): string[] {
  return [...new Set(users.filter((u) => u.pod).map((u) => `${u.namespace}/${u.pod!.meta.name}`))];
}

/** The Cluster Agent's token key(s): keys read by a Cluster Agent container. */
export function clusterAgentKeys(keys: TokenSecretKey[]): TokenSecretKey[] {
  return keys.filter((k) => k.users.some((u) => u.role === 'cluster-agent'));
}

/** Commands that restart the readers so they pick up the current Secret (env is read at start). */
export function restartCommands(users: TokenUser[]): string[] {
  const out = new Set<string>();
  for (const u of users) {
    if (u.workload) {
      out.add(
        `kubectl -n ${u.namespace} rollout restart ${u.workload.kind.toLowerCase()}/${u.workload.meta.name}`,
      );
    } else if (u.pod) {
      out.add(`kubectl -n ${u.namespace} delete pod ${u.pod.meta.name}`);
    }
  }
  return [...out];
}

/**
 * ExternalSecrets that feed the token: those mapping the configured Secrets Manager secret and
 * those writing a Secret an agent reads the token from. Sorted by namespace/name.
 */
export function tokenExternalSecrets(keys: TokenSecretKey[]): ExternalSecret[] {
  const out = new Set<ExternalSecret>();
  for (const k of keys) {
    for (const m of k.mappings) out.add(m.es);
    if (k.users.length > 0) for (const w of k.writers) out.add(w);
  }
  return [...out].sort((a, b) =>
    `${a.meta.namespace}/${a.meta.name}`.localeCompare(`${b.meta.namespace}/${b.meta.name}`),
  );
}
