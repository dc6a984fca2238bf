import type { CheckResult } from '../../findings.js';
import type { ClusterSnapshot } from '../../snapshot.js';
import { contractResults } from '../../rbac/contract-check.js';
import { RBAC_INDEX, RBAC_DATA, RbacIndex } from '../../rbac/evaluator.js';
import { clusterAgentSubject } from '../../rbac/subjects.js';
import { discoverAgents } from '../agent-discovery.js';
import type { Check } from '../check.js';

/**
 * The Cluster Agent's ServiceAccount holds the core rules of the Helm chart's Cluster Agent
 * ClusterRole, and its leader-election lease when leader election is on.
 */
export const rbacClusterAgentContract: Check = {
  id: 'rbac-cluster-agent-contract',
  area: 'rbac',
  title: "The Cluster Agent's ServiceAccount holds the Helm chart's core Cluster Agent rules",
  severity: 'high',
  resourceType: 'ServiceAccount',
  risk: 'Without these the Cluster Agent cannot serve cluster metadata to the agents (no kube_service or namespace tags), cannot run endpoint checks, and never wins leader election, so cluster checks and external metrics stop.',
  remediation:
    'Bind a ClusterRole with services, endpoints, pods, nodes, namespaces and discovery.k8s.io endpointslices get/list/watch, events create and coordination.k8s.io leases create/get/update to the Cluster Agent ServiceAccount.',
  requires: ['kube.pods', ...RBAC_DATA],
  models: [RBAC_INDEX],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const subject = clusterAgentSubject(discoverAgents(snapshot));
    if (!subject) return [];
    return contractResults(snapshot, RbacIndex.forSnapshot(snapshot), {
      subjects: [subject],
      defaultRoleName: 'datadog-cluster-agent-core',
      whose: 'the Cluster Agent',
      contractName: "the Helm chart's Cluster Agent ClusterRole",
    });
  },
};
