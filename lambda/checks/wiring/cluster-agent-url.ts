import type { CheckResult } from '../../config/findings.js';
import {
  itemsOf,
  type ClusterSnapshot,
  type Service,
  type ServiceEndpoints,
} from '../../snapshot/snapshot.js';
import { DEFAULT_CLUSTER_AGENT_PORT } from '../../config/config.js';
import {
  agentLocation,
  discoverAgents,
  type AgentContainer,
  type ClusterAgent,
} from '../../snapshot/agents.js';
import type { Check } from '../check.js';
import { agentResource, envVar, parseBool, whereToSet } from './agent-env.js';

/** The agent's default `cluster_agent.kubernetes_service_name`. */
const DEFAULT_SERVICE_NAME = 'datadog-cluster-agent';

interface Context {
  ca: ClusterAgent;
  services: Map<string, Service>;
  /** undefined when endpoints could not be collected. */
  endpoints: Map<string, ServiceEndpoints> | undefined;
  /** Port the Cluster Agent's API listens on (DD_CLUSTER_AGENT_CMD_PORT). */
  cmdPort: number;
  cmdPortSource: string;
  /** The value every agent outside the Cluster Agent's namespace should have. */
  expectedUrl: string;
  caService?: Service;
}

/** Where a URL's host points, by cluster DNS rules. */
type HostTarget =
  | { kind: 'service'; service: string; namespace: string; fqdn: boolean }
  | { kind: 'ip'; ip: string }
  | { kind: 'other'; host: string };

function parseHost(host: string, podNamespace: string): HostTarget {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(h) || h.startsWith('[')) return { kind: 'ip', ip: h };
  const labels = h.split('.');
  const fqdn = /^[a-z0-9-]+\.[a-z0-9-]+\.svc(\.cluster\.local)?$/.test(h);
  if (fqdn) return { kind: 'service', service: labels[0]!, namespace: labels[1]!, fqdn: true };
  // Pod DNS search path: <ns>.svc.cluster.local, svc.cluster.local, cluster.local.
  if (labels.length === 1)
    return { kind: 'service', service: h, namespace: podNamespace, fqdn: false };
  if (labels.length === 2)
    return { kind: 'service', service: labels[0]!, namespace: labels[1]!, fqdn: false };
  return { kind: 'other', host: h };
}

/** The URL as it may appear in a report: credentials in the userinfo part are masked. */
export function redactUrl(raw: string): string {
  return raw.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i,
    (_m, scheme: string | undefined) => `${scheme ?? ''}***@`,
  );
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/** The Service port whose traffic reaches the Cluster Agent's command port, when known. */
function targetOf(service: Service, port: number, ca: ClusterAgent): number | undefined {
  const sp = service.ports.find((p) => p.port === port);
  if (!sp) return undefined;
  if (sp.targetPort === undefined) return sp.port;
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  const named = ca.containers.flatMap((c) => c.ports).find((p) => p.name === sp.targetPort);
  if (named) return named.containerPort;
  const asNumber = Number(sp.targetPort);
  return Number.isInteger(asNumber) && asNumber > 0 ? asNumber : undefined;
}

function buildContext(snapshot: ClusterSnapshot, ca: ClusterAgent): Context {
  const services = new Map(
    itemsOf(snapshot.kube.services).map((s) => [`${s.meta.namespace}/${s.meta.name}`, s]),
  );
  const endpoints =
    snapshot.kube.endpoints.status === 'ok'
      ? new Map(snapshot.kube.endpoints.value.map((e) => [`${e.namespace}/${e.serviceName}`, e]))
      : undefined;
  const caEnv = ca.containers[0] && envVar(ca.containers[0], 'DD_CLUSTER_AGENT_CMD_PORT')?.value;
  const parsed = caEnv !== undefined ? Number.parseInt(caEnv, 10) : NaN;
  const fromEnv = Number.isInteger(parsed) && parsed > 0;
  const cmdPort = fromEnv ? parsed : snapshot.settings.clusterAgent.port;
  const cmdPortSource = fromEnv
    ? `DD_CLUSTER_AGENT_CMD_PORT of the Cluster Agent`
    : cmdPort === DEFAULT_CLUSTER_AGENT_PORT
      ? 'the default command port'
      : 'the configured clusterAgent.port';
  const override = snapshot.settings.clusterAgent.serviceName;
  const caService =
    ca.service ?? (override ? services.get(`${ca.namespace}/${override}`) : undefined);
  const serviceName = caService?.meta.name ?? override ?? DEFAULT_SERVICE_NAME;
  const servicePort =
    caService?.ports.find((p) => targetOf(caService, p.port, ca) === cmdPort)?.port ?? cmdPort;
  return {
    ca,
    services,
    endpoints,
    cmdPort,
    cmdPortSource,
    expectedUrl: `https://${serviceName}.${ca.namespace}.svc.cluster.local:${servicePort}`,
    ...(caService ? { caService } : {}),
  };
}

/**
 * Every node agent can reach the Cluster Agent: enabled, an https URL with the Service's full DNS
 * name (agents outside the Cluster Agent's namespace get no `<SVC>_SERVICE_HOST` variables), and a
 * Service that exists, exposes the command port and has a ready endpoint.
 */
export const clusterAgentUrl: Check = {
  id: 'cluster-agent-url',
  area: 'wiring',
  title: 'Every agent reaches the Cluster Agent through an https URL to a ready Service',
  severity: 'high',
  resourceType: 'Pod',
  risk: 'An agent that cannot reach the Cluster Agent loses cluster-level tags (kube_service, namespace labels) and cluster checks; an http URL is refused outright, and a short name or the default service lookup fails from another namespace.',
  remediation:
    'Set DD_CLUSTER_AGENT_ENABLED=true and DD_CLUSTER_AGENT_URL=https://<service>.<namespace>.svc.cluster.local:<port> of the Cluster Agent Service.',
  requires: ['kube.pods', 'kube.services'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const discovery = discoverAgents(snapshot);
    const results: CheckResult[] = [];
    const ctx = discovery.clusterAgent ? buildContext(snapshot, discovery.clusterAgent) : undefined;
    for (const a of discovery.agents) {
      const c = a.container;
      const where = `Container ${c.name} in ${agentLocation(a)}`;
      const resource = agentResource(a);
      const enabled = parseBool(envVar(c, 'DD_CLUSTER_AGENT_ENABLED')?.value);
      if (!ctx) {
        if (enabled) {
          results.push({
            status: 'FAIL',
            resource,
            messageId: `no-cluster-agent:${c.name}`,
            message: `${where} sets DD_CLUSTER_AGENT_ENABLED=true, but no Cluster Agent runs in the cluster (no Deployment or pod with the chart's or operator's labels or a cluster-agent image).`,
            remediation:
              'Deploy the Cluster Agent (Helm clusterAgent.enabled: true), or set clusterAgent.namespace in the auditor config if it runs under other labels.',
          });
        }
        continue;
      }
      const failures = evaluateAgent(a, where, enabled, ctx);
      results.push(...failures);
      if (failures.length === 0) {
        results.push({
          status: 'PASS',
          resource,
          messageId: `ok:${c.name}`,
          message: `${where} reaches the Cluster Agent: ${describeRoute(a, ctx)}.`,
          remediation: '',
        });
      }
    }
    return results;
  },
};

function describeRoute(a: AgentContainer, ctx: Context): string {
  const url = envVar(a.container, 'DD_CLUSTER_AGENT_URL')?.value;
  return url
    ? `DD_CLUSTER_AGENT_URL=${redactUrl(url)} names a Service with a ready endpoint on the command port ${ctx.cmdPort}`
    : `the Service named by DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME in namespace ${a.namespace} has a ready endpoint on the command port ${ctx.cmdPort}`;
}

function evaluateAgent(
  a: AgentContainer,
  where: string,
  enabled: boolean | undefined,
  ctx: Context,
): CheckResult[] {
  const c = a.container;
  const resource = agentResource(a);
  const target = whereToSet(a);
  const sameNamespace = a.namespace === ctx.ca.namespace;
  const setUrl = `Set DD_CLUSTER_AGENT_URL to "${ctx.expectedUrl}" in ${target}.`;
  const fail = (
    id: string,
    message: string,
    remediation: string,
    severity?: 'medium' | 'low',
  ): CheckResult => ({
    status: 'FAIL',
    ...(severity ? { severity } : {}),
    resource,
    messageId: `${id}:${c.name}`,
    message: `${where} ${message}`,
    remediation,
  });

  if (enabled !== true) {
    const raw = envVar(c, 'DD_CLUSTER_AGENT_ENABLED')?.value;
    return [
      fail(
        'not-enabled',
        `${raw === undefined ? 'does not set DD_CLUSTER_AGENT_ENABLED (default false)' : `sets DD_CLUSTER_AGENT_ENABLED="${raw}"`}, so it never talks to the Cluster Agent in namespace ${ctx.ca.namespace} and loses cluster-level tags.`,
        `Set DD_CLUSTER_AGENT_ENABLED to "true" in ${target}.${sameNamespace ? '' : ` ${setUrl}`}`,
      ),
    ];
  }

  const urlVar = envVar(c, 'DD_CLUSTER_AGENT_URL');
  const rawUrl = urlVar?.value?.trim();
  if (!rawUrl) {
    if (urlVar && (urlVar.configMapKeyRef || urlVar.secretKeyRef)) {
      return [
        fail(
          'url-unverified',
          'takes DD_CLUSTER_AGENT_URL from a ConfigMap or Secret, which the auditor does not read.',
          `Set the value explicitly so it can be checked: ${setUrl}`,
          'low',
        ),
      ];
    }
    if (!sameNamespace) {
      return [
        fail(
          'url-missing',
          `runs in namespace ${a.namespace}, outside the Cluster Agent's namespace ${ctx.ca.namespace}, without DD_CLUSTER_AGENT_URL: the agent then looks for <SVC>_SERVICE_HOST variables, which Kubernetes injects only for Services in the pod's own namespace.`,
          setUrl,
        ),
      ];
    }
    const nameVar = envVar(c, 'DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME')?.value?.trim();
    const serviceName = nameVar || DEFAULT_SERVICE_NAME;
    const service = ctx.services.get(`${a.namespace}/${serviceName}`);
    if (!service) {
      const actual = ctx.caService?.meta.name;
      return [
        fail(
          'service-name-unresolved',
          `relies on DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME=${serviceName}${nameVar ? '' : ' (the default)'}, but namespace ${a.namespace} has no Service ${serviceName}, so the agent finds no ${serviceName.toUpperCase().replace(/-/g, '_')}_SERVICE_HOST.`,
          actual
            ? `Set DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME to "${actual}" in ${target}, or ${setUrl}`
            : `Create the Cluster Agent Service ${serviceName} in namespace ${a.namespace} on port ${ctx.cmdPort}, or ${setUrl}`,
        ),
      ];
    }
    // <SVC>_SERVICE_PORT is the Service's first port.
    return checkService(
      service,
      service.ports[0]?.port ?? 0,
      'the first port of',
      fail,
      ctx,
      setUrl,
    );
  }

  const shown = redactUrl(rawUrl);
  if (/^http:\/\//i.test(rawUrl)) {
    return [
      fail(
        'url-not-https',
        `sets DD_CLUSTER_AGENT_URL="${shown}": the agent refuses it ("cannot get cluster agent endpoint, not a https scheme"); the Cluster Agent serves only https.`,
        setUrl,
      ),
    ];
  }
  let url: URL;
  try {
    url = new URL(rawUrl.includes('://') ? rawUrl : `https://${rawUrl}`);
  } catch {
    return [
      fail(
        'url-invalid',
        `sets DD_CLUSTER_AGENT_URL="${shown}", which is not a valid URL.`,
        setUrl,
      ),
    ];
  }
  if (url.protocol !== 'https:') {
    return [
      fail(
        'url-not-https',
        `sets DD_CLUSTER_AGENT_URL="${shown}" with scheme ${url.protocol.replace(':', '')}: the agent accepts only https.`,
        setUrl,
      ),
    ];
  }
  const port = url.port ? Number(url.port) : 443;
  const host = parseHost(url.hostname, a.namespace);
  if (host.kind === 'ip') {
    const owner = [...ctx.services.values()].find((s) => s.clusterIP === host.ip);
    return [
      fail(
        'url-host-ip',
        `sets DD_CLUSTER_AGENT_URL to the IP ${host.ip}${owner ? ` (ClusterIP of Service ${owner.meta.namespace}/${owner.meta.name})` : ''}: a ClusterIP changes when the Service is recreated.`,
        setUrl,
        owner ? 'medium' : undefined,
      ),
    ];
  }
  if (host.kind === 'other') {
    return [
      fail(
        'url-host-not-service',
        `sets DD_CLUSTER_AGENT_URL host "${host.host}", which is not a cluster Service name <service>.<namespace>.svc[.cluster.local].`,
        setUrl,
      ),
    ];
  }
  if (!host.fqdn && !sameNamespace) {
    return [
      fail(
        'url-host-short',
        `sets DD_CLUSTER_AGENT_URL host "${url.hostname}", a short name that resolves only through the pod's DNS search path${host.namespace === a.namespace ? ` (to namespace ${a.namespace}, not ${ctx.ca.namespace})` : ''}; the field report saw it fail to resolve. Use the full Service name.`,
        setUrl,
      ),
    ];
  }
  const service = ctx.services.get(`${host.namespace}/${host.service}`);
  if (!service) {
    return [
      fail(
        'service-missing',
        `sets DD_CLUSTER_AGENT_URL="${shown}", but Service ${host.namespace}/${host.service} does not exist.`,
        setUrl,
      ),
    ];
  }
  return checkService(service, port, 'the URL port', fail, ctx, setUrl);
}

function checkService(
  service: Service,
  port: number,
  portOrigin: string,
  fail: (id: string, message: string, remediation: string) => CheckResult,
  ctx: Context,
  setUrl: string,
): CheckResult[] {
  const ref = `${service.meta.namespace}/${service.meta.name}`;
  const caLabels = ctx.ca.pods[0]?.meta.labels ?? ctx.ca.deployment?.template.meta.labels;
  if (
    Object.keys(service.selector).length > 0 &&
    caLabels &&
    !selects(service.selector, caLabels)
  ) {
    return [
      fail(
        'service-not-cluster-agent',
        `points at Service ${ref}, whose selector does not select the Cluster Agent pods in namespace ${ctx.ca.namespace}.`,
        setUrl,
      ),
    ];
  }
  const sp = service.ports.find((p) => p.port === port);
  if (!sp) {
    return [
      fail(
        'port-not-exposed',
        `uses port ${port} (${portOrigin} Service ${ref}), which the Service does not expose (ports: ${service.ports.map((p) => p.port).join(', ') || 'none'}).`,
        setUrl,
      ),
    ];
  }
  const out: CheckResult[] = [];
  const target = targetOf(service, port, ctx.ca);
  if (target !== undefined && target !== ctx.cmdPort) {
    const index = service.ports.indexOf(sp);
    out.push(
      fail(
        'port-target-mismatch',
        `reaches Service ${ref} port ${port}, which forwards to ${target}, but the Cluster Agent listens on ${ctx.cmdPort} (${ctx.cmdPortSource}).`,
        `Set spec.ports[${index}].targetPort of Service ${ref} to ${ctx.cmdPort}.`,
      ),
    );
  }
  if (!ctx.endpoints) {
    out.push({
      ...fail(
        'endpoints-unknown',
        `points at Service ${ref}, whose endpoints could not be collected, so readiness is unknown.`,
        'Fix the endpoints collection error reported under audit-collection, then re-run.',
      ),
      status: 'ERROR',
    });
    return out;
  }
  const ep = ctx.endpoints.get(ref);
  if (!ep || ep.readyAddresses < 1) {
    out.push(
      fail(
        'no-ready-endpoints',
        `points at Service ${ref}, which has no ready endpoint${ep?.notReadyAddresses ? ` (${ep.notReadyAddresses} not ready)` : ''}: no Cluster Agent pod is serving behind it.`,
        `Make the Cluster Agent ready behind Service ${ref}: \`kubectl -n ${service.meta.namespace} get pods,endpoints\`, check the Cluster Agent pods' readiness and that the Service selector matches their labels.`,
      ),
    );
  }
  return out;
}
