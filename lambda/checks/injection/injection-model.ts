/**
 * What the injection checks share: the Cluster Agent as a resource, where its injection settings are
 * changed, and the pods that ask for an injected sidecar grouped by the workload that owns them.
 */
import type { ResourceRef } from '../../config/findings.js';
import type { AgentDiscovery, ClusterAgent, SidecarRequest } from '../../snapshot/agents.js';

export function clusterAgentResource(ca: ClusterAgent): ResourceRef {
  return ca.deployment
    ? { kind: 'Deployment', namespace: ca.namespace, name: ca.deployment.meta.name }
    : { kind: 'Pod', namespace: ca.namespace, name: ca.pods[0]?.meta.name ?? 'cluster-agent' };
}

export function clusterAgentLabel(ca: ClusterAgent): string {
  const r = clusterAgentResource(ca);
  return `${r.kind} ${r.namespace}/${r.name}`;
}

export interface RequestGroup {
  /** The owning workload, else the bare pod. */
  resource: ResourceRef;
  label: string;
  /** `kubectl -n ns rollout restart deployment/x`, or `kubectl -n ns delete pod p`. */
  restart: string;
  requests: SidecarRequest[];
}

/** Sidecar requests per owning workload (or bare pod), in a stable order. */
export function requestsByOwner(d: AgentDiscovery): RequestGroup[] {
  const groups = new Map<string, RequestGroup>();
  for (const r of d.sidecarRequests) {
    const w = r.workload;
    const resource: ResourceRef = w
      ? { kind: w.kind, namespace: r.namespace, name: w.meta.name }
      : { kind: 'Pod', namespace: r.namespace, name: r.pod.meta.name };
    const key = `${resource.kind}/${resource.namespace}/${resource.name}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        resource,
        label: `${resource.kind} ${resource.namespace}/${resource.name}`,
        restart: w
          ? `kubectl -n ${r.namespace} rollout restart ${w.kind.toLowerCase()}/${w.meta.name}`
          : `kubectl -n ${r.namespace} delete pod ${r.pod.meta.name} (then recreate it)`,
        requests: [],
      };
      groups.set(key, g);
    }
    g.requests.push(r);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, g]) => g);
}

/** `a, b, c and 2 more`. */
export function listOf(items: string[], max = 3): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
