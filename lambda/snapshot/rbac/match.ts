/**
 * Rule matching with the Kubernetes RBAC authorizer's semantics
 * (pkg/apis/rbac/v1/evaluation_helpers.go and plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows):
 *
 * - `*` in verbs, apiGroups or resources matches everything; `*` in resources also matches every
 *   subresource (`nodes/proxy`).
 * - A resource entry otherwise matches the combined `resource/subresource` exactly; `*\/proxy`
 *   matches the `proxy` subresource of every resource. `nodes/*` matches only a subresource that is
 *   literally `*`, and `nodes` never matches `nodes/proxy`.
 * - A rule with resourceNames matches only requests that carry one of those names, so it never
 *   grants `list`, `watch` of a collection, or `create`.
 * - Rules with only nonResourceURLs never match a resource request.
 */
import type { PolicyRule } from '../snapshot.js';

/** One API request, as the authorizer sees its attributes. */
export interface AccessRequest {
  verb: string;
  /** API group; `''` for the core group. */
  group: string;
  resource: string;
  subresource?: string;
  /**
   * Namespace of the request. Absent for cluster-scoped resources and for requests across every
   * namespace (`kubectl get endpoints -A`), which only ClusterRoleBindings can grant.
   */
  namespace?: string;
  /** Object name; absent for list/watch of a collection and for create. */
  name?: string;
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return rule.apiGroups.some((g) => g === '*' || g === group);
}

export function resourceMatches(rule: PolicyRule, resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return rule.resources.some(
    (r) => r === '*' || r === combined || (!!subresource && r === `*/${subresource}`),
  );
}

export function resourceNameMatches(rule: PolicyRule, name?: string): boolean {
  if (rule.resourceNames.length === 0) return true;
  return name !== undefined && name !== '' && rule.resourceNames.includes(name);
}

/** Everything but the object name matches: the rule would grant the request if it named an allowed object. */
export function ruleMatchesIgnoringName(rule: PolicyRule, req: AccessRequest): boolean {
  return (
    verbMatches(rule, req.verb) &&
    apiGroupMatches(rule, req.group) &&
    resourceMatches(rule, req.resource, req.subresource)
  );
}

export function ruleAllows(rule: PolicyRule, req: AccessRequest): boolean {
  return ruleMatchesIgnoringName(rule, req) && resourceNameMatches(rule, req.name);
}

/** kubectl's spelling: `nodes/proxy`, `endpointslices.discovery.k8s.io`, `leases.coordination.k8s.io`. */
export function resourceLabel(group: string, resource: string, subresource?: string): string {
  const base = group ? `${resource}.${group}` : resource;
  return subresource ? `${base}/${subresource}` : base;
}
