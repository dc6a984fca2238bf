/**
 * The security groups and addresses a pod's traffic carries, as EKS assigns them:
 * 1. a SecurityGroupPolicy in the pod's namespace whose podSelector matches the pod's labels, or
 *    whose serviceAccountSelector matches the labels of the pod's ServiceAccount: only the
 *    policy's groups apply (several matching policies: their union). On Fargate a scheduled pod
 *    shows the groups it got in the annotation `fargate.amazonaws.com/pod-sg`;
 * 2. otherwise, on Fargate: the cluster security group;
 * 3. otherwise, on EC2: the groups of the node's instance (the primary interface's groups, which
 *    the VPC CNI copies to secondary interfaces).
 * Policies only reach pods scheduled after them; the evaluation is forward-looking and uses the
 * policy's groups, since the next rollout gets them.
 */
import {
  itemsOf,
  refOf,
  valueOf,
  type ClusterSnapshot,
  type Ec2Instance,
  type EksCluster,
  type FargateProfile,
  type Node,
  type Pod,
  type SecurityGroup,
  type SecurityGroupPolicy,
  type ServiceAccount,
  type Subnet,
} from '../snapshot.js';
import {
  fargatePlacement,
  FARGATE_PROFILE_LABEL,
  onFargateNode,
} from '../workloads/fargate-profiles.js';
import { selectorMatches } from './label-selector.js';
import type { Peer } from './evaluate.js';

export const FARGATE_POD_SG_ANNOTATION = 'fargate.amazonaws.com/pod-sg';

/** Lookups built once per snapshot. */
export interface NetContext {
  cluster?: EksCluster;
  groups: Map<string, SecurityGroup>;
  subnets: Map<string, Subnet>;
  instances: Map<string, Ec2Instance>;
  /** False when DescribeInstances failed: EC2 pods then have unknown groups. */
  instancesKnown: boolean;
  nodes: Map<string, Node>;
  policies: SecurityGroupPolicy[];
  /** False when the SecurityGroupPolicy list failed to collect (not-installed counts as known). */
  policiesKnown: boolean;
  serviceAccounts: Map<string, ServiceAccount>;
  serviceAccountsKnown: boolean;
  fargateProfiles: FargateProfile[];
}

export function netContext(snapshot: ClusterSnapshot): NetContext {
  const cluster = valueOf(snapshot.aws.cluster);
  return {
    ...(cluster ? { cluster } : {}),
    groups: new Map(itemsOf(snapshot.aws.securityGroups).map((g) => [g.groupId, g])),
    subnets: new Map(itemsOf(snapshot.aws.subnets).map((s) => [s.subnetId, s])),
    instances: new Map(itemsOf(snapshot.aws.instances).map((i) => [i.instanceId, i])),
    instancesKnown: snapshot.aws.instances.status === 'ok',
    nodes: new Map(itemsOf(snapshot.kube.nodes).map((n) => [n.meta.name, n])),
    policies: itemsOf(snapshot.kube.securityGroupPolicies),
    policiesKnown: snapshot.kube.securityGroupPolicies.status !== 'error',
    serviceAccounts: new Map(itemsOf(snapshot.kube.serviceAccounts).map((s) => [refOf(s.meta), s])),
    serviceAccountsKnown: snapshot.kube.serviceAccounts.status === 'ok',
    fargateProfiles: itemsOf(snapshot.aws.fargateProfiles),
  };
}

/** A pod, or a pod template that has no running pod yet. */
export interface PodLike {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccountName: string;
  pod?: Pod;
}

export function podLikeOf(pod: Pod): PodLike {
  return {
    namespace: pod.meta.namespace ?? '',
    name: pod.meta.name,
    labels: pod.meta.labels,
    annotations: pod.meta.annotations,
    serviceAccountName: pod.spec.serviceAccountName,
    pod,
  };
}

export type GroupSource =
  | 'pod-annotation'
  | 'security-group-policy'
  | 'cluster-security-group'
  | 'node-instance'
  | 'unknown';

export interface PodNetwork {
  compute: 'fargate' | 'ec2' | 'unknown';
  /** Undefined when the groups could not be determined (see `unknownReason`). */
  groupIds?: string[];
  source: GroupSource;
  /** `namespace/name` of every SecurityGroupPolicy that matches. */
  policies: string[];
  node?: Node;
  instance?: Ec2Instance;
  /** The Fargate profile the pod runs on or would be scheduled by. */
  fargateProfile?: FargateProfile;
  /** Pod IP when running; else the CIDRs of the subnets it can be placed in; else empty. */
  addresses: string[];
  unknownReason?: string;
}

function subnetCidrs(ids: readonly string[], ctx: NetContext): string[] {
  const out: string[] = [];
  for (const id of ids) {
    const s = ctx.subnets.get(id);
    if (!s) return [];
    if (s.cidrBlock) out.push(s.cidrBlock);
    out.push(...s.ipv6CidrBlocks);
  }
  return out;
}

/** The SecurityGroupPolicies that select the pod, or `undefined` when that cannot be known. */
export function matchingPolicies(
  p: PodLike,
  ctx: NetContext,
): { policies: SecurityGroupPolicy[]; unknownReason?: string } {
  const policies: SecurityGroupPolicy[] = [];
  let unknownReason: string | undefined;
  for (const policy of ctx.policies) {
    if ((policy.meta.namespace ?? '') !== p.namespace) continue;
    if (policy.podSelector && selectorMatches(policy.podSelector, p.labels)) {
      policies.push(policy);
      continue;
    }
    if (policy.serviceAccountSelector) {
      const sa = ctx.serviceAccounts.get(`${p.namespace}/${p.serviceAccountName || 'default'}`);
      if (!sa) {
        if (!ctx.serviceAccountsKnown)
          unknownReason = `ServiceAccounts could not be read to evaluate SecurityGroupPolicy ${refOf(policy.meta)}`;
        continue;
      }
      if (selectorMatches(policy.serviceAccountSelector, sa.meta.labels)) policies.push(policy);
    }
  }
  if (!ctx.policiesKnown) unknownReason = 'SecurityGroupPolicies could not be read';
  return { policies, ...(unknownReason ? { unknownReason } : {}) };
}

/** Effective security groups and addresses of one pod or template. */
export function podNetwork(p: PodLike, ctx: NetContext): PodNetwork {
  const nodeName = p.pod?.spec.nodeName;
  const node = nodeName ? ctx.nodes.get(nodeName) : undefined;
  const placement = fargatePlacement(ctx.fargateProfiles, p.namespace, p.labels);
  const compute: PodNetwork['compute'] = onFargateNode(p.labels, nodeName, node)
    ? 'fargate'
    : node?.computeType === 'ec2' || (nodeName && !nodeName.startsWith('fargate-'))
      ? 'ec2'
      : !nodeName && placement.profile
        ? 'fargate'
        : 'unknown';
  const profileName = p.labels[FARGATE_PROFILE_LABEL];
  const fargateProfile =
    compute === 'fargate'
      ? (profileName && ctx.fargateProfiles.find((f) => f.name === profileName)) ||
        placement.profile
      : undefined;
  const instance =
    compute === 'ec2' && node?.instanceId ? ctx.instances.get(node.instanceId) : undefined;

  const podIp = p.pod?.status.podIP;
  const addresses = podIp
    ? [podIp]
    : fargateProfile
      ? subnetCidrs(fargateProfile.subnets, ctx)
      : instance?.subnetId
        ? subnetCidrs([instance.subnetId], ctx)
        : [];
  const base = {
    compute,
    addresses,
    ...(node ? { node } : {}),
    ...(instance ? { instance } : {}),
    ...(fargateProfile ? { fargateProfile } : {}),
  };

  const { policies, unknownReason: policyUnknown } = matchingPolicies(p, ctx);
  const policyRefs = policies.map((x) => refOf(x.meta));
  const annotated = p.annotations[FARGATE_POD_SG_ANNOTATION];
  if (compute === 'fargate' && annotated) {
    const groupIds = annotated
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return { ...base, groupIds, source: 'pod-annotation', policies: policyRefs };
  }
  if (policies.length > 0) {
    const groupIds = [...new Set(policies.flatMap((x) => x.groupIds))];
    return { ...base, groupIds, source: 'security-group-policy', policies: policyRefs };
  }
  if (policyUnknown) {
    return { ...base, source: 'unknown', policies: [], unknownReason: policyUnknown };
  }
  if (compute === 'fargate') {
    const sg = ctx.cluster?.clusterSecurityGroupId;
    return sg
      ? { ...base, groupIds: [sg], source: 'cluster-security-group', policies: [] }
      : {
          ...base,
          source: 'unknown',
          policies: [],
          unknownReason: 'the cluster security group is unknown (DescribeCluster missing)',
        };
  }
  if (compute === 'ec2') {
    if (instance) {
      return {
        ...base,
        groupIds: instance.securityGroupIds,
        source: 'node-instance',
        policies: [],
      };
    }
    const reason = !node
      ? `node ${nodeName ?? '(none)'} is not in the snapshot`
      : !node.instanceId
        ? `node ${node.meta.name} has no EC2 instance id in its providerID`
        : !ctx.instancesKnown
          ? `DescribeInstances failed, so the groups of ${node.instanceId} are unknown`
          : `instance ${node.instanceId} of node ${node.meta.name} was not returned by DescribeInstances`;
    return { ...base, source: 'unknown', policies: [], unknownReason: reason };
  }
  return {
    ...base,
    source: 'unknown',
    policies: [],
    unknownReason: `${p.namespace}/${p.name} is not scheduled and no ACTIVE Fargate profile matches it`,
  };
}

/** The pod as the other end of a flow. */
export function peerOf(n: PodNetwork): Peer {
  return { ...(n.groupIds ? { groupIds: n.groupIds } : {}), addresses: n.addresses };
}
