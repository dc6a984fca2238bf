/**
 * SubjectAccessReview confirmation of the static RBAC verdicts. The collector asks the API server
 * the questions {@link plannedAccessReviews} lists and stores the answers in
 * `snapshot.kube.accessReviews`; the contract checks report every answer that disagrees with the
 * static analysis as info. The static verdict stays the primary one because it can say which
 * binding grants what; a disagreement usually means a webhook authorizer, a role changed between
 * the list and the review, or a binding the auditor could not read.
 */
import type { AccessReview, ClusterSnapshot } from '../snapshot.js';
import { requestsOf } from './contracts.js';
import type { ServiceAccountRef } from './evaluator.js';
import type { AccessRequest } from './match.js';
import { contractSubjects } from './subjects.js';

/** One review to ask: the ServiceAccount and the request, without the answer. */
export type PlannedAccessReview = Omit<
  AccessReview,
  'allowed' | 'denied' | 'reason' | 'evaluationError'
>;

export function toReview(sa: ServiceAccountRef, req: AccessRequest): PlannedAccessReview {
  return {
    serviceAccount: sa.name,
    namespace: sa.namespace,
    verb: req.verb,
    group: req.group,
    resource: req.resource,
    ...(req.subresource ? { subresource: req.subresource } : {}),
    ...(req.namespace ? { resourceNamespace: req.namespace } : {}),
    ...(req.name ? { name: req.name } : {}),
  };
}

export function reviewKey(r: PlannedAccessReview): string {
  return [
    r.namespace,
    r.serviceAccount,
    r.verb,
    r.group,
    r.resource,
    r.subresource ?? '',
    r.resourceNamespace ?? '',
    r.name ?? '',
  ].join('\u0000');
}

/** The reviews the RBAC contract checks can use, one per ServiceAccount and contract request. */
export function plannedAccessReviews(snapshot: ClusterSnapshot): PlannedAccessReview[] {
  const seen = new Set<string>();
  const out: PlannedAccessReview[] = [];
  for (const subject of contractSubjects(snapshot)) {
    for (const item of subject.contract) {
      for (const req of requestsOf(item)) {
        const review = toReview(subject.serviceAccount, req);
        const key = reviewKey(review);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(review);
      }
    }
  }
  return out;
}

/** Answers by request, or undefined when reviews were not collected. */
export function accessReviewIndex(
  snapshot: ClusterSnapshot,
): Map<string, AccessReview> | undefined {
  const c = snapshot.kube.accessReviews;
  if (!c || c.status !== 'ok') return undefined;
  return new Map(c.value.map((r) => [reviewKey(r), r]));
}
