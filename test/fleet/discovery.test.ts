import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { ListAccountsForParentCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { gzipSync } from 'node:zlib';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../lambda/config/source.js';
import { parseConfig } from '../../lambda/config/config.js';
import { discoverClusters, discoveryReport } from '../../lambda/run/fleet/discovery.js';
import { mergeClusters } from '../../lambda/run/fleet/run.js';
import { sdkError } from '../support/aws-fixture.js';

/** One mocked EKS client per account and region, as the reader role would see them. */
function eksPerAccount(
  clusters: Record<string, { name: string; tags: Record<string, string> }[] | Error>,
) {
  return (region: string, roleArn: string) => {
    const account = roleArn.split(':')[4]!;
    const client = new EKSClient({ region });
    const mock = mockClient(client);
    const listed = clusters[`${account}/${region}`] ?? [];
    if (listed instanceof Error) {
      mock.on(ListClustersCommand).rejects(listed);
      return client;
    }
    mock.on(ListClustersCommand).resolves({ clusters: listed.map((c) => c.name) });
    for (const c of listed) {
      mock
        .on(DescribeClusterCommand, { name: c.name })
        .resolves({ cluster: { name: c.name, tags: c.tags } });
    }
    return client;
  };
}

describe('discoverClusters', () => {
  const config = (discover: unknown, clusters: unknown[] = []) =>
    parseConfig({ clusters, discover }, 'test');

  it('lists matching clusters per account and region through the reader role; a failing pair is a failure, not a crash', async () => {
    const found = await discoverClusters(
      config({
        regions: ['eu-west-1', 'us-east-1'],
        tags: { datadog: 'fargate' },
        accounts: ['111111111111', '222222222222'],
      }),
      {
        organizations: () => new OrganizationsClient({}),
        eks: eksPerAccount({
          '111111111111/eu-west-1': [
            { name: 'prod', tags: { datadog: 'fargate' } },
            { name: 'legacy', tags: { datadog: 'ec2' } },
          ],
          '222222222222/eu-west-1': sdkError(
            'AccessDenied',
            'not authorized to perform sts:AssumeRole',
            403,
          ),
          '222222222222/us-east-1': [{ name: 'edge', tags: { datadog: 'fargate', team: 'x' } }],
        }),
      },
    );
    expect(found.clusters).toEqual([
      {
        name: 'prod',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::111111111111:role/eks-datadog-auditor-reader',
      },
      {
        name: 'edge',
        region: 'us-east-1',
        roleArn: 'arn:aws:iam::222222222222:role/eks-datadog-auditor-reader',
      },
    ]);
    expect(found.failures).toEqual([
      expect.objectContaining({
        account: '222222222222',
        region: 'eu-west-1',
        message: expect.stringMatching(/^AccessDenied: /),
      }),
    ]);
    const report = discoveryReport(found.failures, '2026-12-02T02:00:00.000Z');
    expect(report.status).toBe('ERROR');
    expect(report.findings[0]!.message).toMatch(
      /Clusters in account 222222222222, region eu-west-1 could not be discovered/,
    );
  });

  it('lists the accounts of the organization units, with the organization role name', async () => {
    const orgs = new OrganizationsClient({});
    mockClient(orgs)
      .on(ListAccountsForParentCommand, { ParentId: 'ou-ab12-abcdefgh' })
      .resolves({
        Accounts: [
          { Id: '333333333333', Status: 'ACTIVE' },
          { Id: '444444444444', Status: 'SUSPENDED' },
        ],
      });
    const found = await discoverClusters(
      config({
        regions: ['eu-west-1'],
        organization: { roleName: 'reader', ouIds: ['ou-ab12-abcdefgh'] },
      }),
      {
        organizations: () => orgs,
        eks: eksPerAccount({ '333333333333/eu-west-1': [{ name: 'a', tags: {} }] }),
      },
    );
    expect(found).toEqual({
      clusters: [
        { name: 'a', region: 'eu-west-1', roleArn: 'arn:aws:iam::333333333333:role/reader' },
      ],
      failures: [],
    });
  });

  it('lets explicit cluster entries override discovered defaults', () => {
    expect(
      mergeClusters(
        [{ name: 'a', region: 'eu-west-1', clusterAgent: { port: 5006 } }],
        [
          { name: 'a', region: 'eu-west-1', roleArn: 'arn:aws:iam::333333333333:role/reader' },
          { name: 'b', region: 'eu-west-1' },
        ],
      ),
    ).toEqual([
      {
        name: 'a',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::333333333333:role/reader',
        clusterAgent: { port: 5006 },
      },
      { name: 'b', region: 'eu-west-1' },
    ]);
  });

  it('refuses discover with both accounts and organization', () => {
    expect(() =>
      config({ regions: ['eu-west-1'], accounts: ['111111111111'], organization: {} }),
    ).toThrow(/set exactly one of accounts/);
  });
});

describe('loadConfig', () => {
  const json = JSON.stringify({ clusters: [{ name: 'prod' }], region: 'eu-west-1' });
  const withParameter = (value: string) => {
    const ssm = new SSMClient({ region: 'eu-west-1' });
    mockClient(ssm)
      .on(GetParameterCommand, { Name: '/auditor/config' })
      .resolves({
        Parameter: { Value: value },
      });
    return { ssm: () => ssm, s3: () => undefined as never };
  };
  const env = {
    AUDITOR_CONFIG_PARAMETER: '/auditor/config',
    AUDITOR_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:t',
    AUDITOR_ARCHIVE_BUCKET: 'b-archive',
  };

  it.each([
    ['plain JSON', json],
    ['gzip + base64', `gzip:${gzipSync(json).toString('base64')}`],
  ])(
    'reads the SSM parameter (%s) with the topic and bucket from the environment',
    async (_n, value) => {
      const config = await loadConfig(withParameter(value), env);
      expect(config.clusters.map((c) => c.name)).toEqual(['prod']);
      expect(config.topicArn).toBe(env.AUDITOR_TOPIC_ARN);
      expect(config.archiveBucket).toBe('b-archive');
    },
  );

  it('validates the parameter with the same schema, naming the parameter', async () => {
    await expect(loadConfig(withParameter('{"clusters":[{"name":"-bad"}]}'), env)).rejects.toThrow(
      /Invalid auditor configuration in SSM parameter \/auditor\/config:\n {2}- clusters\.0\.name/,
    );
  });

  it('still reads AUDITOR_CONFIG when no parameter is named', async () => {
    const config = await loadConfig(withParameter(''), { AUDITOR_CONFIG: json });
    expect(config.region).toBe('eu-west-1');
  });
});
