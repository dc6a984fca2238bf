import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import { contractResults } from './contract-check.js';
import { RBAC_INDEX, RBAC_DATA, RbacIndex } from '../../snapshot/rbac/evaluator.js';
import { fargateAgentSubjects } from '../../snapshot/rbac/subjects.js';
import { discoverAgents } from '../../snapshot/agents.js';
import type { Check } from '../check.js';

/**
 * Every ServiceAccount that runs the agent on Fargate (the application's ServiceAccount, for an
 * injected sidecar) holds Datadog's documented EKS Fargate ClusterRole, computed from all bindings
 * as the API server's RBAC authorizer would.
 */
export const rbacAgentContract: Check = {
  id: 'rbac-agent-contract',
  area: 'rbac',
  title: "Agent ServiceAccounts on Fargate hold Datadog's documented EKS Fargate ClusterRole",
  severity: 'critical',
  resourceType: 'ServiceAccount',
  risk: 'The sidecar reaches the kubelet through the API server: without nodes/proxy it collects no kubelet, pod or container data; without endpoints, nodes or namespaces it logs "forbidden" and loses tags and endpoint checks.',
  remediation:
    'Bind a ClusterRole with the documented rules (nodes, namespaces, endpoints get/list; nodes/metrics, spec, stats, proxy, pods, healthz get) to the ServiceAccount with a ClusterRoleBinding.',
  requires: ['kube.pods', ...RBAC_DATA],
  models: [RBAC_INDEX],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    return contractResults(snapshot, RbacIndex.forSnapshot(snapshot), {
      subjects: fargateAgentSubjects(discoverAgents(snapshot)),
      defaultRoleName: 'datadog-agent-fargate',
      whose: 'the Datadog agent',
      contractName: "Datadog's EKS Fargate agent ClusterRole",
    });
  },
};
