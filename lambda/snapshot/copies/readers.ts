/**
 * Who reads a Secret key, and how the kubelet decides which key a container's variable comes from.
 * The copy model (model.ts) builds its readers with these rules; the labels below name a reader in
 * findings.
 */
import { isDatadogContainer } from '../secret-refs.js';
import type { Container, DatadogAgent, Pod, SecretLookup, Workload } from '../snapshot.js';
import { ownerWorkload, workloadOf, type WorkloadIndex } from '../workloads/owners.js';

export type ConsumerRole = 'cluster-agent' | 'node-agent' | 'injected-sidecar' | 'agent';

/** One reader of a Secret key. Labels for messages: {@link readerLabel}. */
export interface SecretReader {
  /** The running pod; absent for a workload template without running pods. */
  pod?: Pod;
  workload?: Workload;
  namespace: string;
  /** Container reading the key; absent when the admission controller has yet to inject it. */
  container?: string;
  role: ConsumerRole;
  /** `datadogagent`: a DatadogAgent makes the Operator's components read this key. */
  via: 'env' | 'envFrom' | 'admission-sidecar' | 'datadogagent';
  /** The DatadogAgent naming the key (`via: datadogagent`). */
  datadogAgent?: DatadogAgent;
  /** The DatadogAgent field naming it, e.g. `spec.global.credentials.apiSecret`. */
  field?: string;
}

/** The Secret key a container's variable comes from. */
export interface EnvRef {
  secret: string;
  key: string;
  via: 'env' | 'envFrom';
}

type LookupOf = (namespace: string, secret: string) => SecretLookup | undefined;

/** True when the collector saw that the Secret, or its key, does not exist. */
function knownMissing(lookup: SecretLookup | undefined, key: string): boolean {
  if (!lookup) return false;
  if (lookup.result.status === 'not-found') return true;
  return lookup.result.status === 'found' && !(key in lookup.result.secret.data);
}

/**
 * The Secret key container `c` reads variable `name` from, as the kubelet resolves it
 * (kubernetes/kubernetes `pkg/kubelet/kubelet_pods.go`, `makeEnvironmentVariables`): envFrom
 * sources first, in order, each overwriting the keys of the ones before; then the env entries in
 * order, each overwriting what came before. So an explicit env entry wins over envFrom, the last
 * env entry of a name wins, and the last envFrom source holding the key wins among those. An
 * optional secretKeyRef whose Secret or key is missing sets nothing: the value before it stays.
 * Undefined when the variable is a literal (or a fieldRef, a ConfigMap key) or comes from no Secret
 * key the auditor read. envFrom is followed for Datadog containers only: the collector reads
 * only their envFrom Secrets.
 */
export function envRefOf(
  c: Container,
  name: string,
  namespace: string,
  lookupOf: LookupOf,
): EnvRef | undefined {
  for (let i = c.env.length - 1; i >= 0; i--) {
    const e = c.env[i]!;
    if (e.name !== name) continue;
    const ref = e.secretKeyRef;
    if (!ref) return undefined;
    if (ref.optional && knownMissing(lookupOf(namespace, ref.name), ref.key)) continue;
    return { secret: ref.name, key: ref.key, via: 'env' };
  }
  if (c.envFrom.length === 0 || !isDatadogContainer(c)) return undefined;
  for (let i = c.envFrom.length - 1; i >= 0; i--) {
    const f = c.envFrom[i]!;
    if (!f.secretRef) continue;
    const prefix = f.prefix ?? '';
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    const l = lookupOf(namespace, f.secretRef.name);
    if (l?.result.status === 'found' && key in l.result.secret.data) {
      return { secret: f.secretRef.name, key, via: 'envFrom' };
    }
  }
  return undefined;
}

/** `Pod golang/app-7d9f`, `Deployment golang/app` or `DatadogAgent datadog/datadog`. */
export function readerLabel(u: SecretReader): string {
  if (u.datadogAgent) return `DatadogAgent ${u.namespace}/${u.datadogAgent.meta.name}`;
  if (u.pod) return `Pod ${u.namespace}/${u.pod.meta.name}`;
  if (u.workload) return `${u.workload.kind} ${u.namespace}/${u.workload.meta.name}`;
  return `namespace ${u.namespace}`;
}

/** `Pod golang/app-1 (agent)`, `Pod golang/web (sidecar to be injected)`, `DatadogAgent d/d (field)`. */
export function readerDetail(u: SecretReader): string {
  const label = readerLabel(u);
  if (u.container) return `${label} (${u.container})`;
  if (u.via === 'admission-sidecar') return `${label} (sidecar to be injected)`;
  if (u.field) return `${label} (${u.field})`;
  return label;
}

/** "Pod golang/app-1 (agent), Deployment golang/web" with at most `max` entries. */
export function describeUsers(users: readonly SecretReader[], max = 8): string {
  const labels = [
    ...new Set(
      users.map((u) => (u.container ? `${readerLabel(u)} (${u.container})` : readerLabel(u))),
    ),
  ];
  const shown = labels.slice(0, max).join(', ');
  return labels.length > max ? `${shown} and ${labels.length - max} more` : shown;
}

/** Pods (running) among the readers, for "these pods get 403" messages. */
export function podLabels(users: readonly SecretReader[]): string[] {
  return [...new Set(users.filter((u) => u.pod).map((u) => `${u.namespace}/${u.pod!.meta.name}`))];
}

/** Commands that restart the readers so they pick up the current Secret (env is read at start). */
export function restartCommands(users: readonly SecretReader[]): string[] {
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
 * `Pod golang/app-7d9f-x (Deployment golang/app)`; a bare pod is named once: `Pod golang/debug`.
 */
export function podWithOwner(pod: Pod, workloads: WorkloadIndex): string {
  const own = `Pod ${pod.meta.namespace ?? ''}/${pod.meta.name}`;
  const where = templateLabel(pod, workloads);
  return where === own ? own : `${own} (${where})`;
}

/**
 * Where to change a pod's spec: `the pod template of Deployment golang/app`; for a bare pod,
 * `the manifest of Pod golang/debug (then recreate the pod)`: a running pod's env is immutable.
 */
export function podSpecPlace(pod: Pod, workloads: WorkloadIndex): string {
  const where = templateLabel(pod, workloads);
  return where.startsWith('Pod ')
    ? `the manifest of ${where} (then recreate the pod)`
    : `the pod template of ${where}`;
}

/** Where a pod's spec is maintained: `Deployment golang/app`, else `Pod golang/app-7d9f`. */
export function templateLabel(pod: Pod, workloads: WorkloadIndex): string {
  const w = ownerWorkload(pod, workloads);
  const ns = pod.meta.namespace ?? '';
  if (w) return `${w.kind} ${ns}/${w.meta.name}`;
  const owner = workloadOf(pod);
  return `${owner.kind} ${ns}/${owner.name}`;
}
