/**
 * Shared by the security group checks: the Datadog endpoints (Cluster Agent pods, agent pods) with
 * their effective groups, evaluation of one agent -> Cluster Agent flow in both directions, and
 * the exact AWS CLI commands that open a missing path.
 */
import type { ClusterSnapshot, Pod, Workload } from '../../snapshot/snapshot.js';
import { discoverAgents, type AgentDiscovery } from '../../snapshot/agents.js';
import {
  describeRule,
  evaluate,
  type Outcome,
  type Peer,
  type Traffic,
  type Verdict,
} from '../../snapshot/net/evaluate.js';
import {
  netContext,
  peerOf,
  podLikeOf,
  podNetwork,
  type NetContext,
  type PodLike,
  type PodNetwork,
} from '../../snapshot/net/pod-network.js';

export interface Endpoint {
  /** `Pod ns/name` or `Deployment ns/name`. */
  label: string;
  resource: { kind: string; namespace: string; name: string };
  like: PodLike;
  net: PodNetwork;
}

function templateLike(w: Workload): PodLike {
  return {
    namespace: w.meta.namespace ?? '',
    name: w.meta.name,
    labels: w.template.meta.labels,
    annotations: w.template.meta.annotations,
    serviceAccountName: w.template.spec.serviceAccountName,
  };
}

function podEndpoint(pod: Pod, ctx: NetContext): Endpoint {
  const like = podLikeOf(pod);
  return {
    label: `Pod ${like.namespace}/${like.name}`,
    resource: { kind: 'Pod', namespace: like.namespace, name: like.name },
    like,
    net: podNetwork(like, ctx),
  };
}

function workloadEndpoint(w: Workload, ctx: NetContext): Endpoint {
  const like = templateLike(w);
  return {
    label: `${w.kind} ${like.namespace}/${like.name}`,
    resource: { kind: w.kind, namespace: like.namespace, name: like.name },
    like,
    net: podNetwork(like, ctx),
  };
}

export interface DatadogEndpoints {
  discovery: AgentDiscovery;
  ctx: NetContext;
  /** Cluster Agent pods, or its Deployment template when no pod exists. Empty: no Cluster Agent. */
  clusterAgent: Endpoint[];
  /** One per agent pod (or template without pods), whatever the number of agent containers. */
  agents: Endpoint[];
}

export function datadogEndpoints(snapshot: ClusterSnapshot): DatadogEndpoints {
  const discovery = discoverAgents(snapshot);
  const ctx = netContext(snapshot);
  const ca = discovery.clusterAgent;
  const clusterAgent = ca
    ? ca.pods.length > 0
      ? ca.pods.map((p) => podEndpoint(p, ctx))
      : ca.deployment
        ? [workloadEndpoint(ca.deployment, ctx)]
        : []
    : [];
  const seen = new Set<string>();
  const agents: Endpoint[] = [];
  for (const a of discovery.agents) {
    const e = a.pod ? podEndpoint(a.pod, ctx) : workloadEndpoint(a.workload!, ctx);
    const key = `${e.resource.kind}/${e.resource.namespace}/${e.resource.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    agents.push(e);
  }
  return { discovery, ctx, clusterAgent, agents };
}

/**
 * The port the Cluster Agent pods listen on: the Service's targetPort for the configured port
 * (security groups see the pod port, not the Service port), else the configured port.
 */
export function clusterAgentPodPort(snapshot: ClusterSnapshot, d: AgentDiscovery): number {
  const port = snapshot.settings.clusterAgent.port;
  const sp = d.clusterAgent?.service?.ports.find((p) => p.port === port);
  if (!sp || sp.targetPort === undefined) return port;
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  if (/^\d+$/.test(sp.targetPort)) return Number(sp.targetPort);
  const named = d.clusterAgent?.containers
    .flatMap((c) => c.ports)
    .find((p) => p.name === sp.targetPort);
  return named?.containerPort ?? port;
}

/**
 * The EKS control plane as a network peer: its interfaces in the cluster subnets carry the cluster
 * security group and the cluster's additional groups. Addresses are the subnets' CIDRs, or none
 * when one subnet is unknown (a partial list would let a CIDR rule look complete). Undefined
 * without the cluster description.
 */
export function controlPlanePeer(ctx: NetContext): (Peer & { groupIds: string[] }) | undefined {
  if (!ctx.cluster) return undefined;
  const clusterSg = ctx.cluster.clusterSecurityGroupId;
  const addresses: string[] = [];
  for (const id of ctx.cluster.subnetIds) {
    const cidr = ctx.subnets.get(id)?.cidrBlock;
    if (!cidr) {
      addresses.length = 0;
      break;
    }
    addresses.push(cidr);
  }
  return {
    groupIds: [...(clusterSg ? [clusterSg] : []), ...ctx.cluster.securityGroupIds],
    addresses,
  };
}

/** Neither side has a SecurityGroupPolicy and one runs on EC2, the other on Fargate. */
export function isDefaultCrossCompute(a: PodNetwork, b: PodNetwork): boolean {
  const defaults = new Set(['cluster-security-group', 'node-instance']);
  return (
    defaults.has(a.source) &&
    defaults.has(b.source) &&
    a.compute !== b.compute &&
    a.compute !== 'unknown' &&
    b.compute !== 'unknown'
  );
}

/** Pod-to-pod traffic on one EC2 node without branch interfaces never crosses a security group. */
export function sameNode(a: PodNetwork, b: PodNetwork): boolean {
  return (
    a.source === 'node-instance' &&
    b.source === 'node-instance' &&
    a.node !== undefined &&
    a.node.meta.name === b.node?.meta.name
  );
}

export interface FlowVerdict {
  /** Ingress on the destination's groups from the source. */
  ingress: Verdict;
  /** Egress on the source's groups to the destination. */
  egress: Verdict;
}

/** Evaluates source -> destination on one port; both ends must have known groups. */
export function evaluateFlow(
  src: PodNetwork,
  dst: PodNetwork,
  traffic: Traffic,
  ctx: NetContext,
): FlowVerdict {
  return {
    ingress: evaluate('ingress', dst.groupIds ?? [], ctx.groups, peerOf(src), traffic),
    egress: evaluate('egress', src.groupIds ?? [], ctx.groups, peerOf(dst), traffic),
  };
}

const RANK: Record<Outcome, number> = { allowed: 0, unknown: 1, denied: 2 };

export function worst(a: Outcome, b: Outcome): Outcome {
  return RANK[a] >= RANK[b] ? a : b;
}

/** `sg-0abc (eks-cluster-sg-prod)`: id plus name, when the name is known. */
export function groupLabel(id: string, ctx: NetContext): string {
  const name = ctx.groups.get(id)?.groupName;
  return name ? `${id} (${name})` : id;
}

export function groupsLabel(ids: readonly string[] | undefined, ctx: NetContext): string {
  return ids && ids.length ? ids.map((id) => groupLabel(id, ctx)).join(', ') : '(none)';
}

/**
 * The group to change: the first that is not the cluster security group (a rule there reaches
 * every Fargate pod and managed node), else the cluster group.
 */
export function targetGroup(ids: readonly string[], ctx: NetContext): string | undefined {
  const clusterSg = ctx.cluster?.clusterSecurityGroupId;
  return ids.find((id) => id !== clusterSg) ?? ids[0];
}

/** The group to name as peer: the cluster security group when present, else the first group. */
export function peerGroup(ids: readonly string[] | undefined, ctx: NetContext): string | undefined {
  const clusterSg = ctx.cluster?.clusterSecurityGroupId;
  if (!ids || ids.length === 0) return undefined;
  return clusterSg && ids.includes(clusterSg) ? clusterSg : ids[0];
}

function regionFlag(snapshot: ClusterSnapshot): string {
  return snapshot.cluster.region ? ` --region ${snapshot.cluster.region}` : '';
}

/** `aws ec2 authorize-security-group-ingress ...` admitting the peer group (or CIDR) on one port. */
export function ingressCommand(
  snapshot: ClusterSnapshot,
  groupId: string,
  traffic: Traffic,
  peer: { groupId?: string; cidr?: string },
): string {
  const base = `aws ec2 authorize-security-group-ingress --group-id ${groupId}`;
  const region = regionFlag(snapshot);
  if (peer.groupId)
    return `${base} --protocol ${traffic.protocol} --port ${traffic.port} --source-group ${peer.groupId}${region}`;
  const cidr = peer.cidr ?? '<agent-subnet-cidr>';
  if (cidr.includes(':'))
    return `${base} --ip-permissions 'IpProtocol=${traffic.protocol},FromPort=${traffic.port},ToPort=${traffic.port},Ipv6Ranges=[{CidrIpv6=${cidr}}]'${region}`;
  return `${base} --protocol ${traffic.protocol} --port ${traffic.port} --cidr ${cidr}${region}`;
}

/** `aws ec2 authorize-security-group-egress ...` (egress takes only --ip-permissions). */
export function egressCommand(
  snapshot: ClusterSnapshot,
  groupId: string,
  traffic: Traffic,
  peer: { groupId?: string; cidr?: string },
): string {
  const target = peer.groupId
    ? `UserIdGroupPairs=[{GroupId=${peer.groupId}}]`
    : peer.cidr?.includes(':')
      ? `Ipv6Ranges=[{CidrIpv6=${peer.cidr}}]`
      : `IpRanges=[{CidrIp=${peer.cidr ?? '<cluster-agent-subnet-cidr>'}}]`;
  return `aws ec2 authorize-security-group-egress --group-id ${groupId} --ip-permissions 'IpProtocol=${traffic.protocol},FromPort=${traffic.port},ToPort=${traffic.port},${target}'${regionFlag(snapshot)}`;
}

/** Why a verdict was allowed, in words: `sg-0abc allows tcp 5005 from sg-0abc (self)`. */
export function explainAllowed(v: Verdict): string {
  const m = v.matched[0];
  return m ? `${m.groupId} allows ${describeRule(m.rule, m.groupId)}` : 'allowed';
}

export function explainUnresolved(v: Verdict): string {
  return [...new Set(v.unresolved.map((u) => u.reason))].join('; ');
}

export { type NetContext, type PodNetwork };
