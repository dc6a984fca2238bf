/**
 * Synthetic clusters for the benchmark: N application namespaces, each with an app Deployment +
 * Pod carrying the Datadog agent sidecar on Fargate, an ExternalSecret and its token Secret, a
 * ServiceAccount bound to the agent ClusterRole and a RoleBinding; plus the Cluster Agent and
 * matching AWS responses. A few namespaces are broken on purpose so the checks do real work.
 */
import type { Raw } from '../lambda/collect/kube/raw.js';

/** The cluster the audit is run for; the AWS responses describe it. */
export const BENCH_CLUSTER = 'bench';
export const BENCH_TOKEN = 'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c';
export const BENCH_OLD_TOKEN = 'CANARY-dd-cluster-agent-token-OLD-0b1c2d3e4f5a6b7c';
export const BENCH_API_KEY = 'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b';
const CA_URL = 'https://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005';
const T0 = '2026-11-20T00:00:00Z';
const SYNCED = '2026-11-24T01:55:00Z';

export interface BrokenCounts {
  danglingRef: number;
  staleToken: number;
  missingBinding: number;
}

export interface SyntheticCluster {
  manifests: Raw[];
  aws: Raw;
  namespaces: number;
  broken: BrokenCounts;
}

const meta = (name: string, namespace?: string, extra: Raw = {}) => ({
  name,
  ...(namespace ? { namespace } : {}),
  creationTimestamp: T0,
  ...extra,
});

function agentSidecar(secretName: string): Raw {
  return {
    name: 'datadog-agent',
    image: 'public.ecr.aws/datadog/agent:7.60.0',
    env: [
      { name: 'DD_API_KEY', valueFrom: { secretKeyRef: { name: secretName, key: 'api-key' } } },
      { name: 'DD_EKS_FARGATE', value: 'true' },
      {
        name: 'DD_KUBERNETES_KUBELET_NODENAME',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } },
      },
      { name: 'DD_CLUSTER_AGENT_ENABLED', value: 'true' },
      { name: 'DD_CLUSTER_AGENT_URL', value: CA_URL },
      {
        name: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
        valueFrom: { secretKeyRef: { name: secretName, key: 'token' } },
      },
    ],
  };
}

function externalSecret(ns: string, name: string, refreshTime: string, ready: boolean): Raw {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: meta(name, ns),
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { name: 'aws-secrets-manager', kind: 'ClusterSecretStore' },
      target: { name, creationPolicy: 'Owner' },
      data: [
        { secretKey: 'token', remoteRef: { key: 'datadog/cluster-agent-token' } },
        { secretKey: 'api-key', remoteRef: { key: 'datadog/apikey' } },
      ],
    },
    status: {
      refreshTime,
      syncedResourceVersion: '1-abc',
      conditions: [
        ready
          ? {
              type: 'Ready',
              status: 'True',
              reason: 'SecretSynced',
              message: 'secret synced',
              lastTransitionTime: refreshTime,
            }
          : {
              type: 'Ready',
              status: 'False',
              reason: 'SecretSyncedError',
              message: 'could not get secret data from provider',
              lastTransitionTime: refreshTime,
            },
      ],
    },
  };
}

function tokenSecret(ns: string, name: string, token: string, changed: string): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(name, ns, {
      labels: { 'reconcile.external-secrets.io/created-by': 'a1b2c3' },
      ownerReferences: [
        {
          apiVersion: 'external-secrets.io/v1',
          kind: 'ExternalSecret',
          name,
          controller: true,
          uid: `uid-es-${ns}`,
        },
      ],
      managedFields: [
        { manager: 'external-secrets', operation: 'Update', apiVersion: 'v1', time: changed },
      ],
    }),
    type: 'Opaque',
    stringData: { token, 'api-key': BENCH_API_KEY },
  };
}

/** The shared part: Cluster Agent, its Service and RBAC, the agent ClusterRole, the store. */
function clusterWide(): Raw[] {
  const caLabels = {
    app: 'datadog-agent-cluster-agent',
    'app.kubernetes.io/component': 'cluster-agent',
  };
  const caPodSpec = {
    serviceAccountName: 'datadog-agent-cluster-agent',
    nodeName: 'fargate-ip-10-0-0-10.eu-west-1.compute.internal',
    containers: [
      {
        name: 'cluster-agent',
        image: 'gcr.io/datadoghq/cluster-agent:7.60.0',
        ports: [{ containerPort: 5005, name: 'agentport', protocol: 'TCP' }],
        env: [
          {
            name: 'DD_API_KEY',
            valueFrom: { secretKeyRef: { name: 'datadog-secrets', key: 'api-key' } },
          },
          {
            name: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
            valueFrom: { secretKeyRef: { name: 'datadog-secrets', key: 'token' } },
          },
        ],
      },
    ],
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta('datadog') },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta('datadog-agent-cluster-agent', 'datadog'),
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('datadog-agent-cluster-agent', 'datadog', { labels: caLabels }),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: caLabels.app } },
        template: { metadata: { labels: caLabels }, spec: caPodSpec },
      },
      status: { readyReplicas: 1 },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta('datadog-agent-cluster-agent-6c9f8d7b5-x2x4z', 'datadog', {
        labels: { ...caLabels, 'eks.amazonaws.com/fargate-profile': 'fp-datadog' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'datadog-agent-cluster-agent-6c9f8d7b5',
            controller: true,
          },
        ],
      }),
      spec: caPodSpec,
      status: {
        phase: 'Running',
        startTime: '2026-11-24T01:58:00Z',
        podIP: '10.0.0.10',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'cluster-agent',
            ready: true,
            restartCount: 0,
            state: { running: { startedAt: '2026-11-24T01:58:10Z' } },
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: meta('fargate-ip-10-0-0-10.eu-west-1.compute.internal', undefined, {
        labels: { 'eks.amazonaws.com/compute-type': 'fargate' },
      }),
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.10' }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('datadog-agent-cluster-agent', 'datadog'),
      spec: {
        type: 'ClusterIP',
        clusterIP: '172.20.10.10',
        selector: { app: caLabels.app },
        ports: [{ name: 'agentport', port: 5005, targetPort: 5005, protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: meta('datadog-agent-cluster-agent-abcde', 'datadog', {
        labels: { 'kubernetes.io/service-name': 'datadog-agent-cluster-agent' },
      }),
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.10'], conditions: { ready: true } }],
      ports: [{ name: 'agentport', port: 5005, protocol: 'TCP' }],
    },
    externalSecret('datadog', 'datadog-secrets', SYNCED, true),
    tokenSecret('datadog', 'datadog-secrets', BENCH_TOKEN, '2026-11-20T00:00:00Z'),
    {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterSecretStore',
      metadata: meta('aws-secrets-manager'),
      spec: { provider: { aws: { service: 'SecretsManager', region: 'eu-west-1' } } },
      status: {
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Valid', message: 'store validated' },
        ],
      },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('datadog-agent-fargate'),
      rules: [
        {
          apiGroups: [''],
          resources: ['nodes', 'namespaces', 'endpoints'],
          verbs: ['get', 'list'],
        },
        {
          apiGroups: [''],
          resources: [
            'nodes/metrics',
            'nodes/spec',
            'nodes/stats',
            'nodes/proxy',
            'nodes/pods',
            'nodes/healthz',
          ],
          verbs: ['get'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('datadog-agent-cluster-agent'),
      rules: [
        {
          apiGroups: [''],
          resources: [
            'services',
            'endpoints',
            'pods',
            'nodes',
            'namespaces',
            'componentstatuses',
            'limitranges',
          ],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch', 'create'] },
        {
          apiGroups: ['discovery.k8s.io'],
          resources: ['endpointslices'],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: ['datadog-leader-election'],
          verbs: ['get', 'update'],
        },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'update', 'create'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('datadog-agent-cluster-agent'),
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'datadog-agent-cluster-agent',
      },
      subjects: [
        { kind: 'ServiceAccount', name: 'datadog-agent-cluster-agent', namespace: 'datadog' },
      ],
    },
  ];
}

function appNamespace(
  i: number,
  broken: { dangling: boolean; stale: boolean; unbound: boolean },
): Raw[] {
  const ns = `app-${String(i).padStart(5, '0')}`;
  const secret = 'datadog-token';
  const node = `fargate-ip-10-${(i >> 8) & 255}-${i & 255}-20.eu-west-1.compute.internal`;
  const labels = { app: 'web', 'eks.amazonaws.com/fargate-profile': 'fp-apps' };
  const podSpec = {
    serviceAccountName: 'web',
    nodeName: node,
    containers: [
      {
        name: 'web',
        image: 'example.com/web:1.0',
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
      },
      agentSidecar(broken.dangling ? 'datadog-tokens' : secret),
    ],
  };
  const docs: Raw[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('web', ns) },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web', ns),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { ...podSpec, nodeName: undefined },
        },
      },
      status: { readyReplicas: 1 },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(`web-5f7d9c8b6-${String(i).padStart(5, '0')}`, ns, {
        labels,
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5f7d9c8b6', controller: true },
        ],
      }),
      spec: podSpec,
      status: {
        phase: 'Running',
        startTime: '2026-11-24T01:58:00Z',
        podIP: `10.${(i >> 8) & 255}.${i & 255}.20`,
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'web',
            ready: true,
            restartCount: 0,
            state: { running: { startedAt: '2026-11-24T01:58:10Z' } },
          },
          {
            name: 'datadog-agent',
            ready: true,
            restartCount: 0,
            state: { running: { startedAt: '2026-11-24T01:58:10Z' } },
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: meta(node, undefined, { labels: { 'eks.amazonaws.com/compute-type': 'fargate' } }),
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: `10.${(i >> 8) & 255}.${i & 255}.20` }],
      },
    },
    externalSecret(ns, secret, broken.stale ? '2026-11-23T01:00:00Z' : SYNCED, !broken.stale),
    tokenSecret(
      ns,
      secret,
      broken.stale ? BENCH_OLD_TOKEN : BENCH_TOKEN,
      broken.stale ? '2026-11-01T00:00:00Z' : '2026-11-20T00:00:00Z',
    ),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta('web-config-reader', ns),
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta('web-config-reader', ns),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'web-config-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: ns }],
    },
  ];
  if (!broken.unbound) {
    docs.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(`datadog-agent-fargate-${ns}`),
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'datadog-agent-fargate',
      },
      subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: ns }],
    });
  }
  return docs;
}

/** AWS answers in the aws.json fixture format (see test/fixtures/README.md). */
export function awsResponses(clusterName: string): Raw {
  const clusterSg = 'sg-0c1a5de0000000001';
  return {
    region: 'eu-west-1',
    DescribeCluster: {
      cluster: {
        name: clusterName,
        arn: `arn:aws:eks:eu-west-1:111122223333:cluster/${clusterName}`,
        version: '1.31',
        status: 'ACTIVE',
        endpoint: 'https://EXAMPLE.gr7.eu-west-1.eks.amazonaws.com',
        certificateAuthority: { data: 'LS0tLS1CRUdJTg==' },
        resourcesVpcConfig: {
          subnetIds: ['subnet-0a0000000000000a1', 'subnet-0a0000000000000a2'],
          securityGroupIds: [],
          clusterSecurityGroupId: clusterSg,
          vpcId: 'vpc-0b00000000000000b',
          endpointPublicAccess: true,
          endpointPrivateAccess: true,
          publicAccessCidrs: ['0.0.0.0/0'],
        },
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      },
    },
    ListFargateProfiles: { fargateProfileNames: ['fp-datadog', 'fp-apps'] },
    DescribeFargateProfile: Object.fromEntries(
      [
        ['fp-datadog', [{ namespace: 'datadog' }]],
        ['fp-apps', [{ namespace: 'app-*' }]],
      ].map(([name, selectors]) => [
        name,
        {
          fargateProfile: {
            fargateProfileName: name,
            fargateProfileArn: `arn:aws:eks:eu-west-1:111122223333:fargateprofile/${clusterName}/${name}/1`,
            clusterName,
            podExecutionRoleArn: 'arn:aws:iam::111122223333:role/eks-fargate-pod-execution',
            subnets: ['subnet-0a0000000000000a1', 'subnet-0a0000000000000a2'],
            selectors,
            status: 'ACTIVE',
            health: { issues: [] },
          },
        },
      ]),
    ),
    DescribeSecurityGroups: {
      SecurityGroups: [
        {
          GroupId: clusterSg,
          GroupName: `eks-cluster-sg-${clusterName}`,
          VpcId: 'vpc-0b00000000000000b',
          IpPermissions: [
            {
              IpProtocol: '-1',
              UserIdGroupPairs: [{ GroupId: clusterSg }],
              IpRanges: [],
              Ipv6Ranges: [],
              PrefixListIds: [],
            },
          ],
          IpPermissionsEgress: [
            {
              IpProtocol: '-1',
              IpRanges: [{ CidrIp: '0.0.0.0/0' }],
              UserIdGroupPairs: [],
              Ipv6Ranges: [],
              PrefixListIds: [],
            },
          ],
        },
      ],
    },
    DescribeSubnets: {
      Subnets: ['a1', 'a2'].map((s, i) => ({
        SubnetId: `subnet-0a0000000000000${s}`,
        VpcId: 'vpc-0b00000000000000b',
        CidrBlock: `10.${i}.0.0/16`,
        AvailabilityZone: `eu-west-1${'ab'[i]}`,
        MapPublicIpOnLaunch: false,
        Ipv6CidrBlockAssociationSet: [],
      })),
    },
    DescribeRouteTables: {
      RouteTables: [
        {
          RouteTableId: 'rtb-0000000000000main',
          VpcId: 'vpc-0b00000000000000b',
          Associations: [{ Main: true, RouteTableId: 'rtb-0000000000000main' }],
          Routes: [
            { DestinationCidrBlock: '10.0.0.0/8', GatewayId: 'local', State: 'active' },
            {
              DestinationCidrBlock: '0.0.0.0/0',
              NatGatewayId: 'nat-0000000000000001',
              State: 'active',
            },
          ],
        },
      ],
    },
    DescribeInstances: { Reservations: [] },
    ListAccessEntries: {
      accessEntries: ['arn:aws:iam::111122223333:role/eks-fargate-pod-execution'],
    },
    DescribeAccessEntry: {
      'arn:aws:iam::111122223333:role/eks-fargate-pod-execution': {
        accessEntry: {
          principalArn: 'arn:aws:iam::111122223333:role/eks-fargate-pod-execution',
          type: 'FARGATE_LINUX',
          kubernetesGroups: [],
        },
      },
    },
    SecretsManager: {
      'datadog/cluster-agent-token': {
        GetSecretValue: {
          ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:datadog/cluster-agent-token-AbCdEf',
          Name: 'datadog/cluster-agent-token',
          VersionId: 'v2',
          SecretString: BENCH_TOKEN,
          VersionStages: ['AWSCURRENT'],
        },
        DescribeSecret: {
          ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:datadog/cluster-agent-token-AbCdEf',
          Name: 'datadog/cluster-agent-token',
          LastChangedDate: '2026-11-20T00:00:00Z',
          RotationEnabled: false,
          VersionIdsToStages: { v2: ['AWSCURRENT'], v1: ['AWSPREVIOUS'] },
        },
      },
    },
  };
}

/**
 * N application namespaces. Broken on purpose (so even N = 10 has one of each): namespaces 7, 104,
 * 201, ... reference a Secret that does not exist; 3, 104, 205, ... hold the old token; 5, 216, ...
 * lack the agent ClusterRoleBinding.
 */
export function generateCluster(n: number, clusterName = `bench-${n}`): SyntheticCluster {
  const manifests = clusterWide();
  const broken: BrokenCounts = { danglingRef: 0, staleToken: 0, missingBinding: 0 };
  for (let i = 1; i <= n; i++) {
    const b = { dangling: i % 97 === 7, stale: i % 101 === 3, unbound: i % 211 === 5 };
    broken.danglingRef += Number(b.dangling);
    broken.staleToken += Number(b.stale);
    broken.missingBinding += Number(b.unbound);
    manifests.push(...appNamespace(i, b));
  }
  return { manifests, aws: awsResponses(clusterName), namespaces: n, broken };
}
