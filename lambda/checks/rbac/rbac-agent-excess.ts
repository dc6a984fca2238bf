import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot, PolicyRule } from '../../snapshot/snapshot.js';
import { FARGATE_AGENT_CONTRACT, rulesFor } from '../../snapshot/rbac/contracts.js';
import {
  RBAC_INDEX,
  bindingLabel,
  RBAC_DATA,
  RbacIndex,
  roleLabel,
  type AppliedBinding,
  type ServiceAccountRef,
} from '../../snapshot/rbac/evaluator.js';
import { ruleAllows } from '../../snapshot/rbac/match.js';
import { clusterRoleYaml, managedBy } from '../../snapshot/rbac/remediation.js';
import { runsLabel } from '../../snapshot/rbac/subjects.js';
import { agentLocation, discoverAgents } from '../../snapshot/agents.js';
import type { Check } from '../check.js';

const SECRET_VERBS = ['get', 'list'] as const;

/** Why one binding gives an agent ServiceAccount more than it needs; empty when it does not. */
function excessOf(applied: AppliedBinding): string[] {
  const role = applied.role;
  if (!role) return [];
  const reasons = new Set<string>();
  for (const rule of role.rules) {
    if (rule.resources.length === 0) continue;
    if (rule.verbs.includes('*')) reasons.add(`every verb ("*") on ${rule.resources.join(', ')}`);
    if (rule.resources.includes('*')) {
      reasons.add(
        `every resource ("*") in API group(s) ${rule.apiGroups.map((g) => g || '""').join(', ')}`,
      );
    }
    // Reading secrets in one namespace can be legitimate; cluster-wide it reads every credential.
    if (applied.namespace === undefined) {
      const verbs = SECRET_VERBS.filter((verb) =>
        ruleAllows(rule, { verb, group: '', resource: 'secrets' }),
      );
      if (verbs.length)
        reasons.add(`${verbs.map((v) => `"${v}"`).join(' and ')} on secrets in every namespace`);
    }
  }
  return [...reasons];
}

function ruleLines(rules: PolicyRule[]): string {
  return rules.length ? clusterRoleYaml('datadog-agent-fargate', rules) : '';
}

/**
 * Agent ServiceAccounts are not granted wildcards or cluster-wide secret reads. On Fargate the
 * agent shares the application's ServiceAccount, so an over-broad grant is the application's too.
 * `nodes/proxy` is part of Datadog's documented contract and is not reported.
 */
export const rbacAgentExcess: Check = {
  id: 'rbac-agent-excess',
  area: 'rbac',
  title:
    'Agent ServiceAccounts are not granted wildcard verbs/resources or cluster-wide secret reads',
  severity: 'medium',
  resourceType: 'ServiceAccount',
  risk: 'Anyone who can exec into a pod running as this ServiceAccount (the application itself on Fargate) inherits the grant: wildcards allow changing the cluster, cluster-wide secret reads expose every credential.',
  remediation:
    "Replace the over-broad binding with Datadog's documented ClusterRole (explicit resources and verbs, no secrets).",
  requires: ['kube.pods', ...RBAC_DATA],
  models: [RBAC_INDEX],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const index = RbacIndex.forSnapshot(snapshot);
    const bySa = new Map<string, { sa: ServiceAccountRef; runs: string[] }>();
    for (const a of discoverAgents(snapshot).agents) {
      const key = `${a.namespace}/${a.serviceAccountName}`;
      const entry = bySa.get(key) ?? {
        sa: { namespace: a.namespace, name: a.serviceAccountName },
        runs: [],
      };
      const where = agentLocation(a);
      if (!entry.runs.includes(where)) entry.runs.push(where);
      bySa.set(key, entry);
    }

    const results: CheckResult[] = [];
    for (const { sa, runs } of bySa.values()) {
      const resource = { kind: 'ServiceAccount', namespace: sa.namespace, name: sa.name };
      const saText = `ServiceAccount ${sa.namespace}/${sa.name} (runs the Datadog agent in ${runsLabel(runs)})`;
      const permissions = index.permissionsOf(sa);
      let flagged = false;
      for (const applied of permissions.bindings) {
        const reasons = excessOf(applied);
        if (!reasons.length) continue;
        flagged = true;
        const b = applied.binding;
        const role = applied.role!;
        const scope =
          applied.namespace === undefined ? 'cluster-wide' : `in namespace ${applied.namespace}`;
        const owner = managedBy(role.meta) ?? managedBy(b.meta);
        results.push({
          status: 'FAIL',
          resource,
          messageId: `excess:${b.kind}/${b.meta.namespace ?? ''}/${b.meta.name}`,
          message: `${saText} is granted ${reasons.join('; ')} ${scope} by ${bindingLabel(b)} -> ${roleLabel(role)} (subject ${applied.via}).`,
          remediation:
            `Remove ${applied.via} from the subjects of ${bindingLabel(b)} (or narrow ${roleLabel(role)})` +
            `${owner ? ` in its ${owner} source` : ''}, and grant the agent only Datadog's documented rules:\n` +
            ruleLines(rulesFor(FARGATE_AGENT_CONTRACT)),
        });
      }
      if (!flagged) {
        results.push({
          status: 'PASS',
          resource,
          messageId: 'no-excess',
          message: `${saText} has no wildcard grants and no cluster-wide secret reads across its ${permissions.bindings.length} binding(s).`,
          remediation: '',
        });
      }
    }
    return results;
  },
};
