/**
 * Ready-to-apply RBAC fixes: a ClusterRole carrying the missing rules and a ClusterRoleBinding
 * naming the ServiceAccount, as YAML for `kubectl apply -f -`.
 *
 * When a ClusterRole already grants part of the contract to the ServiceAccount, the fix extends
 * that role (its current rules plus the missing ones, so applying it loses nothing); otherwise it
 * creates the documented role. The YAML always carries every missing rule of the ServiceAccount,
 * so applying the remediation of any one finding fixes them all.
 */
import type { PolicyRule, Role, RoleBinding, Subject } from '../snapshot.js';
import { rulesFor, requestsOf, type ContractItem } from './contracts.js';
import {
  bindingLabel,
  roleLabel,
  type ResolvedBinding,
  type Permissions,
  type ServiceAccountRef,
} from './evaluator.js';
import { ruleAllows } from './match.js';

const RBAC_API = 'rbac.authorization.k8s.io/v1';

function scalar(s: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._/:-]*$/.test(s) &&
    !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(s)
    ? s
    : JSON.stringify(s);
}

function flow(list: string[]): string {
  return `[${list.map((x) => JSON.stringify(x)).join(', ')}]`;
}

export function rulesYaml(rules: readonly PolicyRule[]): string {
  const lines: string[] = [];
  for (const r of rules) {
    const fields: string[] = [];
    if (r.apiGroups.length || r.resources.length) fields.push(`apiGroups: ${flow(r.apiGroups)}`);
    if (r.resources.length) fields.push(`resources: ${flow(r.resources)}`);
    if (r.resourceNames.length) fields.push(`resourceNames: ${flow(r.resourceNames)}`);
    if (r.nonResourceURLs.length) fields.push(`nonResourceURLs: ${flow(r.nonResourceURLs)}`);
    fields.push(`verbs: ${flow(r.verbs)}`);
    fields.forEach((f, i) => lines.push(`${i === 0 ? '  - ' : '    '}${f}`));
  }
  return lines.join('\n');
}

export function clusterRoleYaml(name: string, rules: readonly PolicyRule[]): string {
  return [
    `apiVersion: ${RBAC_API}`,
    'kind: ClusterRole',
    'metadata:',
    `  name: ${scalar(name)}`,
    'rules:',
    rulesYaml(rules),
  ].join('\n');
}

function subjectYaml(s: Subject): string[] {
  const lines = [`  - kind: ${scalar(s.kind)}`, `    name: ${scalar(s.name)}`];
  if (s.namespace) lines.push(`    namespace: ${scalar(s.namespace)}`);
  if (s.kind !== 'ServiceAccount') lines.push('    apiGroup: rbac.authorization.k8s.io');
  return lines;
}

export function clusterRoleBindingYaml(
  name: string,
  roleName: string,
  subjects: readonly Subject[],
): string {
  return [
    `apiVersion: ${RBAC_API}`,
    'kind: ClusterRoleBinding',
    'metadata:',
    `  name: ${scalar(name)}`,
    'roleRef:',
    '  apiGroup: rbac.authorization.k8s.io',
    '  kind: ClusterRole',
    `  name: ${scalar(roleName)}`,
    'subjects:',
    ...subjects.flatMap(subjectYaml),
  ].join('\n');
}

function saSubject(sa: ServiceAccountRef): Subject {
  return { kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace };
}

/** True when a GitOps tool or Helm owns the object, so a kubectl change would be reverted. */
export function managedBy(meta: Role['meta'] | RoleBinding['meta']): string | undefined {
  if (
    meta.annotations['argocd.argoproj.io/tracking-id'] ||
    meta.labels['argocd.argoproj.io/instance']
  ) {
    return 'Argo CD';
  }
  if (
    meta.labels['app.kubernetes.io/managed-by'] === 'Helm' ||
    meta.annotations['meta.helm.sh/release-name']
  ) {
    return 'Helm';
  }
  if (meta.labels['kustomize.toolkit.fluxcd.io/name'] || meta.labels['helm.toolkit.fluxcd.io/name'])
    return 'Flux';
  return undefined;
}

function roleGrants(role: Role, item: ContractItem): boolean {
  return requestsOf(item).every((req) => role.rules.some((rule) => ruleAllows(rule, req)));
}

/** How many contract items a role's rules grant, ignoring where it is bound. */
function coverage(role: Role, contract: readonly ContractItem[]): number {
  return contract.filter((item) => roleGrants(role, item)).length;
}

interface Target {
  binding: RoleBinding;
  role: Role;
  /** The RoleBinding's namespace; absent for a ClusterRoleBinding. */
  namespace?: string;
  /** Set when the binding names a ServiceAccount that does not exist instead of this one. */
  danglingSubject?: ServiceAccountRef;
}

/**
 * The ClusterRole already used for this contract: the best cover, bound cluster-wide first, bound
 * to this ServiceAccount before bound to a ServiceAccount that does not exist.
 */
function existingTarget(
  permissions: Permissions,
  dangling: readonly { binding: ResolvedBinding; serviceAccount: ServiceAccountRef }[],
  contract: readonly ContractItem[],
): Target | undefined {
  const candidates: Target[] = [
    ...permissions.bindings.flatMap((a) =>
      a.role
        ? [
            {
              binding: a.binding,
              role: a.role,
              ...(a.namespace !== undefined ? { namespace: a.namespace } : {}),
            },
          ]
        : [],
    ),
    ...dangling.flatMap((d) =>
      d.binding.role
        ? [
            {
              binding: d.binding.binding,
              role: d.binding.role,
              ...(d.binding.binding.kind === 'RoleBinding'
                ? { namespace: d.binding.binding.meta.namespace ?? '' }
                : {}),
              danglingSubject: d.serviceAccount,
            },
          ]
        : [],
    ),
  ];
  let best: { target: Target; score: number } | undefined;
  for (const target of candidates) {
    const role = target.role;
    if (role.kind !== 'ClusterRole' || role.aggregationSelectors.length > 0) continue;
    if (role.meta.name.startsWith('system:') || role.meta.name === 'cluster-admin') continue;
    const cover = coverage(role, contract);
    if (cover === 0) continue;
    const score =
      cover * 4 + (target.namespace === undefined ? 2 : 0) + (target.danglingSubject ? 0 : 1);
    if (!best || score > best.score) best = { target, score };
  }
  return best?.target;
}

/**
 * The installer that renders a role, when it is the Helm chart or the Datadog Operator: a hand
 * edit of such a role is reverted on the next upgrade or reconcile.
 */
export type RoleInstaller = 'helm' | 'operator';

export function roleInstaller(meta: Role['meta']): RoleInstaller | undefined {
  const by = meta.labels['app.kubernetes.io/managed-by'];
  if (by === 'datadog-operator') return 'operator';
  if (
    by === 'Helm' ||
    meta.annotations['meta.helm.sh/release-name'] ||
    meta.labels['helm.sh/chart']
  )
    return 'helm';
  return undefined;
}

export interface ContractFix {
  /** One line saying what the YAML does. */
  summary: string;
  yaml: string;
}

export function contractFix(opts: {
  serviceAccount: ServiceAccountRef;
  permissions: Permissions;
  contract: readonly ContractItem[];
  missing: readonly ContractItem[];
  /** Name for a new ClusterRole when none to extend: `datadog-agent-fargate`. */
  defaultRoleName: string;
  /** Bindings in the ServiceAccount's namespace written for a ServiceAccount that does not exist. */
  dangling?: readonly { binding: ResolvedBinding; serviceAccount: ServiceAccountRef }[];
  /**
   * What to change in the installer (the Helm value, the DatadogAgent field) when the role to
   * extend is one it renders; the YAML then adds a role of the user's own beside it.
   */
  installerFix?: (installer: RoleInstaller, role: Role) => string | undefined;
}): ContractFix {
  const { serviceAccount: sa, permissions, contract, missing, defaultRoleName } = opts;
  const saLabel = `ServiceAccount ${sa.namespace}/${sa.name}`;
  const target = existingTarget(permissions, opts.dangling ?? [], contract);
  const installer = target && roleInstaller(target.role.meta);
  const viaInstaller = installer && opts.installerFix?.(installer, target.role);
  if (target && installer && viaInstaller) {
    // Never a new version of the installer's role: the next upgrade or reconcile reverts it.
    const roleName = `${defaultRoleName}-extra`;
    const bindingName = `${roleName}-${sa.namespace}-${sa.name}`;
    return {
      summary: `${roleLabel(target.role)} is rendered by ${installer === 'helm' ? 'the Helm chart' : 'the Datadog Operator'}, which reverts a hand edit. ${viaInstaller} Until then, grant the missing rules with a ClusterRole of your own (not ${roleLabel(target.role)}) bound to ${saLabel}`,
      yaml: `${clusterRoleYaml(roleName, rulesFor(missing))}\n---\n${clusterRoleBindingYaml(bindingName, roleName, [saSubject(sa)])}`,
    };
  }
  if (!target) {
    const bindingName = `${defaultRoleName}-${sa.namespace}-${sa.name}`;
    return {
      summary: `Create ClusterRole ${defaultRoleName} with the documented rules and bind it to ${saLabel} with ClusterRoleBinding ${bindingName}`,
      yaml: `${clusterRoleYaml(defaultRoleName, rulesFor(contract))}\n---\n${clusterRoleBindingYaml(bindingName, defaultRoleName, [saSubject(sa)])}`,
    };
  }
  const { role } = target;
  const toAdd = missing.filter((item) => !roleGrants(role, item));
  const roleYaml = toAdd.length
    ? `${clusterRoleYaml(role.meta.name, [...role.rules, ...rulesFor(toAdd)])}\n---\n`
    : '';
  const owner = managedBy(role.meta);
  const ownerNote = owner
    ? ` (${roleLabel(role)} is managed by ${owner}: make the same change in its source, or the next sync reverts it)`
    : '';
  if (target.binding.kind === 'ClusterRoleBinding') {
    const b = target.binding;
    const namesSa = b.subjects.some(
      (s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace,
    );
    const subjects = namesSa ? b.subjects : [...b.subjects, saSubject(sa)];
    const rulesNote = toAdd.length ? ` and the missing rules to ${roleLabel(role)}` : '';
    return {
      summary: target.danglingSubject
        ? `${bindingLabel(b)} binds ${roleLabel(role)} to ServiceAccount ${target.danglingSubject.namespace}/${target.danglingSubject.name}, which does not exist: add ${saLabel} to its subjects${rulesNote}${ownerNote}`
        : `Add the missing rules to ${roleLabel(role)}, which ${bindingLabel(b)} binds to ${saLabel}${ownerNote}`,
      yaml: `${roleYaml}${clusterRoleBindingYaml(b.meta.name, role.meta.name, subjects)}`,
    };
  }
  const bindingName = `${role.meta.name}-${sa.namespace}-${sa.name}`;
  return {
    summary: `${bindingLabel(target.binding)} grants ${roleLabel(role)} only inside namespace ${target.namespace}: bind the role cluster-wide with ClusterRoleBinding ${bindingName}${toAdd.length ? ' and add the missing rules' : ''}${ownerNote}`,
    yaml: `${roleYaml}${clusterRoleBindingYaml(bindingName, role.meta.name, [saSubject(sa)])}`,
  };
}

/** The remediation text of a contract finding: summary, then the YAML. */
export function fixText(fix: ContractFix): string {
  return `${fix.summary}. Apply with \`kubectl apply -f -\`:\n${fix.yaml}`;
}
