/**
 * Confirms the RBAC checks' static verdicts with the API server's own authorizer: one
 * SubjectAccessReview per ServiceAccount and contract request the checks will evaluate. Optional:
 * an auditor that may not create SubjectAccessReviews keeps the static verdicts alone.
 */
import { plannedAccessReviews } from '../../snapshot/rbac/access-review.js';
import { serviceAccountGroups, serviceAccountUser } from '../../snapshot/rbac/evaluator.js';
import type { AccessReview, ClusterSnapshot, Collected } from '../../snapshot/snapshot.js';
import { mapLimit } from '../concurrency.js';
import { KubeApiError, type KubePort } from './port.js';

export interface AccessReviewOptions {
  enabled: boolean;
  /** Above this many questions the confirmation is skipped (it is per ServiceAccount and rule). */
  max: number;
  concurrency: number;
}

export async function collectAccessReviews(
  port: KubePort,
  snapshot: ClusterSnapshot,
  opts: AccessReviewOptions,
): Promise<Collected<AccessReview[]> | undefined> {
  if (!opts.enabled || !port.reviewAccess) return undefined;
  const planned = plannedAccessReviews(snapshot);
  if (planned.length === 0) return { status: 'ok', value: [] };
  if (planned.length > opts.max) {
    return {
      status: 'not-installed',
      detail: `skipped: ${planned.length} access reviews exceed kubernetes.maxAccessReviews (${opts.max}); static RBAC verdicts stand alone`,
    };
  }
  const ask = (p: (typeof planned)[number]) =>
    port.reviewAccess!({
      user: serviceAccountUser({ namespace: p.namespace, name: p.serviceAccount }),
      groups: serviceAccountGroups({ namespace: p.namespace, name: p.serviceAccount }),
      verb: p.verb,
      group: p.group,
      resource: p.resource,
      ...(p.subresource ? { subresource: p.subresource } : {}),
      ...(p.resourceNamespace ? { namespace: p.resourceNamespace } : {}),
      ...(p.name ? { name: p.name } : {}),
    });
  try {
    // The first answer tells whether the auditor may ask at all; then the rest in parallel.
    const first = await ask(planned[0]!);
    const rest = await mapLimit(planned.slice(1), opts.concurrency, ask);
    return {
      status: 'ok',
      value: [first, ...rest].map((answer, i) => ({ ...planned[i]!, ...answer })),
    };
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 403 || err.status === 404)) {
      return {
        status: 'not-installed',
        detail: `the auditor may not create subjectaccessreviews (HTTP ${err.status}); static RBAC verdicts stand alone`,
      };
    }
    const e = err instanceof KubeApiError ? err : undefined;
    return {
      status: 'error',
      error: {
        source: 'kubernetes',
        kind: 'subjectaccessreviews.authorization.k8s.io',
        ...(e?.status ? { status: e.status } : {}),
        code: e?.code ?? 'Error',
        message: (err as Error)?.message ?? String(err),
      },
    };
  }
}
