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
 * Owners are found by the one owner lookup (`workloads/owners.ts`).
 */
import type { AffectedPods, ResourceRef } from '../config/findings.js';
import { itemsOf, type ClusterSnapshot, type Pod } from '../snapshot/snapshot.js';
import { workloadOf } from '../snapshot/workloads/owners.js';

export type { AffectedPods };

export const AFFECTED_SAMPLE = 3;

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
