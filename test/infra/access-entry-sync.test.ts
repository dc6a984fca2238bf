import { createRequire } from 'node:module';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

// The sync is inline Lambda code (CommonJS, infra/member/access-entry-sync.cjs); it and the EKS
// client it requires are loaded through Node's require so the mock patches that same client.
const require = createRequire(import.meta.url);
const eks = require('@aws-sdk/client-eks') as typeof import('@aws-sdk/client-eks');
const { sync } = require('../../infra/member/access-entry-sync.cjs') as {
  sync: (
    clientFor: (region: string) => InstanceType<typeof eks.EKSClient>,
    opts: { principalArn: string; group: string; tags: Record<string, string>; regions: string[] },
  ) => Promise<Record<'created' | 'present' | 'skipped' | 'failed', string[]>>;
};

const READER = 'arn:aws:iam::210987654321:role/eks-datadog-auditor-reader';
const OPTS = { principalArn: READER, group: 'eks-datadog-auditor', tags: { audit: 'datadog' } };
const mock = mockClient(eks.EKSClient);

function cluster(
  name: string,
  tags: Record<string, string>,
  mode: import('@aws-sdk/client-eks').AuthenticationMode = 'API_AND_CONFIG_MAP',
) {
  return { cluster: { name, tags, accessConfig: { authenticationMode: mode } } };
}

function error(name: string): Error {
  return Object.assign(new Error(`${name} from EKS`), { name });
}

describe('member access entry sync (clusters selected by tags)', () => {
  beforeEach(() => {
    mock.reset();
    mock
      .on(eks.ListClustersCommand)
      .resolves({ clusters: ['tagged', 'other'], nextToken: 'p2' })
      .on(eks.ListClustersCommand, { nextToken: 'p2' })
      .resolves({ clusters: ['present', 'configmap'] });
    mock
      .on(eks.DescribeClusterCommand, { name: 'tagged' })
      .resolves(cluster('tagged', { audit: 'datadog', team: 'a' }))
      .on(eks.DescribeClusterCommand, { name: 'other' })
      .resolves(cluster('other', { audit: 'none' }))
      .on(eks.DescribeClusterCommand, { name: 'present' })
      .resolves(cluster('present', { audit: 'datadog' }))
      .on(eks.DescribeClusterCommand, { name: 'configmap' })
      .resolves(cluster('configmap', { audit: 'datadog' }, 'CONFIG_MAP'));
    mock
      .on(eks.CreateAccessEntryCommand)
      .resolves({})
      .on(eks.CreateAccessEntryCommand, { clusterName: 'present' })
      .rejects(error('ResourceInUseException'));
  });

  it('creates the reader role entry in group eks-datadog-auditor on every page of matching clusters', async () => {
    const result = await sync(() => new eks.EKSClient({ region: 'eu-west-1' }), {
      ...OPTS,
      regions: ['eu-west-1'],
    });
    expect(result.created).toEqual(['eu-west-1/tagged']);
    expect(result.present).toEqual(['eu-west-1/present']);
    expect(result.skipped).toEqual([expect.stringMatching(/^eu-west-1\/configmap: .*aws-auth/)]);
    expect(mock).toHaveReceivedCommandWith(eks.CreateAccessEntryCommand, {
      clusterName: 'tagged',
      principalArn: READER,
      kubernetesGroups: ['eks-datadog-auditor'],
      type: 'STANDARD',
    });
    expect(mock).toHaveReceivedCommandTimes(eks.CreateAccessEntryCommand, 2);
  });

  it('covers every listed region with a client of that region', async () => {
    const regions: string[] = [];
    const result = await sync(
      (region) => {
        regions.push(region);
        return new eks.EKSClient({ region });
      },
      { ...OPTS, regions: ['eu-west-1', 'us-east-1'] },
    );
    expect(regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(result.created).toEqual(['eu-west-1/tagged', 'us-east-1/tagged']);
  });

  it('keeps going past a cluster it may not change, then fails naming it', async () => {
    mock
      .on(eks.CreateAccessEntryCommand, { clusterName: 'tagged' })
      .rejects(error('AccessDeniedException'));
    mock
      .on(eks.DescribeClusterCommand, { name: 'present' })
      .resolves(cluster('present', { audit: 'datadog' }));
    mock.on(eks.CreateAccessEntryCommand, { clusterName: 'present' }).resolves({});
    await expect(
      sync(() => new eks.EKSClient({ region: 'eu-west-1' }), { ...OPTS, regions: ['eu-west-1'] }),
    ).rejects.toThrow(/eu-west-1\/tagged: AccessDeniedException/);
    expect(mock).toHaveReceivedCommandWith(eks.CreateAccessEntryCommand, {
      clusterName: 'present',
    });
  });
});
