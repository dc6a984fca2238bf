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
  type PodSpec,
  type SecretDigest,
  type SecretLookup,
  type Workload,
} from '../../snapshot.js';
import {
  ADMISSION_SIDECAR_SECRET,
  externalSecretTarget,
  isDatadogContainer,
} from '../../kube/secret-refs.js';
import { datadogAgentsOf, operatorTokenRef } from '../../kube/operator-refs.js';
import {
  discoverAgents,
  isClusterAgentContainer,
  isNodeAgentContainer,
} from '../agent-discovery.js';
import { tokenMappings, type TokenMapping } from '../external-secrets/eso.js';

/** The variable the node agents, cluster checks runners and the Cluster Agent read the token from. */
export const TOKEN_ENV = 'DD_CLUSTER_AGENT_AUTH_TOKEN';
/** Key the Helm chart and the admission controller read from the token Secret. */
export const TOKEN_KEY = 'token';

export interface EnvSecretRef {
  pod: Pod;
  container: Container;
  env: EnvVar & { secretKeyRef: NonNullable<EnvVar['secretKeyRef']> };
}

function isLive(pod: Pod): boolean {
  return pod.status.phase !== 'Succeeded' && pod.status.phase !== 'Failed';
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

export function secretLookups(snapshot: ClusterSnapshot): Map<string, SecretLookup> {
  return new Map(snapshot.kube.secrets.map((l) => [`${l.namespace}/${l.name}`, l]));
}

// ---------------------------------------------------------------------------------------------
// Workload ownership
// ---------------------------------------------------------------------------------------------

export function workloadIndex(snapshot: ClusterSnapshot): Map<string, Workload> {
  const all = [
    ...itemsOf(snapshot.kube.deployments),
    ...itemsOf(snapshot.kube.daemonsets),
    ...itemsOf(snapshot.kube.statefulsets),
  ];
  return new Map(all.map((w) => [`${w.kind}/${w.meta.namespace ?? ''}/${w.meta.name}`, w]));
}

/** The Deployment/DaemonSet/StatefulSet behind a pod (through its ReplicaSet), when collected. */
export function ownerOf(pod: Pod, workloads: Map<string, Workload>): Workload | undefined {
  const ns = pod.meta.namespace ?? '';
  for (const o of pod.meta.ownerReferences) {
    const key =
      o.kind === 'ReplicaSet'
        ? `Deployment/${ns}/${o.name.replace(/-[a-z0-9]{5,10}$/, '')}`
        : `${o.kind}/${ns}/${o.name}`;
    const w = workloads.get(key);
    if (w) return w;
  }
  return undefined;
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
// Token consumers
// ---------------------------------------------------------------------------------------------

export type ConsumerRole = 'cluster-agent' | 'node-agent' | 'injected-sidecar' | 'agent';

export interface TokenUser {
  /** The running pod; absent for a workload template without running pods. */
  pod?: Pod;
  workload?: Workload;
  namespace: string;
  /** Container reading the token; absent when the admission controller has yet to inject it. */
  container?: string;
  role: ConsumerRole;
  /** `datadogagent`: a DatadogAgent makes the Operator's Cluster Agent read this key. */
  via: 'env' | 'envFrom' | 'admission-sidecar' | 'datadogagent';
  /** `Pod golang/app-7d9f`, `Deployment golang/app` or `DatadogAgent datadog/datadog`. */
  label: string;
}

/** One Secret key that holds (or should hold) the token, with everyone who reads or writes it. */
export interface TokenSecretKey {
  namespace: string;
  secret: string;
  key: string;
  users: TokenUser[];
  /** ExternalSecret entries that write this key from the configured Secrets Manager secret. */
  mappings: TokenMapping[];
  /** Every ExternalSecret whose target is this Secret (whatever it maps). */
  writers: ExternalSecret[];
  lookup?: SecretLookup;
  /** Digest of the key when the Secret was read and has it. */
  digest?: SecretDigest;
}

function roleOf(c: Container): ConsumerRole {
  if (isClusterAgentContainer(c)) return 'cluster-agent';
  if (isNodeAgentContainer(c)) return 'node-agent';
  return 'agent';
}

/** The Secret key a container reads the token from: an explicit env entry wins over envFrom. */
function tokenRefOf(
  c: Container,
  namespace: string,
  lookups: Map<string, SecretLookup>,
): { secret: string; key: string; via: 'env' | 'envFrom' } | undefined {
  const env = c.env.find((e) => e.name === TOKEN_ENV);
  if (env) {
    return env.secretKeyRef
      ? { secret: env.secretKeyRef.name, key: env.secretKeyRef.key, via: 'env' }
      : undefined;
  }
  if (!isDatadogContainer(c)) return undefined;
  // Later envFrom sources win over earlier ones for the same variable, as in the kubelet.
  let found: { secret: string; key: string; via: 'envFrom' } | undefined;
  for (const f of c.envFrom) {
    if (!f.secretRef) continue;
    const prefix = f.prefix ?? '';
    if (!TOKEN_ENV.startsWith(prefix)) continue;
    const key = TOKEN_ENV.slice(prefix.length);
    const l = lookups.get(`${namespace}/${f.secretRef.name}`);
    if (l?.result.status === 'found' && key in l.result.secret.data) {
      found = { secret: f.secretRef.name, key, via: 'envFrom' };
    }
  }
  return found;
}

function usersOfSpec(
  spec: PodSpec,
  asksForSidecar: boolean,
  namespace: string,
  base: Pick<TokenUser, 'pod' | 'workload' | 'label'>,
  lookups: Map<string, SecretLookup>,
): { user: TokenUser; secret: string; key: string }[] {
  const out: { user: TokenUser; secret: string; key: string }[] = [];
  for (const c of [...spec.initContainers, ...spec.containers]) {
    const ref = tokenRefOf(c, namespace, lookups);
    if (!ref) continue;
    out.push({
      secret: ref.secret,
      key: ref.key,
      user: { ...base, namespace, container: c.name, role: roleOf(c), via: ref.via },
    });
  }
  // Before injection the pod has no agent container yet, but the sidecar it will get reads this.
  if (asksForSidecar && out.length === 0) {
    out.push({
      secret: ADMISSION_SIDECAR_SECRET,
      key: TOKEN_KEY,
      user: { ...base, namespace, role: 'injected-sidecar', via: 'admission-sidecar' },
    });
  }
  return out;
}

/** Six checks ask for the token keys of one snapshot; it is computed once per snapshot. */
const TOKEN_KEYS_CACHE = new WeakMap<ClusterSnapshot, TokenSecretKey[]>();
const collator = new Intl.Collator();

/**
 * Every Secret key holding the Cluster Agent token, sorted by namespace/secret/key. Workload
 * templates count only when none of their pods runs (the pods already show the wiring).
 * Callers get their own array; the entries are shared between them and must not be changed.
 */
export function tokenSecretKeys(snapshot: ClusterSnapshot): TokenSecretKey[] {
  let keys = TOKEN_KEYS_CACHE.get(snapshot);
  if (!keys) {
    keys = computeTokenSecretKeys(snapshot);
    TOKEN_KEYS_CACHE.set(snapshot, keys);
  }
  return [...keys];
}

function computeTokenSecretKeys(snapshot: ClusterSnapshot): TokenSecretKey[] {
  const lookups = secretLookups(snapshot);
  const workloads = workloadIndex(snapshot);
  // "Asking for a sidecar" is the admission controller's effective selector, shared with discovery.
  const { asksForSidecar } = discoverAgents(snapshot);
  // ExternalSecrets by the Secret they write, so each key finds its writers without a scan.
  const writersByTarget = new Map<string, ExternalSecret[]>();
  for (const es of itemsOf(snapshot.kube.externalSecrets)) {
    const target = `${es.meta.namespace}/${externalSecretTarget(es)}`;
    const list = writersByTarget.get(target);
    if (list) list.push(es);
    else writersByTarget.set(target, [es]);
  }
  const byKey = new Map<string, TokenSecretKey>();
  const entry = (namespace: string, secret: string, key: string): TokenSecretKey => {
    const id = `${namespace}/${secret}/${key}`;
    let e = byKey.get(id);
    if (!e) {
      const lookup = lookups.get(`${namespace}/${secret}`);
      const digest = lookup?.result.status === 'found' ? lookup.result.secret.data[key] : undefined;
      e = {
        namespace,
        secret,
        key,
        users: [],
        mappings: [],
        writers: [...(writersByTarget.get(`${namespace}/${secret}`) ?? [])],
        ...(lookup ? { lookup } : {}),
        ...(digest ? { digest } : {}),
      };
      byKey.set(id, e);
    }
    return e;
  };

  const covered = new Set<Workload>();
  for (const pod of itemsOf(snapshot.kube.pods)) {
    if (!isLive(pod)) continue;
    const ns = pod.meta.namespace ?? '';
    const workload = ownerOf(pod, workloads);
    if (workload) covered.add(workload);
    const base = {
      pod,
      label: `Pod ${ns}/${pod.meta.name}`,
      ...(workload ? { workload } : {}),
    };
    const asks = asksForSidecar(pod.meta.labels, ns);
    for (const u of usersOfSpec(pod.spec, asks, ns, base, lookups)) {
      entry(ns, u.secret, u.key).users.push(u.user);
    }
  }
  for (const w of workloads.values()) {
    if (covered.has(w)) continue;
    const ns = w.meta.namespace ?? '';
    const base = { workload: w, label: `${w.kind} ${ns}/${w.meta.name}` };
    const asks = asksForSidecar(w.template.meta.labels, ns);
    for (const u of usersOfSpec(w.template.spec, asks, ns, base, lookups)) {
      entry(ns, u.secret, u.key).users.push(u.user);
    }
  }
  // The Operator's Cluster Agent reads the key its DatadogAgent names (clusterAgentTokenSecret,
  // else `<name>-token`), also before its pods run. Once its pods read that key they are the
  // Cluster Agent's users, and the DatadogAgent is not counted a second time.
  for (const dda of datadogAgentsOf(snapshot)) {
    if (dda.clusterAgentDisabled) continue;
    const ref = operatorTokenRef(dda);
    const e = entry(ref.namespace, ref.secret, ref.key);
    if (e.users.some((u) => u.role === 'cluster-agent')) continue;
    e.users.push({
      namespace: ref.namespace,
      role: 'cluster-agent',
      via: 'datadogagent',
      label: `DatadogAgent ${ref.namespace}/${dda.meta.name}`,
    });
  }
  for (const m of tokenMappings(snapshot)) {
    entry(m.namespace, m.target, m.secretKey).mappings.push(m);
  }
  // byKey's keys are `namespace/secret/key`, the sort order.
  return [...byKey.entries()].sort(([a], [b]) => collator.compare(a, b)).map(([, entry]) => entry);
}

/** "Pod golang/app-1 (agent), Deployment golang/web" with at most `max` entries. */
export function describeUsers(users: TokenUser[], max = 8): string {
  const labels = [
    ...new Set(users.map((u) => (u.container ? `${u.label} (${u.container})` : u.label))),
  ];
  const shown = labels.slice(0, max).join(', ');
  return labels.length > max ? `${shown} and ${labels.length - max} more` : shown;
}

/** Pods (running) among the users, for "these pods get 403" messages. */
export function podLabels(users: TokenUser[]): string[] {
  return [...new Set(users.filter((u) => u.pod).map((u) => u.label.replace(/^Pod /, '')))];
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
