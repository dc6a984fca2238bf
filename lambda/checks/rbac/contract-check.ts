/**
 * The shared body of the RBAC contract checks (rbac-agent-contract, rbac-cluster-agent-contract):
 * for each ServiceAccount, which contract items its bindings do not grant and why, a ready-to-apply
 * fix, the bindings around it that cannot work (missing role, missing ServiceAccount), and the
 * SubjectAccessReview answers that disagree with the static verdict.
 */
import type { CheckResult, ResourceRef } from '../../config/findings.js';
import {
  itemsOf,
  type AccessReview,
  type ClusterSnapshot,
  type Role,
  type RoleBinding,
} from '../../snapshot/snapshot.js';
import { accessReviewIndex, reviewKey, toReview } from '../../snapshot/rbac/access-review.js';
import {
  describeItem,
  evaluateContract,
  requestsOf,
  sourceLabel,
  type ContractItem,
  type ItemVerdict,
} from '../../snapshot/rbac/contracts.js';
import {
  bindingLabel,
  roleLabel,
  roleRefLabel,
  type Decision,
  type RbacIndex,
  type ResolvedBinding,
  type ServiceAccountRef,
} from '../../snapshot/rbac/evaluator.js';
import { ruleAllows, resourceLabel } from '../../snapshot/rbac/match.js';
import { contractFix, fixText, type RoleInstaller } from '../../snapshot/rbac/remediation.js';
import { isClusterScoped } from '../../snapshot/rbac/scope.js';
import { runsLabel, type ContractSubject } from '../../snapshot/rbac/subjects.js';

export interface ContractCheckOptions {
  subjects: ContractSubject[];
  /** New ClusterRole name when there is none to extend. */
  defaultRoleName: string;
  /** `the Datadog agent`, `the Cluster Agent`: who runs under the ServiceAccount. */
  whose: string;
  /** `Datadog's EKS Fargate agent ClusterRole`: what the contract is. */
  contractName: string;
  /** The Helm value or DatadogAgent field to change when the role to extend is the installer's. */
  installerFix?: (installer: RoleInstaller, role: Role) => string | undefined;
}

export function bindingResource(b: RoleBinding): ResourceRef {
  return {
    kind: b.kind,
    ...(b.meta.namespace ? { namespace: b.meta.namespace } : {}),
    name: b.meta.name,
  };
}

const saLabel = (sa: ServiceAccountRef) => `ServiceAccount ${sa.namespace}/${sa.name}`;
const saKey = (sa: ServiceAccountRef) => `${sa.namespace}/${sa.name}`;

/** Bindings that grant (part of) a contract to a ServiceAccount that does not exist. */
interface DanglingSubject {
  resolved: ResolvedBinding;
  serviceAccount: ServiceAccountRef;
}

function roleGrantsItem(resolved: ResolvedBinding, item: ContractItem): boolean {
  const rules = resolved.role?.rules ?? [];
  return requestsOf(item).some((req) => rules.some((rule) => ruleAllows(rule, req)));
}

function explainDenial(item: ContractItem, decisions: Decision[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of decisions) {
    for (const miss of d.nearMisses) {
      const { applied, rule } = miss.rule;
      const key = `${bindingLabel(applied.binding)}|${miss.reason}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const via = `${bindingLabel(applied.binding)} -> ${roleLabel(applied.role!)}`;
      if (miss.reason === 'namespaced-binding') {
        out.push(
          isClusterScoped(item.group, item.resource)
            ? `${via} lists it, but a RoleBinding never grants cluster-scoped resources such as ${item.resource}: only a ClusterRoleBinding does`
            : `${via} grants it only inside namespace ${applied.namespace}, not ${item.namespace !== undefined ? `in namespace ${item.namespace}` : 'in every namespace'}`,
        );
      } else {
        out.push(
          `${via} allows it only on resourceNames [${rule.resourceNames.join(', ')}], which never grants ${item.name ? `"${item.name}"` : 'list, watch or create'}`,
        );
      }
    }
  }
  return out;
}

function reviewDisagreements(
  sa: ServiceAccountRef,
  verdict: ItemVerdict,
  reviews: Map<string, AccessReview>,
  whose: string,
): CheckResult[] {
  const out: CheckResult[] = [];
  for (const req of requestsOf(verdict.item)) {
    const review = reviews.get(reviewKey(toReview(sa, req)));
    const decision = verdict.decisions.get(req.verb);
    if (!review || !decision || review.allowed === decision.allowed) continue;
    const what = describeItem(verdict.item, [req.verb]);
    const staticSide = decision.allowed
      ? `allowed by ${decision.grantedBy.map((g) => bindingLabel(g.applied.binding)).join(', ')}`
      : 'not granted by any binding';
    const apiSide = `${review.allowed ? 'allowed' : review.denied ? 'denied' : 'not allowed'}${
      review.reason ? ` (${review.reason})` : ''
    }${review.evaluationError ? ` [evaluation error: ${review.evaluationError}]` : ''}`;
    out.push({
      status: 'FAIL',
      severity: 'info',
      resource: { kind: 'ServiceAccount', namespace: sa.namespace, name: sa.name },
      messageId: `access-review:${verdict.item.id}:${req.verb}`,
      message: `Static RBAC analysis and the API server disagree on ${what} for ${saLabel(sa)} (${whose}): static analysis says ${staticSide}; the SubjectAccessReview says ${apiSide}.`,
      remediation:
        'Usually a webhook authorizer, a role changed during the audit, or RBAC objects the auditor could not list. Re-run the audit; if it persists, trust the API server and check `kubectl auth can-i --as=system:serviceaccount:' +
        `${sa.namespace}:${sa.name} ${req.verb} ${resourceLabel(req.group, req.resource, req.subresource)}${req.namespace ? ` -n ${req.namespace}` : ' -A'}\`.`,
    });
  }
  return out;
}

export function contractResults(
  snapshot: ClusterSnapshot,
  index: RbacIndex,
  opts: ContractCheckOptions,
): CheckResult[] {
  const results: CheckResult[] = [];
  const reviews = accessReviewIndex(snapshot);
  const dangling = danglingSubjects(snapshot, index, opts.subjects);
  const reportedBindings = new Set<RoleBinding>();

  for (const subject of opts.subjects) {
    const sa = subject.serviceAccount;
    const resource: ResourceRef = {
      kind: 'ServiceAccount',
      namespace: sa.namespace,
      name: sa.name,
    };
    const permissions = index.permissionsOf(sa);
    const runs = `runs ${opts.whose} in ${runsLabel(subject.runs)}`;

    for (const applied of permissions.bindingsWithoutRole) {
      if (reportedBindings.has(applied.binding)) continue;
      reportedBindings.add(applied.binding);
      const problem = index.problems.find(
        (p) => p.binding === applied.binding && p.code !== 'subject-without-namespace',
      );
      results.push({
        status: 'FAIL',
        severity: 'high',
        resource: bindingResource(applied.binding),
        messageId: problem?.code ?? 'missing-role',
        message: `${problem?.message ?? `${bindingLabel(applied.binding)} refers to ${roleRefLabel(applied.binding)}, which does not exist.`} It applies to ${saLabel(sa)}, which ${runs}.`,
        remediation:
          applied.binding.kind === 'ClusterRoleBinding' &&
          applied.binding.roleRef.kind !== 'ClusterRole'
            ? `Delete ${bindingLabel(applied.binding)} and recreate it with roleRef.kind: ClusterRole (roleRef is immutable).`
            : `Create ${roleRefLabel(applied.binding)}, or delete ${bindingLabel(applied.binding)} and bind an existing role (roleRef is immutable).`,
      });
    }

    const verdicts = evaluateContract(permissions, subject.contract);
    const missing = verdicts.filter((v) => v.missingVerbs.length > 0);
    if (missing.length === 0) {
      const granting = new Set<string>();
      for (const v of verdicts) {
        for (const d of v.decisions.values()) {
          for (const g of d.grantedBy)
            granting.add(`${bindingLabel(g.applied.binding)} -> ${roleLabel(g.applied.role!)}`);
        }
      }
      results.push({
        status: 'PASS',
        resource,
        messageId: 'contract-met',
        message: `${saLabel(sa)} (${runs}) has every permission of ${opts.contractName}, granted by ${[...granting].sort().join('; ')}.`,
        remediation: '',
      });
    } else {
      const fix = fixText(
        contractFix({
          serviceAccount: sa,
          permissions,
          contract: subject.contract,
          missing: missing.map((v) => v.item),
          defaultRoleName: opts.defaultRoleName,
          ...(opts.installerFix ? { installerFix: opts.installerFix } : {}),
          dangling: dangling
            .filter((d) => d.serviceAccount.namespace === sa.namespace)
            .map((d) => ({ binding: d.resolved, serviceAccount: d.serviceAccount })),
        }),
      );
      const withoutRole = permissions.bindingsWithoutRole.map(
        (b) =>
          `${bindingLabel(b.binding)} would apply but refers to ${roleRefLabel(b.binding)}, which does not exist`,
      );
      for (const v of missing) {
        const decisions = v.missingVerbs.map((verb) => v.decisions.get(verb)!);
        const reasons = [
          ...explainDenial(v.item, decisions),
          ...withoutRole,
          ...dangling
            .filter(
              (d) =>
                d.serviceAccount.namespace === sa.namespace && roleGrantsItem(d.resolved, v.item),
            )
            .map(
              (d) =>
                `${bindingLabel(d.resolved.binding)} grants it to ${saLabel(d.serviceAccount)}, which does not exist (the pods run as ${saLabel(sa)})`,
            ),
        ];
        const applying = permissions.bindings
          .filter((b) => b.role)
          .map((b) => `${bindingLabel(b.binding)} -> ${roleLabel(b.role!)}`);
        const because = reasons.length
          ? ` ${reasons.join('; ')}.`
          : applying.length
            ? ` The binding(s) that apply to it do not grant it: ${applying.slice(0, 3).join('; ')}${applying.length > 3 ? ` and ${applying.length - 3} more` : ''}.`
            : ' No RoleBinding or ClusterRoleBinding applies to it.';
        results.push({
          status: 'FAIL',
          severity: v.item.severity,
          resource,
          messageId: `missing:${v.item.id}`,
          message: `${saLabel(sa)} (${runs}) is not allowed ${describeItem(v.item, v.missingVerbs)}, which ${opts.contractName} grants: ${v.item.why} (rule from ${v.item.sources.map(sourceLabel).join('; ')}).${because}`,
          remediation: fix,
        });
      }
    }
    if (reviews)
      for (const v of verdicts) results.push(...reviewDisagreements(sa, v, reviews, opts.whose));
  }

  for (const d of dangling) {
    const b = d.resolved.binding;
    const runsHere = opts.subjects.filter(
      (s) => s.serviceAccount.namespace === d.serviceAccount.namespace,
    );
    const actual = runsHere.map((s) => saLabel(s.serviceAccount)).join(', ');
    const index = b.subjects.findIndex(
      (s) =>
        s.kind === 'ServiceAccount' &&
        s.name === d.serviceAccount.name &&
        (s.namespace ?? b.meta.namespace) === d.serviceAccount.namespace,
    );
    results.push({
      status: 'FAIL',
      severity: 'medium',
      resource: bindingResource(b),
      messageId: `missing-subject:${saKey(d.serviceAccount)}`,
      message: `${bindingLabel(b)} grants ${roleLabel(d.resolved.role!)} to ${saLabel(d.serviceAccount)}, which does not exist; ${opts.whose} in namespace ${d.serviceAccount.namespace} runs as ${actual}.`,
      remediation: `Set subjects[${index}] of ${bindingLabel(b)} to ${runsHere.length === 1 ? `{kind: ServiceAccount, name: ${runsHere[0]!.serviceAccount.name}, namespace: ${d.serviceAccount.namespace}}` : `the ServiceAccount the pods run as (${actual})`}, or create ${saLabel(d.serviceAccount)} and set serviceAccountName: ${d.serviceAccount.name} in the pod template.`,
    });
  }
  return results;
}

/**
 * Bindings whose role grants part of a contract to a ServiceAccount that does not exist, in a
 * namespace where a contract subject runs: the usual sign of a binding written for another name.
 */
function danglingSubjects(
  snapshot: ClusterSnapshot,
  index: RbacIndex,
  subjects: ContractSubject[],
): DanglingSubject[] {
  if (snapshot.kube.serviceAccounts.status !== 'ok') return [];
  const existing = new Set(
    itemsOf(snapshot.kube.serviceAccounts).map((s) => `${s.meta.namespace}/${s.meta.name}`),
  );
  const contractByNamespace = new Map<string, ContractItem[]>();
  for (const s of subjects) {
    const list = contractByNamespace.get(s.serviceAccount.namespace) ?? [];
    for (const item of s.contract) if (!list.some((i) => i.id === item.id)) list.push(item);
    contractByNamespace.set(s.serviceAccount.namespace, list);
  }
  const out: DanglingSubject[] = [];
  for (const resolved of index.bindings) {
    if (!resolved.role) continue;
    for (const sa of resolved.serviceAccounts) {
      const contract = contractByNamespace.get(sa.namespace);
      if (!contract || existing.has(saKey(sa))) continue;
      if (contract.some((item) => roleGrantsItem(resolved, item)))
        out.push({ resolved, serviceAccount: sa });
    }
  }
  return out;
}
