import { awsErrorCode, awsFailure } from '../../lambda/collect/aws/errors.js';
import { awsRemediation } from '../../lambda/checks/aws-remediation.js';
import { runChecks } from '../../lambda/checks/runner.js';
import { sdkError } from '../support/aws-fixture.js';
import { snapshotFromManifests } from '../support/snapshot-builder.js';

const place = { cluster: 'golang-cluster', region: 'eu-west-1' };

describe('awsRemediation says what is missing for each class of AWS error', () => {
  it.each([
    {
      name: 'a missing secret names the secret id, the region and the config field',
      error: sdkError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      ),
      kind: 'secretsmanager:GetSecretValue',
      object: 'datadog/cluster-agent-token',
      says: ['datadog/cluster-agent-token', 'eu-west-1', 'tokenSecret.id', 'golang-cluster'],
    },
    {
      name: 'a missing cluster names the cluster, the region and the config fields',
      error: sdkError('ResourceNotFoundException', 'No cluster found for name: golang-cluster.'),
      kind: 'eks:DescribeCluster',
      object: 'golang-cluster',
      says: ['cluster golang-cluster', 'eu-west-1', 'clusters[].name', 'clusters[].region'],
    },
    {
      name: 'a denial names the IAM permission, the resource and the region',
      error: sdkError(
        'AccessDeniedException',
        'User is not authorized to perform: eks:DescribeCluster',
        403,
      ),
      kind: 'eks:DescribeCluster',
      object: 'golang-cluster',
      says: ['IAM permission eks:DescribeCluster on golang-cluster', 'eu-west-1', 'roleArn'],
    },
    {
      name: 'an EC2 denial (UnauthorizedOperation) names the EC2 permission',
      error: sdkError(
        'UnauthorizedOperation',
        'You are not authorized to perform this operation.',
        403,
      ),
      kind: 'ec2:DescribeSecurityGroups',
      object: undefined,
      says: ['IAM permission ec2:DescribeSecurityGroups', 'eu-west-1'],
    },
    {
      name: 'throttling names the API, the region and what to lower',
      error: sdkError('ThrottlingException', 'Rate exceeded'),
      kind: 'eks:DescribeFargateProfile',
      object: 'fp-golang',
      says: ['throttled eks:DescribeFargateProfile in eu-west-1', 'clusterConcurrency', 'quota'],
    },
    {
      name: 'a KMS failure names kms:Decrypt, the secret and both policies',
      error: sdkError(
        'DecryptionFailure',
        'Secrets Manager can not decrypt the protected secret text using the provided KMS key.',
      ),
      kind: 'secretsmanager:GetSecretValue',
      object: 'datadog/cluster-agent-token',
      says: ['kms:Decrypt', 'secret datadog/cluster-agent-token', 'key policy', 'eu-west-1'],
    },
    {
      name: 'a KMS KMSInvalidStateException is a KMS failure too',
      error: sdkError('KMSInvalidStateException', 'key is disabled'),
      kind: 'secretsmanager:GetSecretValue',
      object: 'datadog/cluster-agent-token',
      says: ['kms:Decrypt', 'enabled'],
    },
  ])('$name', ({ error, kind, object, says }) => {
    const failure = awsFailure(error, {
      kind,
      ...(object ? { name: object } : {}),
      what: 'Reading',
    });
    const text = awsRemediation(failure, place);
    for (const s of says) expect(text).toContain(s);
    expect(text).not.toMatch(/transient|unexpected/i);
  });

  it('classifies the SDK error names into the codes the remediations use', () => {
    expect(
      [
        'ResourceNotFoundException',
        'AccessDeniedException',
        'ThrottlingException',
        'DecryptionFailure',
      ].map((n) => awsErrorCode(sdkError(n, 'x'))),
    ).toEqual(['NotFound', 'AccessDenied', 'Throttled', 'DecryptionFailure']);
  });
});

describe('collection failure findings', () => {
  it.each([
    {
      name: 'an AWS NotFound for the cluster says which cluster and region to check',
      aws: {
        status: 'error',
        error: {
          source: 'aws',
          kind: 'eks:DescribeCluster',
          name: 'golang-cluster',
          code: 'NotFound',
          message: 'x',
        },
      },
      says: 'EKS has no cluster golang-cluster in eu-west-1',
    },
    {
      name: 'an AWS throttle says which API was throttled',
      aws: {
        status: 'error',
        error: { source: 'aws', kind: 'eks:DescribeCluster', code: 'Throttled', message: 'x' },
      },
      says: 'throttled eks:DescribeCluster in eu-west-1',
    },
  ])('$name', ({ aws, says }) => {
    const snapshot = snapshotFromManifests([], {
      cluster: 'golang-cluster',
      aws: { cluster: aws as never },
    });
    const [f] = runChecks(snapshot, []);
    expect(f!.remediation).toContain(says);
    expect(f!.remediation).not.toMatch(/transient or unexpected/i);
  });

  it('an unreachable API server names the cluster and the network path to fix', () => {
    const snapshot = snapshotFromManifests([], {
      cluster: 'golang-cluster',
      kube: {
        pods: {
          status: 'error',
          error: { source: 'kubernetes', kind: 'pods', code: 'Network', message: 'ECONNREFUSED' },
        },
      },
    });
    const [f] = runChecks(snapshot, []);
    expect(f!.remediation).toContain('The API server of cluster golang-cluster did not answer');
    expect(f!.remediation).toContain('publicAccessCidrs');
  });
});
