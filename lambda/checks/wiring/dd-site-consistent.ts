import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot, Container } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import { discoverAgents, type AgentContainer } from '../../snapshot/agents.js';

/** The agent's default when DD_SITE is unset. */
export const DEFAULT_SITE = 'datadoghq.com';

type Site = { kind: 'value'; site: string; set: boolean } | { kind: 'unknown'; why: string };

function siteOf(c: Container): Site {
  const env = c.env.find((e) => e.name === 'DD_SITE');
  if (!env) {
    // envFrom may set it; the auditor reads no ConfigMaps, so it cannot tell.
    if (c.envFrom.some((f) => f.configMapRef || f.secretRef)) {
      return {
        kind: 'unknown',
        why: 'DD_SITE may come from envFrom, which the auditor does not read',
      };
    }
    return { kind: 'value', site: DEFAULT_SITE, set: false };
  }
  if (env.value !== undefined) return { kind: 'value', site: env.value.trim(), set: true };
  return { kind: 'unknown', why: 'DD_SITE comes from a ConfigMap or Secret reference' };
}

function show(s: Extract<Site, { kind: 'value' }>): string {
  return s.set ? `DD_SITE=${s.site}` : `no DD_SITE (default ${DEFAULT_SITE})`;
}

/**
 * The Cluster Agent, the agents and the injected sidecars send to one Datadog site: an API key is
 * valid on one site only, and the injected sidecar copies DD_SITE from the Cluster Agent.
 */
export const ddSiteConsistent: Check = {
  id: 'dd-site-consistent',
  area: 'wiring',
  title: 'The Cluster Agent and every agent use the same Datadog site (DD_SITE)',
  severity: 'high',
  resourceType: 'Pod',
  risk: 'An agent sending to another site than the Cluster Agent uses the key on a site where it does not exist: the intake answers "API Key invalid" and the agent\'s data is lost.',
  remediation:
    'Set the same DD_SITE on the Cluster Agent and every agent container (Helm: datadog.site; hand-written sidecars: their env).',
  requires: ['kube.pods'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const { clusterAgent, agents } = discoverAgents(snapshot);
    const caContainer = clusterAgent?.containers[0];
    if (!clusterAgent || !caContainer) return [];
    const caSite = siteOf(caContainer);
    const caLabel = `Cluster Agent ${clusterAgent.namespace}/${clusterAgent.deployment?.meta.name ?? clusterAgent.pods[0]?.meta.name ?? ''}`;
    const results: CheckResult[] = [];
    for (const a of agents) {
      if (!a.pod) continue;
      results.push(judge(a, caSite, caLabel));
    }
    return results;
  },
};

function judge(a: AgentContainer, caSite: Site, caLabel: string): CheckResult {
  const pod = a.pod!;
  const resource = { kind: 'Pod', namespace: a.namespace, name: pod.meta.name };
  const at = `Pod ${a.namespace}/${pod.meta.name} container ${a.container.name}`;
  const site = siteOf(a.container);
  const messageId = (id: string) => `${id}:${a.container.name}`;
  if (caSite.kind === 'unknown' || site.kind === 'unknown') {
    return {
      status: 'ERROR',
      severity: 'info',
      resource,
      messageId: messageId('site-not-evaluated'),
      message: `Not evaluated: ${caSite.kind === 'unknown' ? `${caLabel}: ${caSite.why}` : `${at}: ${(site as { why: string }).why}`}.`,
      remediation:
        'Set DD_SITE as a literal env value on the Cluster Agent and the agents so it can be compared.',
    };
  }
  if (site.site === caSite.site) {
    return {
      status: 'PASS',
      resource,
      messageId: messageId('same-site'),
      message: `${at} uses ${show(site)}, the same site as the ${caLabel}.`,
      remediation: '',
    };
  }
  return {
    status: 'FAIL',
    resource,
    messageId: messageId('site-mismatch'),
    message: `${at} uses ${show(site)} but the ${caLabel} uses ${show(caSite)}: the API key is valid on one site only, so one of them is answered "API Key invalid".`,
    remediation: `Set DD_SITE=${caSite.site} on container ${a.container.name} of ${a.workload ? `${a.workload.kind} ${a.namespace}/${a.workload.meta.name}` : `Pod ${a.namespace}/${pod.meta.name}`} (or change the Cluster Agent's if it is the wrong one), then restart it.`,
  };
}
