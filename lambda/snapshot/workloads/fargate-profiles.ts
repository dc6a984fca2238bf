/**
 * The one Fargate profile matcher: which Fargate profile a pod lands on, with EKS's selector
 * semantics (EKS user guide, "Define which Pods use AWS Fargate when launched", and its
 * "Fargate profile wildcards"):
 * - a selector matches when its namespace matches and the pod carries every selector label;
 * - namespaces, label keys and label values may use `*` (none, one or more characters) and
 *   `?` (exactly one character);
 * - a pod matching several profiles gets one of them at random, unless it pins one with the label
 *   `eks.amazonaws.com/fargate-profile` (and still matches a selector of that profile);
 * - only ACTIVE profiles schedule pods (CREATING, CREATE_FAILED, DELETING and DELETE_FAILED do not).
 */
import type { FargateProfile, Node, Workload } from '../snapshot.js';
import { globMatches } from '../../config/glob.js';

export const FARGATE_PROFILE_LABEL = 'eks.amazonaws.com/fargate-profile';

export type ProfileSelector = FargateProfile['selectors'][number];

export function selectorMatchesPod(
  selector: ProfileSelector,
  namespace: string,
  labels: Record<string, string>,
): boolean {
  if (!globMatches(selector.namespace, namespace)) return false;
  const podLabels = Object.entries(labels);
  return Object.entries(selector.labels).every(([key, value]) =>
    podLabels.some(([k, v]) => globMatches(key, k) && globMatches(value, v)),
  );
}

/** The first selector of the profile that matches the pod, if any. */
export function matchingSelector(
  profile: FargateProfile,
  namespace: string,
  labels: Record<string, string>,
): ProfileSelector | undefined {
  return profile.selectors.find((s) => selectorMatchesPod(s, namespace, labels));
}

export interface Placement {
  /** The profile that schedules the pod (the pinned one, or the only candidate). */
  profile?: FargateProfile;
  /** Every ACTIVE profile with a matching selector. More than one without a pin: EKS picks at random. */
  candidates: FargateProfile[];
  /** The profile named by the pod's `eks.amazonaws.com/fargate-profile` label, when set. */
  pinned?: string;
}

/** Where EKS would place a pod with these labels today (ACTIVE profiles only). */
export function fargatePlacement(
  profiles: readonly FargateProfile[],
  namespace: string,
  labels: Record<string, string>,
): Placement {
  const candidates = profiles.filter(
    (p) => p.status === 'ACTIVE' && matchingSelector(p, namespace, labels) !== undefined,
  );
  const pinned = labels[FARGATE_PROFILE_LABEL];
  if (pinned) {
    const profile = candidates.find((p) => p.name === pinned);
    return { candidates, pinned, ...(profile ? { profile } : {}) };
  }
  const profile = candidates.length >= 1 ? candidates[0] : undefined;
  return { candidates, ...(profile ? { profile } : {}) };
}

/**
 * Whether a pod runs on a Fargate node: it carries the label EKS puts on Fargate pods, its node
 * is a Fargate node, or (node not collected) its node name is a Fargate node's `fargate-...`.
 */
export function onFargateNode(
  labels: Record<string, string>,
  nodeName: string | undefined,
  node: Pick<Node, 'computeType'> | undefined,
): boolean {
  if (labels[FARGATE_PROFILE_LABEL]) return true;
  if (node) return node.computeType === 'fargate';
  return (nodeName ?? '').startsWith('fargate-');
}

/**
 * Whether the next pod of a workload template lands on Fargate: it pins a profile, or an ACTIVE
 * profile selects it. Fargate runs no DaemonSet pods, whatever the profiles select.
 */
export function templateOnFargate(
  workload: Pick<Workload, 'kind' | 'meta' | 'template'>,
  profiles: readonly FargateProfile[],
): boolean {
  const labels = workload.template.meta.labels;
  if (labels[FARGATE_PROFILE_LABEL]) return true;
  if (workload.kind === 'DaemonSet') return false;
  return fargatePlacement(profiles, workload.meta.namespace ?? '', labels).candidates.length > 0;
}
