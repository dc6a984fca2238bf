/**
 * The fixture's AWS answers (lambda/run/demo/aws-fixture.ts decides them) served through
 * aws-sdk-client-mock, for tests and the benchmark: every client of a class answers, including the
 * STS client `fromTemporaryCredentials` builds internally, and tests can assert on the calls.
 */
import { createRequire } from 'node:module';
import {
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeFargateProfileCommand,
  EKSClient,
  ListAccessEntriesCommand,
  ListFargateProfilesCommand,
} from '@aws-sdk/client-eks';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { awsFixtureResponder, type AwsFixture } from '../../lambda/run/demo/aws-fixture.js';

export {
  loadAwsFixture,
  sdkError,
  type AwsFixture,
  type FaultSpec,
  type SecretFixture,
} from '../../lambda/run/demo/aws-fixture.js';

export interface AwsFixtureMocks {
  eks: AwsClientStub<EKSClient>;
  ec2: AwsClientStub<EC2Client>;
  secretsManager: AwsClientStub<SecretsManagerClient>;
  sts: AwsClientStub<STSClient>;
  /** The STS client that `fromTemporaryCredentials` uses internally (AssumeRole). */
  nestedSts: AwsClientStub<STSClient>;
  /** Operations answered so far, across every mocked client. */
  callCount(): number;
  restore(): void;
}

// fromTemporaryCredentials loads its STS client from @aws-sdk/nested-clients with require();
// mocking must hit that very class, so load it the same way.
const requireCjs = createRequire(import.meta.url);
const nested = requireCjs('@aws-sdk/nested-clients/sts') as {
  STSClient: typeof STSClient;
  AssumeRoleCommand: typeof AssumeRoleCommand;
};
/** The AssumeRoleCommand class `fromTemporaryCredentials` sends, for matchers on `nestedSts`. */
export const NestedAssumeRoleCommand = nested.AssumeRoleCommand;

/** Every client class answers from the fixture; `counter` counts answered operations too. */
export function mockAwsFromFixture(
  fixture: AwsFixture,
  opts: { counter?: { count: number } } = {},
): AwsFixtureMocks {
  let answered = 0;
  const answer = awsFixtureResponder(fixture, {
    onCall: () => {
      answered += 1;
      if (opts.counter) opts.counter.count += 1;
    },
  });
  // aws-sdk-client-mock calls a fake with (input, getClient); the responder takes the input only.
  const fake = (op: string) => (input: object) => answer[op]!(input);

  const eks = mockClient(EKSClient);
  const ec2 = mockClient(EC2Client);
  const secretsManager = mockClient(SecretsManagerClient);
  const sts = mockClient(STSClient);
  const nestedSts = mockClient(nested.STSClient);
  eks
    .on(DescribeClusterCommand)
    .callsFake(fake('DescribeCluster'))
    .on(ListFargateProfilesCommand)
    .callsFake(fake('ListFargateProfiles'))
    .on(DescribeFargateProfileCommand)
    .callsFake(fake('DescribeFargateProfile'))
    .on(ListAccessEntriesCommand)
    .callsFake(fake('ListAccessEntries'))
    .on(DescribeAccessEntryCommand)
    .callsFake(fake('DescribeAccessEntry'));
  ec2
    .on(DescribeSecurityGroupsCommand)
    .callsFake(fake('DescribeSecurityGroups'))
    .on(DescribeSubnetsCommand)
    .callsFake(fake('DescribeSubnets'))
    .on(DescribeRouteTablesCommand)
    .callsFake(fake('DescribeRouteTables'))
    .on(DescribeInstancesCommand)
    .callsFake(fake('DescribeInstances'));
  secretsManager
    .on(GetSecretValueCommand)
    .callsFake(fake('GetSecretValue'))
    .on(DescribeSecretCommand)
    .callsFake(fake('DescribeSecret'));
  sts
    .on(GetCallerIdentityCommand)
    .callsFake(fake('GetCallerIdentity'))
    .on(AssumeRoleCommand)
    .callsFake(fake('AssumeRole'));
  nestedSts.on(nested.AssumeRoleCommand).callsFake(fake('AssumeRole'));

  return {
    eks,
    ec2,
    secretsManager,
    sts,
    nestedSts,
    callCount: () => answered,
    restore() {
      for (const stub of [eks, ec2, secretsManager, sts, nestedSts]) stub.restore();
    },
  };
}
