import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import { discoverAgents, isClusterChecksRunner } from '../../snapshot/agents.js';
import type { Check } from '../check.js';
import { operatorSetups } from '../../snapshot/operator.js';
import { detectSetup } from '../../snapshot/setup.js';

/** What discovery looks at, said in the finding so a user can tell why their install was missed. */
const SEARCHED_LABELS =
  'labels app.kubernetes.io/component=cluster-agent, agent.datadoghq.com/component=cluster-agent or app=*cluster-agent';
const SEARCHED_IMAGES =
  'container images containing "cluster-agent" or a container named cluster-agent';

/**
 * A cluster with no Datadog must not pass: every other check finds nothing to evaluate there and
 * would report nothing at all. No Cluster Agent, or a Cluster Agent with no agent anywhere (no agent
 * container, no injected sidecar, no pod asking for one), is a FAIL.
 */
export const datadogSetupFound: Check = {
  id: 'datadog-setup-found',
  area: 'setup',
  title:
    'A Datadog Cluster Agent and at least one agent (sidecar, injected sidecar or DaemonSet) exist',
  severity: 'high',
  resourceType: 'Cluster',
  risk: 'Without a Cluster Agent or any agent, nothing is monitored; every other check has nothing to evaluate, so an audit that said nothing would read as healthy.',
  remediation:
    'Point the auditor at the install (config clusters[].clusterAgent.namespace / serviceName) or install Datadog (Helm chart or Operator) with agents on the Fargate pods.',
  requires: ['kube.pods', 'kube.deployments', 'kube.daemonsets', 'kube.statefulsets'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const d = discoverAgents(snapshot);
    const setup = detectSetup(snapshot);
    const resource = { kind: 'Cluster', name: snapshot.cluster.name };
    const override = snapshot.settings.clusterAgent;
    const configHint = `If Datadog runs under other names, set clusters[].clusterAgent.namespace${override.namespace ? ` (now "${override.namespace}")` : ''} and clusters[].clusterAgent.serviceName for ${snapshot.cluster.name} in the auditor config.`;
    if (!d.clusterAgent) {
      const where = override.namespace ? `namespace ${override.namespace}` : 'all namespaces';
      const ddas = operatorSetups(snapshot);
      const operatorNote =
        snapshot.kube.datadogAgents.status === 'not-installed'
          ? 'the DatadogAgent CRD (datadoghq.com/v2alpha1) is not installed'
          : ddas.length
            ? `DatadogAgent ${ddas.map((x) => `${x.namespace}/${x.name}`).join(', ')} exists but its Cluster Agent (<name>-cluster-agent) runs nowhere: check the Operator's logs and the DatadogAgent status`
            : 'no DatadogAgent resource exists';
      return [
        {
          status: 'FAIL',
          resource,
          messageId: 'no-cluster-agent',
          message: `No Datadog Cluster Agent found in cluster ${snapshot.cluster.name}: searched pods and Deployments in ${where} for ${SEARCHED_LABELS}, and ${SEARCHED_IMAGES}; ${operatorNote}. ${
            d.agents.length
              ? `${d.agents.length} agent container(s) exist but have no Cluster Agent to talk to.`
              : 'No agent container, injected sidecar or DaemonSet was found either: nothing on this cluster reports to Datadog.'
          }`,
          remediation: `${configHint} Otherwise install the Cluster Agent: Helm chart datadog/datadog (clusterAgent.enabled: true) or the Datadog Operator with a DatadogAgent resource.`,
        },
      ];
    }
    const ca = `${d.clusterAgent.namespace}/${d.clusterAgent.deployment?.meta.name ?? d.clusterAgent.pods[0]?.meta.name ?? ''}`;
    // Cluster checks runners run checks the Cluster Agent dispatches; they monitor no pod.
    const agents =
      d.agents.filter((a) => !isClusterChecksRunner(a)).length +
      d.sidecarRequests.filter((r) => !r.injected).length;
    if (agents === 0) {
      return [
        {
          status: 'FAIL',
          resource,
          messageId: 'no-agents',
          message: `Cluster Agent ${ca} runs in cluster ${snapshot.cluster.name}, but no agent does: no agent container in any pod or workload template, no injected datadog-agent-injected sidecar and no pod asking the admission controller for one. No pod, container or APM data leaves this cluster.`,
          remediation: `Add agents to the Fargate workloads: label their pod templates agent.datadoghq.com/sidecar: fargate with the Helm values clusterAgent.admissionController.agentSidecarInjection {enabled: true, provider: fargate} (then restart them), or add the agent sidecar container to each Deployment. ${configHint}`,
        },
      ];
    }
    return [
      {
        status: 'PASS',
        resource,
        messageId: 'found',
        message: `Datadog found in cluster ${snapshot.cluster.name}: ${setup.summary}.`,
        remediation: '',
      },
    ];
  },
};
