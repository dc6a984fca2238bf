/**
 * Finding identity: what a finding about a pod is filed under.
 *
 * A pod is a replica: its name changes with every rollout, rescale or restart, so a finding keyed
 * on it would be "resolved" and "new" every time the cluster merely rolled. A finding about a pod is
 * therefore keyed on its owning workload, and replicas with the same problem are one finding that
 * lists the affected pods. The runner applies {@link workloadOf} to every result whose resource is
 * a `Pod`, so a check may report the pod it looked at (its message can name it); checks that word
 * their messages by workload can call {@link workloadOf} themselves.
 *
 * Rules for every check (new checks included):
 *  - `resource` names the object to change, never something that changes without a config change;
 *  - `messageId` names the failure mode plus structural keys only (container name, env name,
 *    secret key, binding name): never a pod name, a hash, a count, a time or an address.
 *
 * Owners are read from `ownerReferences` (kept by the collector) without listing ReplicaSets or
 * Jobs:
 *  - ReplicaSet `<deployment>-<pod-template-hash>` -> Deployment `<deployment>` (the hash is the
 *    pod's `pod-template-hash` label, else a trailing 5-10 character suffix, as the Deployment
 *    controller names them); a ReplicaSet with no such suffix stays a ReplicaSet;
 *  - StatefulSet, DaemonSet -> themselves;
 *  - Job `<cronjob>-<scheduled minutes>` (8 or more digits, as the CronJob controller names them)
 *    -> CronJob `<cronjob>`; any other Job -> the Job;
 *  - any other controller (Node for static pods, custom controllers) -> that owner;
 *  - a bare pod stays a pod.
 */
import type { AffectedPods, ResourceRef } from '../findings.js';
import { itemsOf, type ClusterSnapshot, type Pod } from '../snapshot.js';

export type { AffectedPods };

export const AFFECTED_SAMPLE = 3;

const RS_HASH_SUFFIX = /-[a-z0-9]{5,10}$/;
const CRONJOB_JOB_SUFFIX = /-\d{8,}$/;

/** The object a finding about `pod` is filed under (see the module comment). */
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

const POD_INDEX = new WeakMap<ClusterSnapshot, Map<string, Pod>>();

/** Pods of the snapshot by `namespace/name`, built once per snapshot. */
export function podIndex(snapshot: ClusterSnapshot): Map<string, Pod> {
  let index = POD_INDEX.get(snapshot);
  if (!index) {
    index = new Map(itemsOf(snapshot.kube.pods).map((p) => [podKey(p.meta), p] as const));
    POD_INDEX.set(snapshot, index);
  }
  return index;
}

function podKey(r: { namespace?: string; name: string }): string {
  return `${r.namespace ?? ''}/${r.name}`;
}

/**
 * The resource a result is filed under: its workload when the result is about a pod of the
 * snapshot, else the resource itself. A pod the snapshot does not hold stays a pod.
 */
export function identityOf(
  resource: ResourceRef,
  snapshot: ClusterSnapshot,
): { resource: ResourceRef; pod?: string } {
  if (resource.kind !== 'Pod') return { resource };
  const pod = podIndex(snapshot).get(podKey(resource));
  if (!pod) return { resource };
  const owner = workloadOf(pod);
  return owner.kind === 'Pod' ? { resource } : { resource: owner, pod: pod.meta.name };
}

/** `3 pods: a, b, c` or `5 pods: a, b, c and 2 more`. */
export function describeAffected(a: AffectedPods): string {
  const more = a.count - a.names.length;
  return `${a.count} pod${a.count === 1 ? '' : 's'}: ${a.names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
