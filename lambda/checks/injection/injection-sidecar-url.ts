import { settingField } from '../../snapshot/admission/sidecar-config.js';
import type { CheckResult } from '../../config/findings.js';
import { itemsOf, type ClusterSnapshot } from '../../snapshot/snapshot.js';
import { discoverAgents } from '../../snapshot/agents.js';
import type { Check } from '../check.js';
import { clusterAgentLabel, clusterAgentResource } from './injection-model.js';

const URL_RE = /^https:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)\/?$/;

/**
 * The URL the webhook writes into every injected sidecar is built from the Cluster Agent's own
 * DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME, namespace and DD_CLUSTER_AGENT_CMD_PORT (or a profile
 * override). It must name a Service with that port and ready endpoints, or every injected agent
 * fails to reach the Cluster Agent.
 */
export const injectionSidecarUrl: Check = {
  id: 'injection-sidecar-url',
  area: 'injection',
  title: 'The Cluster Agent URL the injection webhook writes reaches a ready Service',
  severity: 'high',
  resourceType: 'Deployment',
  risk: 'A wrong service name or port in the Cluster Agent env gives every injected sidecar a URL that does not resolve or has no ready endpoint: no cluster-level tags or metadata for any of them.',
  remediation:
    'Set DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME (and DD_CLUSTER_AGENT_CMD_PORT) on the Cluster Agent to its Service and port, or fix the profile override of DD_CLUSTER_AGENT_URL.',
  requires: ['kube.pods', 'kube.deployments', 'kube.services', 'kube.endpoints'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const d = discoverAgents(snapshot);
    const inj = d.injection;
    const ca = d.clusterAgent;
    if (!ca || !inj || !d.sidecarRequests.length || inj.clusterAgentEnabled === false) return [];
    const resource = clusterAgentResource(ca);
    const where = clusterAgentLabel(ca);
    const override = inj.profileEnv.find((e) => e.name === 'DD_CLUSTER_AGENT_URL');
    const url = override?.value ?? inj.sidecarUrl;
    const source = override
      ? 'the sidecar profile override of DD_CLUSTER_AGENT_URL'
      : `${where} (DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME, its namespace, DD_CLUSTER_AGENT_CMD_PORT)`;
    if (!url) {
      return [
        {
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: 'not-evaluated',
          message: `The URL the injection webhook writes is built from settings of ${where} that the auditor does not read: not evaluated.`,
          remediation:
            'Set DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME and DD_CLUSTER_AGENT_CMD_PORT as literal env values on the Cluster Agent container.',
        },
      ];
    }
    const m = URL_RE.exec(url);
    // With the Operator, the service name and port are its own; only the profile is the user's.
    const fix =
      inj.source?.kind === 'operator' && override
        ? `Correct or remove the DD_CLUSTER_AGENT_URL entry of the sidecar profile (${settingField(inj.source, 'agentSidecarInjection.profiles[0].env')}): without it the webhook writes https://${inj.serviceName ?? '<service>'}.${ca.namespace}.svc.cluster.local:${inj.cmdPort ?? 5005}. Then restart the injected workloads.`
        : `Set DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME on ${where} to the Cluster Agent Service name${ca.service ? ` (${ca.service.meta.name})` : ''} and DD_CLUSTER_AGENT_CMD_PORT to its port${override ? ', or correct the profile override of DD_CLUSTER_AGENT_URL (Helm clusterAgent.admissionController.agentSidecarInjection.profiles[0].env)' : ''}, then restart the injected workloads.`;
    if (!m) {
      return [
        {
          status: 'FAIL',
          resource,
          messageId: 'url-malformed',
          message: `Injected sidecars get DD_CLUSTER_AGENT_URL="${url.slice(0, 120).replace(/[^\w.:/-]/g, '?')}" from ${source}, which is not https://<service>.<namespace>.svc.cluster.local:<port>.`,
          remediation: fix,
        },
      ];
    }
    const [, name, ns, portText] = m;
    const port = Number(portText);
    const service = itemsOf(snapshot.kube.services).find(
      (s) => s.meta.namespace === ns && s.meta.name === name,
    );
    const ep = itemsOf(snapshot.kube.endpoints).find(
      (e) => e.namespace === ns && e.serviceName === name,
    );
    let problem: string | undefined;
    if (!service) problem = `namespace ${ns} has no Service ${name}`;
    else if (!service.ports.some((p) => p.port === port)) {
      problem = `Service ${ns}/${name} does not expose port ${port} (it has ${service.ports.map((p) => p.port).join(', ') || 'none'})`;
    } else if (!ep || ep.readyAddresses < 1)
      problem = `Service ${ns}/${name} has no ready endpoint`;
    if (problem) {
      return [
        {
          status: 'FAIL',
          resource,
          messageId: 'url-unreachable',
          message: `Injected sidecars get DD_CLUSTER_AGENT_URL=${url} from ${source}, but ${problem}: they cannot reach the Cluster Agent.`,
          remediation: fix,
        },
      ];
    }
    return [
      {
        status: 'PASS',
        resource,
        messageId: 'ok',
        message: `Injected sidecars get DD_CLUSTER_AGENT_URL=${url}, which names Service ${ns}/${name} on port ${port} with ${ep!.readyAddresses} ready endpoint(s).`,
        remediation: '',
      },
    ];
  },
};
