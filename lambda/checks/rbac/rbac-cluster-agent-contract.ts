import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import { contractResults } from './contract-check.js';
import { clusterAgentContractName, installMethodOf } from '../../snapshot/rbac/contracts.js';
import { RBAC_INDEX, RBAC_DATA, RbacIndex } from '../../snapshot/rbac/evaluator.js';
import { clusterAgentSubject } from '../../snapshot/rbac/subjects.js';
import { discoverAgents } from '../../snapshot/agents.js';
import type { Check } from '../check.js';

/**
 * The Cluster Agent's ServiceAccount holds the rules its installer (the Helm chart or the Datadog
 * Operator) grants it and its own code needs: read access to what it serves as metadata, its
 * leader-election lease when leader election is on, events when the external metrics provider
 * is on. Each rule names the vendor file it comes from (rbac/contracts.ts).
 */
export const rbacClusterAgentContract: Check = {
  id: 'rbac-cluster-agent-contract',
  area: 'rbac',
  title:
    "The Cluster Agent's ServiceAccount holds the core rules its installer (Helm chart or Datadog Operator) grants",
  severity: 'high',
  resourceType: 'ServiceAccount',
  risk: 'Without these the Cluster Agent cannot serve cluster metadata to the agents (no kube_service or namespace tags), cannot run endpoint checks, and never wins leader election, so cluster checks and external metrics stop.',
  remediation:
    'Let the installer grant them (Helm: clusterAgent.rbac.create; Operator: it renders them unless spec.override.clusterAgent.createRbac is false), or bind a ClusterRole with services, endpoints, pods, nodes, namespaces and discovery.k8s.io endpointslices get/list/watch, coordination.k8s.io leases create/get/update (leader election) and events create (external metrics) to the Cluster Agent ServiceAccount.',
  requires: ['kube.pods', ...RBAC_DATA],
  models: [RBAC_INDEX],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const discovery = discoverAgents(snapshot);
    const subject = clusterAgentSubject(discovery);
    if (!subject || !discovery.clusterAgent) return [];
    return contractResults(snapshot, RbacIndex.forSnapshot(snapshot), {
      subjects: [subject],
      defaultRoleName: 'datadog-cluster-agent-core',
      whose: 'the Cluster Agent',
      contractName: clusterAgentContractName(installMethodOf(discovery.clusterAgent)),
      installerFix: (installer, role) => {
        const ca = discovery.clusterAgent!;
        if (installer === 'operator') {
          const dda = ca.datadogAgent ? `DatadogAgent ${ca.datadogAgent}` : 'the DatadogAgent';
          return `Upgrade the Datadog Operator that reconciles ${dda} (its current render grants these rules), or set spec.override.clusterAgent.createRbac: false in ${dda} and grant the Cluster Agent's rules yourself.`;
        }
        const release =
          role.meta.annotations['meta.helm.sh/release-name'] ??
          role.meta.labels['app.kubernetes.io/instance'];
        return `Upgrade the Helm release${release ? ` ${release}` : ''} to a chart version that grants these rules with clusterAgent.rbac.create: true (the default), or set clusterAgent.rbac.create: false and grant the Cluster Agent's rules yourself.`;
      },
    });
  },
};
