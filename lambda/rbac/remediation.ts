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
  type AppliedBinding,
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

/** The ClusterRole already used for this contract: bound cluster-wide first, then the best cover. */
function existingTarget(
  permissions: Permissions,
  contract: readonly ContractItem[],
): { applied: AppliedBinding; role: Role } | undefined {
  let best: { applied: AppliedBinding; role: Role; score: number } | undefined;
  for (const applied of permissions.bindings) {
    const role = applied.role;
    if (!role || role.kind !== 'ClusterRole' || role.aggregationSelectors.length > 0) continue;
    if (role.meta.name.startsWith('system:') || role.meta.name === 'cluster-admin') continue;
    const score = coverage(role, contract) * 2 + (applied.namespace === undefined ? 1 : 0);
    if (score > 1 && (!best || score > best.score)) best = { applied, role, score };
  }
  return best;
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
}): ContractFix {
  const { serviceAccount: sa, permissions, contract, missing, defaultRoleName } = opts;
  const saLabel = `ServiceAccount ${sa.namespace}/${sa.name}`;
  const target = existingTarget(permissions, contract);
  if (!target) {
    const bindingName = `${defaultRoleName}-${sa.namespace}-${sa.name}`;
    return {
      summary: `Create ClusterRole ${defaultRoleName} with the documented rules and bind it to ${saLabel} with ClusterRoleBinding ${bindingName}`,
      yaml: `${clusterRoleYaml(defaultRoleName, rulesFor(contract))}\n---\n${clusterRoleBindingYaml(bindingName, defaultRoleName, [saSubject(sa)])}`,
    };
  }
  const { applied, role } = target;
  const toAdd = missing.filter((item) => !roleGrants(role, item));
  const roleYaml = toAdd.length
    ? `${clusterRoleYaml(role.meta.name, [...role.rules, ...rulesFor(toAdd)])}\n---\n`
    : '';
  const owner = managedBy(role.meta);
  const ownerNote = owner
    ? ` (${roleLabel(role)} is managed by ${owner}: make the same change in its source, or the next sync reverts it)`
    : '';
  if (applied.binding.kind === 'ClusterRoleBinding') {
    const b = applied.binding;
    const namesSa = b.subjects.some(
      (s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace,
    );
    const subjects = namesSa ? b.subjects : [...b.subjects, saSubject(sa)];
    return {
      summary: `Add the missing rules to ${roleLabel(role)}, which ${bindingLabel(b)} binds to ${saLabel}${ownerNote}`,
      yaml: `${roleYaml}${clusterRoleBindingYaml(b.meta.name, role.meta.name, subjects)}`,
    };
  }
  const bindingName = `${role.meta.name}-${sa.namespace}-${sa.name}`;
  return {
    summary: `${bindingLabel(applied.binding)} grants ${roleLabel(role)} only inside namespace ${applied.namespace}: bind the role cluster-wide with ClusterRoleBinding ${bindingName}${toAdd.length ? ' and add the missing rules' : ''}${ownerNote}`,
    yaml: `${roleYaml}${clusterRoleBindingYaml(bindingName, role.meta.name, [saSubject(sa)])}`,
  };
}

/** The remediation text of a contract finding: summary, then the YAML. */
export function fixText(fix: ContractFix): string {
  return `${fix.summary}. Apply with \`kubectl apply -f -\`:\n${fix.yaml}`;
}
