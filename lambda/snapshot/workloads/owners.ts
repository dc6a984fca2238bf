/**
 * The one owner lookup: which workload a pod belongs to.
 *
 * Owners are read from `ownerReferences` (kept by the collector) without listing ReplicaSets or
 * Jobs; the controller reference wins, else the first:
 *  - ReplicaSet `<deployment>-<pod-template-hash>` -> Deployment `<deployment>` (the hash is the
 *    pod's `pod-template-hash` label, else a trailing 5-10 character suffix, as the Deployment
 *    controller names them); a ReplicaSet with no such suffix stays a ReplicaSet;
 *  - StatefulSet, DaemonSet -> themselves;
 *  - Job `<cronjob>-<scheduled minutes>` (8 or more digits, as the CronJob controller names them)
 *    -> CronJob `<cronjob>`; any other Job -> the Job;
 *  - any other controller (Node for static pods, custom controllers) -> that owner;
 *  - a bare pod stays a pod.
 *
 * {@link workloadOf} gives the reference (finding identity files pod findings under it);
 * {@link ownerWorkload} gives the collected Deployment/DaemonSet/StatefulSet it names, if any.
 */
import type { ResourceRef } from '../../config/findings.js';
import { itemsOf, type ClusterSnapshot, type Pod, type Workload } from '../snapshot.js';

const RS_HASH_SUFFIX = /-[a-z0-9]{5,10}$/;
const CRONJOB_JOB_SUFFIX = /-\d{8,}$/;

/** The object that owns `pod` (see the module comment); the pod itself when bare. */
export function workloadOf(pod: Pick<Pod, 'meta'>): ResourceRef {
  const namespace = pod.meta.namespace;
  const ns = namespace !== undefined ? { namespace } : {};
  const owners = pod.meta.ownerReferences;
  const owner = owners.find((o) => o.controller) ?? owners[0];
  if (!owner) return { kind: 'Pod', ...ns, name: pod.meta.name };
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.meta.labels['pod-template-hash'];
    if (hash && owner.name.endsWith(`-${hash}`)) {
      return { kind: 'Deployment', ...ns, name: owner.name.slice(0, -(hash.length + 1)) };
    }
    if (RS_HASH_SUFFIX.test(owner.name)) {
      return { kind: 'Deployment', ...ns, name: owner.name.replace(RS_HASH_SUFFIX, '') };
    }
    return { kind: 'ReplicaSet', ...ns, name: owner.name };
  }
  if (owner.kind === 'Job' && CRONJOB_JOB_SUFFIX.test(owner.name)) {
    return { kind: 'CronJob', ...ns, name: owner.name.replace(CRONJOB_JOB_SUFFIX, '') };
  }
  // Node owns static (mirror) pods: cluster-scoped, so no namespace in the key.
  if (owner.kind === 'Node') return { kind: 'Node', name: owner.name };
  return { kind: owner.kind, ...ns, name: owner.name };
}

/** Collected workloads by `Kind/namespace/name`. */
export type WorkloadIndex = ReadonlyMap<string, Workload>;

function workloadKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

const WORKLOAD_INDEX = new WeakMap<ClusterSnapshot, WorkloadIndex>();

/** The snapshot's Deployments, DaemonSets and StatefulSets by kind, namespace and name (once per snapshot). */
export function workloadIndex(snapshot: ClusterSnapshot): WorkloadIndex {
  let index = WORKLOAD_INDEX.get(snapshot);
  if (!index) {
    const all = [
      ...itemsOf(snapshot.kube.deployments),
      ...itemsOf(snapshot.kube.daemonsets),
      ...itemsOf(snapshot.kube.statefulsets),
    ];
    index = new Map(all.map((w) => [workloadKey(w.kind, w.meta.namespace, w.meta.name), w]));
    WORKLOAD_INDEX.set(snapshot, index);
  }
  return index;
}

/** The collected workload {@link workloadOf} names for `pod`, when the snapshot holds it. */
export function ownerWorkload(
  pod: Pick<Pod, 'meta'>,
  workloads: WorkloadIndex,
): Workload | undefined {
  const ref = workloadOf(pod);
  if (ref.kind === 'Pod') return undefined;
  return workloads.get(workloadKey(ref.kind, ref.namespace, ref.name));
}
