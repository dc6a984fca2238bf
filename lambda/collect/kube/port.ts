/**
 * The narrow port through which the collectors talk to Kubernetes. The adapter over
 * @kubernetes/client-node (client.ts) is its only implementation in production and the only file
 * that imports the client; tests use the same adapter against the local test API server.
 */
import type { AccessRequest } from '../../snapshot/rbac/match.js';
import type { Raw } from './raw.js';

/** Every kind the collectors read. The RBAC manifest and least-privilege tests derive from this. */
export interface KubeKindSpec {
  /** Key in KubeSnapshot (for secrets: 'secrets'). */
  key: string;
  group: string; // '' for core
  version: string;
  /** Plural resource name as in RBAC rules. */
  resource: string;
  namespaced: boolean;
  /** Optional CRDs: a 404 means "not installed". */
  optional: boolean;
  /** Older versions to try when this one is not served (ESO v1 -> v1beta1). */
  fallbackVersions?: string[];
  verbs: ('list' | 'get')[];
  /**
   * Read only in this namespace and by these names (`get`): the RBAC grants it with a Role there
   * and `resourceNames`, never cluster-wide.
   */
  only?: { namespace: string; names: string[] };
}

export interface ListPage {
  items: Raw[];
  /** Continue token for the next page, absent on the last page. */
  continue?: string;
  /** apiVersion that served the list (for ESO v1 vs v1beta1). */
  apiVersion: string;
}

/** A Kubernetes API failure, normalised. Messages never contain secret values. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    message: string,
    /** HTTP status; undefined for network errors and timeouts. */
    readonly status: number | undefined,
    /** Forbidden, Unauthorized, NotFound, Gone, TooManyRequests, ServerError, Timeout, BadResponse, Network, TLS */
    readonly code: string,
    /** Seconds from Retry-After, when the server sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** A SubjectAccessReview question: may this user (with these groups) make this request? */
export interface AccessReviewRequest extends AccessRequest {
  user: string;
  groups: string[];
}

export interface AccessReviewAnswer {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export interface KubePort {
  /** One page of a cluster-wide list (all namespaces for namespaced kinds). */
  listPage(
    kind: KubeKindSpec,
    opts: { limit: number; continue?: string; version?: string },
  ): Promise<ListPage>;
  /** One Secret by name; null when it does not exist. The raw object must go straight to convertSecret. */
  getSecret(namespace: string, name: string): Promise<Raw | null>;
  /** One ConfigMap by name (kube-system/aws-auth); null when it does not exist. */
  getConfigMap(namespace: string, name: string): Promise<Raw | null>;
  /**
   * Asks the API server's authorizer (SubjectAccessReview). Optional: ports that cannot ask leave
   * it out and the RBAC checks keep their static verdicts alone.
   */
  reviewAccess?(request: AccessReviewRequest): Promise<AccessReviewAnswer>;
  /** Requests made so far (list pages, GETs, access reviews), for stats and the benchmark. */
  readonly counters: { listPages: number; gets: number; reviews?: number };
}
