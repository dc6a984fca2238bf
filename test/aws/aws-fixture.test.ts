import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient, DescribeFargateProfileCommand } from '@aws-sdk/client-eks';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { loadAwsFixture, mockAwsFromFixture } from '../support/aws-fixture.js';
import { FIXTURES_DIR } from '../support/snapshot-builder.js';

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };

describe.each(['healthy', 'field-report'])('AWS fixture %s', (name) => {
  const fixture = loadAwsFixture(`${FIXTURES_DIR}${name}`);
  let mocks: ReturnType<typeof mockAwsFromFixture>;
  beforeEach(() => (mocks = mockAwsFromFixture(fixture)));
  afterEach(() => mocks.restore());

  it('describes an EKS 1.31 cluster in eu-west-1 with both authentication modes', () => {
    expect(fixture.region).toBe('eu-west-1');
    expect(fixture.DescribeCluster.cluster).toMatchObject({
      name,
      version: '1.31',
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    });
    expect(fixture.DescribeCluster.cluster.createdAt).toBeInstanceOf(Date);
  });

  it('serves Fargate profiles by name, with dates as Date', async () => {
    const eks = new EKSClient(config);
    const res = await eks.send(
      new DescribeFargateProfileCommand({ clusterName: name, fargateProfileName: 'fp-golang' }),
    );
    expect(res.fargateProfile?.selectors).toEqual([{ namespace: 'golang' }]);
    expect(res.fargateProfile?.createdAt).toBeInstanceOf(Date);
    await expect(
      eks.send(
        new DescribeFargateProfileCommand({ clusterName: name, fargateProfileName: 'nope' }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('serves the Cluster Agent token canary as AWSCURRENT and nothing as AWSPENDING', async () => {
    const sm = new SecretsManagerClient(config);
    const current = await sm.send(
      new GetSecretValueCommand({ SecretId: 'datadog/cluster-agent-token' }),
    );
    expect(current.SecretString).toBe('CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c');
    await expect(
      sm.send(
        new GetSecretValueCommand({
          SecretId: 'datadog/cluster-agent-token',
          VersionStage: 'AWSPENDING',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const described = await sm.send(new DescribeSecretCommand({ SecretId: current.ARN }));
    expect(described.LastChangedDate).toBeInstanceOf(Date);
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: 'datadog/unknown' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('fails a DescribeSecurityGroups by unknown GroupIds like EC2 does', async () => {
    const ec2 = new EC2Client(config);
    await expect(
      ec2.send(
        new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0c1a5e7e2d3f4a5b6', 'sg-gone'] }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
    const res = await ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0c1a5e7e2d3f4a5b6'] }),
    );
    expect(res.SecurityGroups?.map((g) => g.GroupId)).toEqual(['sg-0c1a5e7e2d3f4a5b6']);
  });

  it('answers STS GetCallerIdentity with the cluster account', async () => {
    const res = await new STSClient(config).send(new GetCallerIdentityCommand({}));
    expect(res.Account).toBe('123456789012');
    expect(mocks.callCount()).toBe(1);
  });
});
