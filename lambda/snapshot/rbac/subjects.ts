/**
 * Which ServiceAccount must satisfy which contract. The Datadog admission controller's injected
 * sidecar keeps the pod's ServiceAccount, so on Fargate it is the application's ServiceAccount
 * that needs the agent's permissions.
 */
import {
  agentLocation,
  discoverAgents,
  isClusterChecksRunner,
  type AgentDiscovery,
} from '../agents.js';
import type { ClusterSnapshot } from '../snapshot.js';
import { clusterAgentContract, FARGATE_AGENT_CONTRACT, type ContractItem } from './contracts.js';
import type { ServiceAccountRef } from './evaluator.js';

export interface ContractSubject {
  serviceAccount: ServiceAccountRef;
  /** Where it runs, for messages: `Pod golang/app-7d9f`, `Deployment datadog/datadog-cluster-agent`. */
  runs: string[];
  contract: readonly ContractItem[];
}

/** One entry per ServiceAccount that runs a node agent container on Fargate. */
export function fargateAgentSubjects(discovery: AgentDiscovery): ContractSubject[] {
  const bySa = new Map<string, ContractSubject>();
  for (const a of discovery.agents) {
    if (!a.onFargate || isClusterChecksRunner(a)) continue;
    const key = `${a.namespace}/${a.serviceAccountName}`;
    const location = agentLocation(a);
    const entry = bySa.get(key);
    if (entry) {
      if (!entry.runs.includes(location)) entry.runs.push(location);
    } else {
      bySa.set(key, {
        serviceAccount: { namespace: a.namespace, name: a.serviceAccountName },
        runs: [location],
        contract: FARGATE_AGENT_CONTRACT,
      });
    }
  }
  // A pod still waiting for its injected sidecar gets it under its own ServiceAccount on restart.
  for (const r of discovery.sidecarRequests) {
    if (r.injected || !r.onFargate) continue;
    const key = `${r.namespace}/${r.pod.spec.serviceAccountName}`;
    const location = `Pod ${r.namespace}/${r.pod.meta.name}`;
    const entry = bySa.get(key);
    if (entry) {
      if (!entry.runs.includes(location)) entry.runs.push(location);
    } else {
      bySa.set(key, {
        serviceAccount: { namespace: r.namespace, name: r.pod.spec.serviceAccountName },
        runs: [location],
        contract: FARGATE_AGENT_CONTRACT,
      });
    }
  }
  return [...bySa.values()];
}

export function clusterAgentSubject(discovery: AgentDiscovery): ContractSubject | undefined {
  const ca = discovery.clusterAgent;
  if (!ca) return undefined;
  const runs = ca.deployment
    ? [`Deployment ${ca.namespace}/${ca.deployment.meta.name}`]
    : ca.pods.map((p) => `Pod ${ca.namespace}/${p.meta.name}`);
  return {
    serviceAccount: { namespace: ca.namespace, name: ca.serviceAccountName },
    runs,
    contract: clusterAgentContract(ca),
  };
}

/** `Pod golang/app-1, Pod golang/app-2 and 3 more`. */
export function runsLabel(runs: string[], max = 3): string {
  return runs.length <= max
    ? runs.join(', ')
    : `${runs.slice(0, max).join(', ')} and ${runs.length - max} more`;
}

/** Every ServiceAccount with its contract: Fargate agents and the Cluster Agent. */
export function contractSubjects(snapshot: ClusterSnapshot): ContractSubject[] {
  const discovery = discoverAgents(snapshot);
  const ca = clusterAgentSubject(discovery);
  return [...fargateAgentSubjects(discovery), ...(ca ? [ca] : [])];
}
