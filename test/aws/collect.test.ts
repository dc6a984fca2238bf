import {
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
} from '@aws-sdk/client-ec2';
import { DescribeFargateProfileCommand, ListFargateProfilesCommand } from '@aws-sdk/client-eks';
import 'aws-sdk-client-mock-jest';
import { createAwsClients } from '../../lambda/collect/aws/clients.js';
import {
  collectAwsCluster,
  collectAwsNetwork,
  describeCluster,
  DESCRIBE_CONCURRENCY,
} from '../../lambda/collect/aws/collect.js';
import { digestSecret } from '../../lambda/snapshot/secret-digest.js';
import type { EksCluster, FargateProfile, KubeSnapshot } from '../../lambda/snapshot/snapshot.js';
import {
  loadAwsFixture,
  mockAwsFromFixture,
  sdkError,
  type AwsFixture,
  type AwsFixtureMocks,
} from '../support/aws-fixture.js';
import {
  DEFAULT_SETTINGS,
  FIXTURES_DIR,
  snapshotFromManifests,
} from '../support/snapshot-builder.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';

const TOKEN_CANARY = 'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c';
const CLUSTER_SG = 'sg-0c1a5e7e2d3f4a5b6';
const CONTROL_PLANE_SG = 'sg-0a1b2c3d4e5f60718';
const INSTANCE = 'i-0a1b2c3d4e5f67890';

const healthy = (): AwsFixture => loadAwsFixture(`${FIXTURES_DIR}healthy`);

let mocks: AwsFixtureMocks;
function serve(fixture: AwsFixture = healthy()) {
  mocks = mockAwsFromFixture(fixture);
  return createAwsClients({ region: 'eu-west-1' });
}
afterEach(() => mocks?.restore());

const ec2Node = (instanceId: string): Raw => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: `ip-${instanceId}`, labels: { 'eks.amazonaws.com/nodegroup': 'system' } },
  spec: { providerID: `aws:///eu-west-1a/${instanceId}` },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
});
const fargateNode: Raw = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'fargate-ip-10-0-1-23.eu-west-1.compute.internal',
    labels: { 'eks.amazonaws.com/compute-type': 'fargate' },
  },
};
const sgPolicy = (groupIds: string[]): Raw => ({
  apiVersion: 'vpcresources.k8s.aws/v1beta1',
  kind: 'SecurityGroupPolicy',
  metadata: { name: 'datadog-agents', namespace: 'datadog' },
  spec: { podSelector: { matchLabels: { app: 'datadog' } }, securityGroups: { groupIds } },
});
const kubeOf = (docs: Raw[]): KubeSnapshot => snapshotFromManifests(docs).kube;
const hexId = (prefix: string, n: number) => `${prefix}-${n.toString(16).padStart(17, '0')}`;

async function healthyCluster(clients: ReturnType<typeof serve>): Promise<EksCluster> {
  const { cluster } = await describeCluster(clients, 'healthy');
  if (cluster.status !== 'ok') throw new Error('fixture cluster did not load');
  return cluster.value;
}

describe('describeCluster', () => {
  it('returns the cluster and the endpoint and CA needed to reach its API server', async () => {
    const clients = serve();
    const fixture = healthy();

    const { cluster, access } = await describeCluster(clients, 'healthy');

    expect(cluster).toMatchObject({
      status: 'ok',
      value: {
        name: 'healthy',
        version: '1.31',
        authenticationMode: 'API_AND_CONFIG_MAP',
        clusterSecurityGroupId: CLUSTER_SG,
        securityGroupIds: [CONTROL_PLANE_SG],
      },
    });
    expect(access).toEqual({
      endpoint: fixture.DescribeCluster.cluster.endpoint,
      caData: fixture.DescribeCluster.cluster.certificateAuthority?.data,
    });
    expect(clients.calls.count).toBe(0); // mocked sends bypass the middleware stack
    expect(mocks.callCount()).toBe(1);
  });

  it('records an unknown cluster as NotFound naming the cluster and region', async () => {
    const clients = serve();

    const { cluster, access } = await describeCluster(clients, 'no-such-cluster');

    expect(access).toBeUndefined();
    expect(cluster).toMatchObject({
      status: 'error',
      error: {
        source: 'aws',
        kind: 'eks:DescribeCluster',
        name: 'no-such-cluster',
        code: 'NotFound',
      },
    });
    expect(cluster.status === 'error' && cluster.error.message).toContain(
      'No EKS cluster no-such-cluster in eu-west-1',
    );
  });

  it('records AccessDenied instead of throwing', async () => {
    const clients = serve({
      ...healthy(),
      Faults: { DescribeCluster: { name: 'AccessDeniedException', status: 403 } },
    });

    const { cluster } = await describeCluster(clients, 'healthy');

    expect(cluster).toMatchObject({
      status: 'error',
      error: { kind: 'eks:DescribeCluster', code: 'AccessDenied', status: 403 },
    });
    expect(cluster.status === 'error' && cluster.error.message).toContain(
      "Allow eks:DescribeCluster for the auditor's IAM role",
    );
  });
});

describe('collectAwsCluster', () => {
  it('collects Fargate profiles, access entries and the token digest of the healthy fixture', async () => {
    const clients = serve();

    const result = await collectAwsCluster(clients, 'healthy', DEFAULT_SETTINGS);

    expect(result.fargateProfiles.status).toBe('ok');
    const profiles = result.fargateProfiles.status === 'ok' ? result.fargateProfiles.value : [];
    expect(profiles.map((p) => [p.name, p.selectors[0]?.namespace, p.status])).toEqual([
      ['fp-kube-system', 'kube-system', 'ACTIVE'],
      ['fp-datadog', 'datadog', 'ACTIVE'],
      ['fp-golang', 'golang', 'ACTIVE'],
    ]);
    expect(result.accessEntries).toMatchObject({
      status: 'ok',
      value: expect.arrayContaining([
        expect.objectContaining({ type: 'FARGATE_LINUX' }),
        expect.objectContaining({ kubernetesGroups: ['eks-datadog-auditor'] }),
      ]),
    });
    expect(result.tokenSource).toMatchObject({
      status: 'ok',
      value: { secretId: 'datadog/cluster-agent-token', current: digestSecret(TOKEN_CANARY) },
    });
    expect(JSON.stringify(result)).not.toContain(TOKEN_CANARY);
  });

  it('pages the profile list and describes at most a few profiles at once', async () => {
    const fixture = healthy();
    const template = fixture.DescribeFargateProfile?.['fp-datadog']?.fargateProfile;
    const names = Array.from({ length: 250 }, (_, i) => `fp-${i}`);
    fixture.ListFargateProfiles = { fargateProfileNames: names };
    fixture.DescribeFargateProfile = Object.fromEntries(
      names.map((n) => [n, { fargateProfile: { ...template, fargateProfileName: n } }]),
    );
    const clients = serve(fixture);
    let inFlight = 0;
    let maxInFlight = 0;
    mocks.eks.on(DescribeFargateProfileCommand).callsFake(async (input) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      return fixture.DescribeFargateProfile?.[input.fargateProfileName];
    });

    const result = await collectAwsCluster(clients, 'healthy', DEFAULT_SETTINGS);

    expect(result.fargateProfiles.status === 'ok' && result.fargateProfiles.value).toHaveLength(
      250,
    );
    expect(mocks.eks).toHaveReceivedCommandTimes(ListFargateProfilesCommand, 3);
    expect(mocks.eks).toHaveReceivedCommandTimes(DescribeFargateProfileCommand, 250);
    expect(maxInFlight).toBeLessThanOrEqual(DESCRIBE_CONCURRENCY);
    expect(maxInFlight).toBeGreaterThan(1);
  });

  it('skips a profile deleted between list and describe', async () => {
    const fixture = healthy();
    fixture.ListFargateProfiles?.fargateProfileNames.push('fp-deleted-meanwhile');

    const result = await collectAwsCluster(serve(fixture), 'healthy', DEFAULT_SETTINGS);

    expect(result.fargateProfiles.status === 'ok' && result.fargateProfiles.value).toHaveLength(3);
  });

  it('records a throttled profile describe for Fargate profiles only; the rest still collects', async () => {
    const clients = serve({
      ...healthy(),
      Faults: { DescribeFargateProfile: { name: 'ThrottlingException', message: 'Rate exceeded' } },
    });

    const result = await collectAwsCluster(clients, 'healthy', DEFAULT_SETTINGS);

    expect(result.fargateProfiles).toMatchObject({
      status: 'error',
      error: { source: 'aws', kind: 'eks:DescribeFargateProfile', code: 'Throttled' },
    });
    expect(result.accessEntries.status).toBe('ok');
    expect(result.tokenSource.status).toBe('ok');
  });

  it('stops describing profiles after the first failure instead of adding to the throttling', async () => {
    const fixture = healthy();
    const names = Array.from({ length: 100 }, (_, i) => `fp-${i}`);
    fixture.ListFargateProfiles = { fargateProfileNames: names };
    fixture.Faults = { DescribeFargateProfile: { name: 'ThrottlingException' } };
    const clients = serve(fixture);

    await collectAwsCluster(clients, 'healthy', DEFAULT_SETTINGS);

    expect(mocks.eks.commandCalls(DescribeFargateProfileCommand).length).toBeLessThanOrEqual(
      DESCRIBE_CONCURRENCY,
    );
  });

  it('records access entries as not installed on a CONFIG_MAP cluster', async () => {
    const fixture = healthy();
    fixture.DescribeCluster.cluster.accessConfig = { authenticationMode: 'CONFIG_MAP' };

    const result = await collectAwsCluster(serve(fixture), 'healthy', DEFAULT_SETTINGS);

    expect(result.accessEntries).toEqual({
      status: 'not-installed',
      detail: expect.stringContaining('CONFIG_MAP'),
    });
  });

  it('records a denied ListAccessEntries as an error for access entries', async () => {
    const clients = serve({
      ...healthy(),
      Faults: { ListAccessEntries: { name: 'AccessDeniedException', status: 403 } },
    });

    const result = await collectAwsCluster(clients, 'healthy', DEFAULT_SETTINGS);

    expect(result.accessEntries).toMatchObject({
      status: 'error',
      error: { kind: 'eks:ListAccessEntries', code: 'AccessDenied', name: 'healthy' },
    });
  });
});

describe('collectAwsNetwork', () => {
  async function profilesOf(clients: ReturnType<typeof serve>): Promise<FargateProfile[]> {
    const { fargateProfiles } = await collectAwsCluster(clients, 'healthy', DEFAULT_SETTINGS);
    return fargateProfiles.status === 'ok' ? fargateProfiles.value : [];
  }

  it('describes the union of cluster, SecurityGroupPolicy and node groups in one call each', async () => {
    const clients = serve();
    const cluster = await healthyCluster(clients);
    const kube = kubeOf([
      ec2Node(INSTANCE),
      fargateNode,
      sgPolicy([CLUSTER_SG, 'sg-0deadbeef00000001']),
    ]);

    const result = await collectAwsNetwork(clients, cluster, kube, await profilesOf(clients));

    expect(mocks.ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    expect(mocks.ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [{ Name: 'instance-id', Values: [INSTANCE] }],
    });
    expect(mocks.ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 1);
    expect(mocks.ec2).toHaveReceivedCommandWith(DescribeSecurityGroupsCommand, {
      Filters: [
        { Name: 'group-id', Values: [CLUSTER_SG, CONTROL_PLANE_SG, 'sg-0deadbeef00000001'] },
      ],
    });
    expect(result.instances).toMatchObject({
      status: 'ok',
      value: [{ instanceId: INSTANCE, securityGroupIds: [CLUSTER_SG] }],
    });
    // A referenced group that does not exist is simply absent, for checks to notice.
    expect(
      result.securityGroups.status === 'ok' && result.securityGroups.value.map((g) => g.groupId),
    ).toEqual([CLUSTER_SG, CONTROL_PLANE_SG]);
    expect(result.subnets.status === 'ok' && result.subnets.value).toHaveLength(5);
    expect(mocks.ec2).toHaveReceivedCommandWith(DescribeRouteTablesCommand, {
      Filters: [{ Name: 'vpc-id', Values: ['vpc-0f1e2d3c4b5a69788'] }],
    });
    const tables = result.routeTables.status === 'ok' ? result.routeTables.value : [];
    expect(tables.filter((t) => t.main).map((t) => t.routeTableId)).toEqual([
      'rtb-0123456789abcdef0',
    ]);
    expect(tables.flatMap((t) => t.routes).filter((r) => r.natGatewayId)).toHaveLength(3);
  });

  it('makes no DescribeInstances call for a Fargate-only cluster', async () => {
    const clients = serve();
    const cluster = await healthyCluster(clients);

    const result = await collectAwsNetwork(clients, cluster, kubeOf([fargateNode]), []);

    expect(result.instances).toEqual({ status: 'ok', value: [] });
    expect(mocks.ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
  });

  it('batches 450 instance ids into 3 calls of at most 200', async () => {
    const clients = serve();
    mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const ids = Array.from({ length: 450 }, (_, i) => hexId('i', i + 1));

    await collectAwsNetwork(clients, undefined, kubeOf(ids.map(ec2Node)), []);

    const sizes = mocks.ec2
      .commandCalls(DescribeInstancesCommand)
      .map((c) => c.args[0].input.Filters?.[0]?.Values?.length);
    expect(sizes).toEqual([200, 200, 50]);
  });

  it('batches 450 security group ids into 3 calls', async () => {
    const clients = serve();
    const groupIds = Array.from({ length: 450 }, (_, i) => hexId('sg', i + 1));

    const result = await collectAwsNetwork(clients, undefined, kubeOf([sgPolicy(groupIds)]), []);

    expect(result.securityGroups).toEqual({ status: 'ok', value: [] });
    expect(mocks.ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 3);
  });

  it('follows NextToken across route table pages', async () => {
    const clients = serve();
    mocks.ec2
      .on(DescribeRouteTablesCommand)
      .resolvesOnce({ RouteTables: [{ RouteTableId: 'rtb-1' }], NextToken: 'page-2' })
      .resolvesOnce({ RouteTables: [{ RouteTableId: 'rtb-2' }] });
    const cluster = await healthyCluster(clients);

    const result = await collectAwsNetwork(clients, cluster, kubeOf([]), []);

    expect(
      result.routeTables.status === 'ok' && result.routeTables.value.map((t) => t.routeTableId),
    ).toEqual(['rtb-1', 'rtb-2']);
    expect(mocks.ec2).toHaveReceivedNthSpecificCommandWith(2, DescribeRouteTablesCommand, {
      NextToken: 'page-2',
    });
  });

  it('says instances were not evaluated when the node list failed, and still collects groups', async () => {
    const clients = serve();
    const cluster = await healthyCluster(clients);
    const kube: KubeSnapshot = {
      ...kubeOf([]),
      nodes: {
        status: 'error',
        error: {
          source: 'kubernetes',
          kind: 'nodes',
          status: 403,
          code: 'Forbidden',
          message: 'nodes is forbidden',
        },
      },
    };

    const result = await collectAwsNetwork(clients, cluster, kube, []);

    expect(result.instances).toMatchObject({
      status: 'error',
      error: { source: 'aws', kind: 'ec2:DescribeInstances', code: 'NotEvaluated' },
    });
    expect(result.securityGroups.status).toBe('ok');
  });

  it('records a denied DescribeSecurityGroups for groups only', async () => {
    const clients = serve({
      ...healthy(),
      Faults: {
        DescribeSecurityGroups: {
          name: 'UnauthorizedOperation',
          message: 'You are not authorized to perform this operation.',
          status: 403,
        },
      },
    });
    const cluster = await healthyCluster(clients);

    const result = await collectAwsNetwork(clients, cluster, kubeOf([fargateNode]), []);

    expect(result.securityGroups).toMatchObject({
      status: 'error',
      error: { kind: 'ec2:DescribeSecurityGroups', code: 'AccessDenied', status: 403 },
    });
    expect(
      result.securityGroups.status === 'error' && result.securityGroups.error.message,
    ).toContain("Allow ec2:DescribeSecurityGroups for the auditor's IAM role");
    expect(result.subnets.status).toBe('ok');
    expect(result.routeTables.status).toBe('ok');
    expect(mocks.ec2).toHaveReceivedCommand(DescribeSubnetsCommand);
  });

  it('never throws, even when every EC2 call fails', async () => {
    const clients = serve();
    mocks.ec2.rejects(sdkError('InternalError', 'boom', 500));
    const cluster = await healthyCluster(clients);

    const result = await collectAwsNetwork(clients, cluster, kubeOf([ec2Node(INSTANCE)]), []);

    expect(Object.values(result).map((c) => c.status)).toEqual([
      'error',
      'error',
      'error',
      'error',
    ]);
    expect(Object.values(result).map((c) => c.status === 'error' && c.error.code)).toEqual([
      'ServerError',
      'ServerError',
      'ServerError',
      'ServerError',
    ]);
  });
});
