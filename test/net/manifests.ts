/**
 * Small Kubernetes manifests and AWS snapshot parts for the Fargate and network check tests:
 * a Cluster Agent, agent sidecar pods, EC2 and Fargate nodes, SecurityGroupPolicies, and security
 * groups built from readable rules.
 */
import type { Raw } from '../../lambda/collect/kube/raw.js';
import type {
  AwsSnapshot,
  EksCluster,
  FargateProfile,
  SecurityGroup,
  SgRule,
} from '../../lambda/snapshot/snapshot.js';
import type { Check } from '../../lambda/checks/check.js';
import type { CheckResult } from '../../lambda/config/findings.js';
import {
  emptyAws,
  ok,
  snapshotFromManifests,
  type BuildOptions,
} from '../support/snapshot-builder.js';

export const CLUSTER_SG = 'sg-0c1a5e7e2d3f4a5b6';
export const NODE_SG = 'sg-0e2c0de0000000001';
export const POD_SG = 'sg-0b0d000000000000a';
export const SUBNET_A = 'subnet-0a0000000000000a1';
export const SUBNET_B = 'subnet-0b0000000000000b2';
export const EXEC_ROLE = 'arn:aws:iam::123456789012:role/test-fargate-pod-execution';

export function node(
  name: string,
  opts: { instanceId?: string; nodegroup?: string; ip?: string } = {},
): Raw {
  const fargate = name.startsWith('fargate-');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'eks.amazonaws.com/compute-type': fargate ? 'fargate' : 'ec2',
        ...(opts.nodegroup ? { 'eks.amazonaws.com/nodegroup': opts.nodegroup } : {}),
      },
    },
    spec: opts.instanceId ? { providerID: `aws:///eu-west-1a/${opts.instanceId}` } : {},
    status: {
      addresses: opts.ip ? [{ type: 'InternalIP', address: opts.ip }] : [],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

export interface PodOpts {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeName?: string;
  podIP?: string;
  phase?: string;
  serviceAccountName?: string;
  containers: Raw[];
  owner?: { kind: string; name: string };
}

export function pod(o: PodOpts): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: o.labels ?? {},
      annotations: o.annotations ?? {},
      ...(o.owner
        ? { ownerReferences: [{ apiVersion: 'apps/v1', controller: true, ...o.owner }] }
        : {}),
    },
    spec: {
      serviceAccountName: o.serviceAccountName ?? 'default',
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      containers: o.containers,
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.podIP ? { podIP: o.podIP } : {}),
    },
  };
}

export const clusterAgentContainer: Raw = {
  name: 'cluster-agent',
  image: 'gcr.io/datadoghq/cluster-agent:7.72.1',
  ports: [{ name: 'agentport', containerPort: 5005, protocol: 'TCP' }],
};

export const agentContainer: Raw = {
  name: 'datadog-agent',
  image: 'gcr.io/datadoghq/agent:7.72.1',
  env: [
    { name: 'DD_CLUSTER_AGENT_ENABLED', value: 'true' },
    {
      name: 'DD_CLUSTER_AGENT_URL',
      value: 'https://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005',
    },
  ],
};

export const appContainer: Raw = {
  name: 'app',
  image: 'public.ecr.aws/docker/library/golang:1.23',
};

/** The Cluster Agent pod plus its Service on 5005. */
export function clusterAgent(o: Partial<PodOpts> = {}): Raw[] {
  return [
    pod({
      namespace: 'datadog',
      name: 'datadog-agent-cluster-agent-7d9f8c6b5-abcde',
      containers: [clusterAgentContainer],
      serviceAccountName: 'datadog-agent-cluster-agent',
      ...o,
      labels: { app: 'datadog-agent-cluster-agent', ...(o.labels ?? {}) },
    } as PodOpts),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'datadog-agent-cluster-agent', namespace: 'datadog' },
      spec: {
        type: 'ClusterIP',
        selector: { app: 'datadog-agent-cluster-agent' },
        ports: [{ name: 'agentport', port: 5005, targetPort: 5005, protocol: 'TCP' }],
      },
    },
  ];
}

/** An application pod with a Datadog agent sidecar (the EKS Fargate pattern). */
export function sidecarPod(o: Partial<PodOpts> & { name: string; namespace?: string }): Raw {
  return pod({
    namespace: 'golang',
    containers: [appContainer, agentContainer],
    serviceAccountName: 'golang-app',
    ...o,
    labels: { app: 'golang-app', ...(o.labels ?? {}) },
  } as PodOpts);
}

/** A node agent DaemonSet pod on an EC2 node. */
export function daemonSetAgentPod(name: string, nodeName: string, podIP: string): Raw {
  return pod({
    namespace: 'datadog',
    name,
    labels: { app: 'datadog-agent' },
    nodeName,
    podIP,
    containers: [{ ...agentContainer, name: 'agent' }],
    owner: { kind: 'DaemonSet', name: 'datadog-agent' },
  });
}

export function securityGroupPolicy(
  namespace: string,
  name: string,
  spec: { podSelector?: Raw; serviceAccountSelector?: Raw; groupIds: string[] },
): Raw {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace },
    spec: {
      ...(spec.podSelector ? { podSelector: spec.podSelector } : {}),
      ...(spec.serviceAccountSelector
        ? { serviceAccountSelector: spec.serviceAccountSelector }
        : {}),
      securityGroups: { groupIds: spec.groupIds },
    },
  };
}

export function serviceAccount(
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
): Raw {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels } };
}

// ------------------------------------------------------------------------------------------------
// AWS snapshot types
// ------------------------------------------------------------------------------------------------

export function cluster(over: Partial<EksCluster> = {}): EksCluster {
  return {
    name: 'test-cluster',
    endpointPublicAccess: true,
    endpointPrivateAccess: true,
    publicAccessCidrs: ['0.0.0.0/0'],
    clusterSecurityGroupId: CLUSTER_SG,
    securityGroupIds: [],
    subnetIds: [SUBNET_A, SUBNET_B],
    vpcId: 'vpc-0test',
    authenticationMode: 'API',
    ...over,
  };
}

export function profile(name: string, over: Partial<FargateProfile> = {}): FargateProfile {
  return {
    name,
    status: 'ACTIVE',
    podExecutionRoleArn: EXEC_ROLE,
    subnets: [SUBNET_A, SUBNET_B],
    selectors: [{ namespace: 'golang', labels: {} }],
    healthIssues: [],
    ...over,
  };
}

export const rule = {
  selfAll: (groupId: string): SgRule => ({
    direction: 'ingress',
    protocol: '-1',
    referencedGroupId: groupId,
  }),
  allEgress: (): SgRule => ({ direction: 'egress', protocol: '-1', cidrIpv4: '0.0.0.0/0' }),
  tcpFrom: (port: number, from: string): SgRule => ({
    direction: 'ingress',
    protocol: 'tcp',
    fromPort: port,
    toPort: port,
    ...(from.startsWith('sg-')
      ? { referencedGroupId: from }
      : from.startsWith('pl-')
        ? { prefixListId: from }
        : from.includes(':')
          ? { cidrIpv6: from }
          : { cidrIpv4: from }),
  }),
  egressTo: (protocol: string, port: number, to: string): SgRule => ({
    direction: 'egress',
    protocol,
    fromPort: port,
    toPort: port,
    ...(to.startsWith('sg-') ? { referencedGroupId: to } : { cidrIpv4: to }),
  }),
};

export function group(groupId: string, rules: SgRule[], groupName?: string): SecurityGroup {
  return { groupId, ...(groupName ? { groupName } : {}), rules };
}

/** The default EKS cluster security group: all traffic from itself, all outbound. */
export function clusterGroup(...extra: SgRule[]): SecurityGroup {
  return group(
    CLUSTER_SG,
    [rule.selfAll(CLUSTER_SG), rule.allEgress(), ...extra],
    'eks-cluster-sg-test',
  );
}

export const subnets = [
  {
    subnetId: SUBNET_A,
    vpcId: 'vpc-0test',
    cidrBlock: '10.0.0.0/19',
    ipv6CidrBlocks: [],
    mapPublicIpOnLaunch: false,
  },
  {
    subnetId: SUBNET_B,
    vpcId: 'vpc-0test',
    cidrBlock: '10.0.32.0/19',
    ipv6CidrBlocks: [],
    mapPublicIpOnLaunch: false,
  },
];

/** AWS parts with a cluster, one ACTIVE profile for `golang` and `datadog`, and the default cluster SG. */
export function baseAws(over: Partial<AwsSnapshot> = {}): Partial<AwsSnapshot> {
  return {
    ...emptyAws(),
    cluster: ok(cluster()),
    fargateProfiles: ok([
      profile('fp-apps', {
        selectors: [
          { namespace: 'golang', labels: {} },
          { namespace: 'datadog', labels: {} },
        ],
      }),
    ]),
    securityGroups: ok([clusterGroup()]),
    subnets: ok(subnets),
    ...over,
  };
}

/** Runs one check over manifests plus AWS parts and returns its raw results. */
export function runOn(
  check: Check,
  docs: Raw[],
  aws: Partial<AwsSnapshot> = baseAws(),
  opts: Omit<BuildOptions, 'aws'> = {},
): CheckResult[] {
  return check.run(snapshotFromManifests(docs, { ...opts, aws }));
}

/** `STATUS:messageId` per result, the shape the check tables assert on. */
export function outcomes(results: CheckResult[]): string[] {
  return results.map((r) => `${r.status}:${r.messageId}`);
}
