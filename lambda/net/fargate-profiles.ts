/**
 * Which Fargate profile a pod lands on, with EKS's selector semantics:
 * - a selector matches when its namespace matches and the pod carries every selector label;
 * - namespaces, label keys and label values may use `*` (none, one or more characters) and
 *   `?` (exactly one character);
 * - a pod matching several profiles gets one of them at random, unless it pins one with the label
 *   `eks.amazonaws.com/fargate-profile` (and still matches a selector of that profile);
 * - only ACTIVE profiles schedule pods.
 */
import type { FargateProfile } from '../snapshot.js';

export const FARGATE_PROFILE_LABEL = 'eks.amazonaws.com/fargate-profile';

const cache = new Map<string, RegExp>();

function globToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 's');
    cache.set(pattern, re);
  }
  return re;
}

/** `prod*` matches `prod` and `prod-metrics`; `value?` matches `valuea` but not `value`. */
export function wildcardMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  return globToRegExp(pattern).test(value);
}

export type ProfileSelector = FargateProfile['selectors'][number];

export function selectorMatchesPod(
  selector: ProfileSelector,
  namespace: string,
  labels: Record<string, string>,
): boolean {
  if (!wildcardMatches(selector.namespace, namespace)) return false;
  const podLabels = Object.entries(labels);
  return Object.entries(selector.labels).every(([key, value]) =>
    podLabels.some(([k, v]) => wildcardMatches(key, k) && wildcardMatches(value, v)),
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
