/**
 * Effective RBAC permissions of a ServiceAccount, computed from the snapshot's roles and bindings
 * the way the API server's RBAC authorizer does (plugin/pkg/auth/authorizer/rbac):
 *
 * - A ServiceAccount authenticates as user `system:serviceaccount:<ns>:<name>` with the groups
 *   `system:serviceaccounts`, `system:serviceaccounts:<ns>` and `system:authenticated`; a binding
 *   applies when any subject names that user, one of those groups, or the ServiceAccount itself.
 *   A ServiceAccount subject without a namespace defaults to the RoleBinding's namespace, and never
 *   matches in a ClusterRoleBinding.
 * - ClusterRoleBindings grant everywhere. RoleBindings (also to a ClusterRole) grant only requests
 *   in their own namespace, so never cluster-scoped resources and never "every namespace".
 * - A RoleBinding's roleRef of kind Role resolves in the binding's namespace. Aggregated
 *   ClusterRoles are used as served: the API server writes the aggregated rules into `rules`.
 *
 * Bindings are indexed by subject once, so one ServiceAccount's permissions cost only its own
 * bindings, not a scan of every binding in the cluster.
 */
import {
  type DataKey,
  itemsOf,
  refOf,
  type ClusterSnapshot,
  type PolicyRule,
  type Role,
  type RoleBinding,
} from '../snapshot.js';
import { ruleAllows, ruleMatchesIgnoringName, type AccessRequest } from './match.js';
import { isClusterScoped } from './scope.js';
import { snapshotModel } from '../models.js';

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

export function serviceAccountUser(sa: ServiceAccountRef): string {
  return `system:serviceaccount:${sa.namespace}:${sa.name}`;
}

export function serviceAccountGroups(sa: ServiceAccountRef): string[] {
  return [
    'system:serviceaccounts',
    `system:serviceaccounts:${sa.namespace}`,
    'system:authenticated',
  ];
}

/** `RoleBinding golang/datadog-agent`, `ClusterRoleBinding datadog-agent`. */
export function bindingLabel(b: RoleBinding): string {
  return `${b.kind} ${refOf(b.meta)}`;
}

/** `ClusterRole datadog-agent`, `Role golang/pod-reader`. */
export function roleLabel(r: Pick<Role, 'kind' | 'meta'>): string {
  return `${r.kind} ${refOf(r.meta)}`;
}

/** `ClusterRole datadog-agent` named by a binding's roleRef, whether or not it exists. */
export function roleRefLabel(b: RoleBinding): string {
  return b.roleRef.kind === 'Role'
    ? `Role ${b.meta.namespace ?? ''}/${b.roleRef.name}`
    : `${b.roleRef.kind} ${b.roleRef.name}`;
}

/** One binding as the index resolved it. */
export interface ResolvedBinding {
  binding: RoleBinding;
  /** The role the roleRef names; absent when it does not exist (or the roleRef is invalid). */
  role?: Role;
  /** ServiceAccounts the binding names directly, with RoleBinding defaulting applied. */
  serviceAccounts: ServiceAccountRef[];
}

/** A binding that applies to one ServiceAccount. */
export interface AppliedBinding extends ResolvedBinding {
  /** Where it grants: the RoleBinding's namespace; absent for a ClusterRoleBinding (everywhere). */
  namespace?: string;
  /** The subject that matched: `ServiceAccount golang/default`, `Group system:serviceaccounts:golang`. */
  via: string;
}

export interface BoundRule {
  applied: AppliedBinding;
  rule: PolicyRule;
}

export type NearMissReason =
  /** A RoleBinding grants it, but only in its own namespace (or not at all: cluster-scoped). */
  | 'namespaced-binding'
  /** The rule lists resourceNames, so it grants only those objects (never list or create). */
  | 'resource-names';

export interface NearMiss {
  rule: BoundRule;
  reason: NearMissReason;
}

export interface Decision {
  allowed: boolean;
  grantedBy: BoundRule[];
  /** When denied: rules that match verb and resource but do not grant this request, and why. */
  nearMisses: NearMiss[];
}

export interface BindingProblem {
  binding: RoleBinding;
  code: 'missing-role' | 'invalid-role-ref' | 'subject-without-namespace';
  message: string;
}

/** What effective permissions are computed from: the checks that use them require all of it. */
export const RBAC_DATA = [
  'kube.clusterRoles',
  'kube.clusterRoleBindings',
  'kube.roles',
  'kube.roleBindings',
] as const satisfies readonly DataKey[];

export interface RbacInput {
  clusterRoles: Role[];
  roles: Role[];
  clusterRoleBindings: RoleBinding[];
  roleBindings: RoleBinding[];
}

const saKey = (ns: string, name: string) => `sa\u0000${ns}\u0000${name}`;
const userKey = (name: string) => `user\u0000${name}`;
const groupKey = (name: string) => `group\u0000${name}`;

export class RbacIndex {
  readonly bindings: ResolvedBinding[] = [];
  readonly problems: BindingProblem[] = [];
  private readonly clusterRoles = new Map<string, Role>();
  private readonly roles = new Map<string, Role>();
  private readonly bySubject = new Map<string, { resolved: ResolvedBinding; via: string }[]>();
  private readonly permissionCache = new Map<string, Permissions>();

  constructor(input: RbacInput) {
    for (const r of input.clusterRoles) this.clusterRoles.set(r.meta.name, r);
    for (const r of input.roles) this.roles.set(`${r.meta.namespace ?? ''}/${r.meta.name}`, r);
    for (const b of input.clusterRoleBindings) this.add(b);
    for (const b of input.roleBindings) this.add(b);
  }

  /** One index per snapshot, shared by the checks that run over it (snapshots are not mutated). */
  static forSnapshot(snapshot: ClusterSnapshot): RbacIndex {
    return RBAC_INDEX.get(snapshot);
  }

  static fromSnapshot(snapshot: ClusterSnapshot): RbacIndex {
    return new RbacIndex({
      clusterRoles: itemsOf(snapshot.kube.clusterRoles),
      roles: itemsOf(snapshot.kube.roles),
      clusterRoleBindings: itemsOf(snapshot.kube.clusterRoleBindings),
      roleBindings: itemsOf(snapshot.kube.roleBindings),
    });
  }

  /** The role a binding's roleRef names, when it exists and the reference is valid. */
  roleOf(b: RoleBinding): Role | undefined {
    if (b.roleRef.kind === 'ClusterRole') return this.clusterRoles.get(b.roleRef.name);
    if (b.roleRef.kind === 'Role' && b.kind === 'RoleBinding') {
      return this.roles.get(`${b.meta.namespace ?? ''}/${b.roleRef.name}`);
    }
    return undefined;
  }

  /** Every binding that applies to the ServiceAccount, each once, with the role it refers to. */
  bindingsFor(sa: ServiceAccountRef): AppliedBinding[] {
    const keys = [
      saKey(sa.namespace, sa.name),
      userKey(serviceAccountUser(sa)),
      ...serviceAccountGroups(sa).map(groupKey),
    ];
    const seen = new Set<RoleBinding>();
    const out: AppliedBinding[] = [];
    for (const key of keys) {
      for (const { resolved, via } of this.bySubject.get(key) ?? []) {
        if (seen.has(resolved.binding)) continue;
        seen.add(resolved.binding);
        const ns =
          resolved.binding.kind === 'RoleBinding' ? resolved.binding.meta.namespace : undefined;
        out.push({ ...resolved, via, ...(ns !== undefined ? { namespace: ns } : {}) });
      }
    }
    return out;
  }

  permissionsOf(sa: ServiceAccountRef): Permissions {
    const key = saKey(sa.namespace, sa.name);
    let p = this.permissionCache.get(key);
    if (!p) {
      p = new Permissions(sa, this.bindingsFor(sa));
      this.permissionCache.set(key, p);
    }
    return p;
  }

  private add(b: RoleBinding): void {
    const role = this.roleOf(b);
    if (!role) this.problems.push(roleProblem(b));
    const resolved: ResolvedBinding = {
      binding: b,
      serviceAccounts: [],
      ...(role ? { role } : {}),
    };
    this.bindings.push(resolved);
    for (const s of b.subjects) {
      if (s.kind === 'ServiceAccount') {
        // Upstream appliesToUser: default to the binding's namespace; a ClusterRoleBinding has none.
        const ns = s.namespace || (b.kind === 'RoleBinding' ? b.meta.namespace : undefined);
        if (!ns) {
          this.problems.push({
            binding: b,
            code: 'subject-without-namespace',
            message: `${bindingLabel(b)} names ServiceAccount "${s.name}" without a namespace, which matches no ServiceAccount in a ClusterRoleBinding.`,
          });
          continue;
        }
        resolved.serviceAccounts.push({ namespace: ns, name: s.name });
        this.index(saKey(ns, s.name), resolved, `ServiceAccount ${ns}/${s.name}`);
      } else if (s.kind === 'User') {
        this.index(userKey(s.name), resolved, `User ${s.name}`);
      } else if (s.kind === 'Group') {
        this.index(groupKey(s.name), resolved, `Group ${s.name}`);
      }
    }
  }

  private index(key: string, resolved: ResolvedBinding, via: string): void {
    const list = this.bySubject.get(key);
    if (list) list.push({ resolved, via });
    else this.bySubject.set(key, [{ resolved, via }]);
  }
}

function roleProblem(b: RoleBinding): BindingProblem {
  if (b.kind === 'ClusterRoleBinding' && b.roleRef.kind !== 'ClusterRole') {
    return {
      binding: b,
      code: 'invalid-role-ref',
      message: `${bindingLabel(b)} refers to ${b.roleRef.kind} "${b.roleRef.name}"; a ClusterRoleBinding can only refer to a ClusterRole, so it grants nothing.`,
    };
  }
  if (b.roleRef.kind !== 'ClusterRole' && b.roleRef.kind !== 'Role') {
    return {
      binding: b,
      code: 'invalid-role-ref',
      message: `${bindingLabel(b)} refers to unknown kind ${b.roleRef.kind} "${b.roleRef.name}", so it grants nothing.`,
    };
  }
  return {
    binding: b,
    code: 'missing-role',
    message: `${bindingLabel(b)} refers to ${roleRefLabel(b)}, which does not exist, so it grants nothing.`,
  };
}

/** What one ServiceAccount may do. */
export class Permissions {
  /** Rules from ClusterRoleBindings: they apply in every namespace and to cluster-scoped resources. */
  private readonly clusterWide: BoundRule[] = [];
  /** Rules from RoleBindings, by the namespace they grant in. */
  private readonly byNamespace = new Map<string, BoundRule[]>();

  constructor(
    readonly serviceAccount: ServiceAccountRef,
    readonly bindings: AppliedBinding[],
  ) {
    for (const applied of bindings) {
      if (!applied.role) continue;
      const rules = applied.role.rules.map((rule) => ({ applied, rule }));
      if (applied.namespace === undefined) {
        this.clusterWide.push(...rules);
      } else {
        const list = this.byNamespace.get(applied.namespace);
        if (list) list.push(...rules);
        else this.byNamespace.set(applied.namespace, rules);
      }
    }
  }

  /** Bindings that apply to this ServiceAccount but grant nothing because their role is missing. */
  get bindingsWithoutRole(): AppliedBinding[] {
    return this.bindings.filter((b) => !b.role);
  }

  /** Every rule that applies somewhere, cluster-wide first. */
  get rules(): BoundRule[] {
    return [...this.clusterWide, ...[...this.byNamespace.values()].flat()];
  }

  allows(request: AccessRequest): boolean {
    const req = normalise(request);
    return this.candidates(req).some((r) => ruleAllows(r.rule, req));
  }

  check(request: AccessRequest): Decision {
    const req = normalise(request);
    const candidates = this.candidates(req);
    const grantedBy = candidates.filter((r) => ruleAllows(r.rule, req));
    if (grantedBy.length > 0) return { allowed: true, grantedBy, nearMisses: [] };
    const nearMisses: NearMiss[] = candidates
      .filter((r) => ruleMatchesIgnoringName(r.rule, req))
      .map((rule) => ({ rule, reason: 'resource-names' as const }));
    for (const [ns, rules] of this.byNamespace) {
      if (ns === req.namespace) continue;
      for (const r of rules) {
        if (ruleMatchesIgnoringName(r.rule, req)) {
          nearMisses.push({ rule: r, reason: 'namespaced-binding' });
        }
      }
    }
    return { allowed: false, grantedBy, nearMisses };
  }

  /** Rules that can grant a normalised request: cluster-wide ones plus its namespace's. */
  private candidates(req: AccessRequest): BoundRule[] {
    if (req.namespace === undefined) return this.clusterWide;
    const local = this.byNamespace.get(req.namespace);
    return local ? this.clusterWide.concat(local) : this.clusterWide;
  }
}

/** The API server never puts a namespace on requests for cluster-scoped resources. */
function normalise(req: AccessRequest): AccessRequest {
  if (
    req.namespace !== undefined &&
    (req.namespace === '' || isClusterScoped(req.group, req.resource))
  ) {
    const { namespace: _ns, ...rest } = req;
    return rest;
  }
  return req;
}

/** The index with the permissions it computed: 13 MB at 5,000 ServiceAccounts. */
export const RBAC_INDEX = snapshotModel('rbac-index', (snapshot) =>
  RbacIndex.fromSnapshot(snapshot),
);
