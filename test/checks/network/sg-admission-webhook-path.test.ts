import { join } from 'node:path';
import { sgAdmissionWebhookPath } from '../../../lambda/checks/network/sg-admission-webhook-path.js';
import { awsFromSdk } from '../../support/aws-snapshot.js';
import { loadAwsFixture, type AwsFixture } from '../../support/aws-fixture.js';
import { FIXTURES_DIR, fixtureSnapshot } from '../../support/snapshot-builder.js';

const FIXTURE = 'injection-healthy';
const CLUSTER_SG = 'sg-0c1a5e7e2d3f4a5b6';

/** The injection-healthy cluster's AWS responses with the cluster security group's ingress replaced. */
function withClusterSgIngress(ingress: unknown[]): AwsFixture {
  const aws = structuredClone(loadAwsFixture(join(FIXTURES_DIR, FIXTURE)));
  for (const g of aws.DescribeSecurityGroups!.SecurityGroups) {
    if (g.GroupId === CLUSTER_SG) (g as { IpPermissions: unknown[] }).IpPermissions = ingress;
  }
  return aws;
}

const run = (aws: AwsFixture) =>
  sgAdmissionWebhookPath
    .run(fixtureSnapshot(FIXTURE, { aws: awsFromSdk(aws) }))
    .map((r) => `${r.status} ${r.messageId}`);

describe('sg-admission-webhook-path', () => {
  it.each([
    {
      name: 'the default self-referencing cluster security group admits the control plane on 8000',
      aws: () => loadAwsFixture(join(FIXTURES_DIR, FIXTURE)),
      expected: ['PASS ok'],
    },
    {
      name: 'a cluster security group narrowed to 443 and 5005 drops the webhook calls on 8000',
      aws: () =>
        withClusterSgIngress([
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            UserIdGroupPairs: [{ GroupId: CLUSTER_SG }],
          },
          {
            IpProtocol: 'tcp',
            FromPort: 5005,
            ToPort: 5005,
            UserIdGroupPairs: [{ GroupId: CLUSTER_SG }],
          },
        ]),
      expected: ['FAIL denied-ingress'],
    },
    {
      name: 'a rule for the admission port from the cluster security group is enough',
      aws: () =>
        withClusterSgIngress([
          {
            IpProtocol: 'tcp',
            FromPort: 8000,
            ToPort: 8000,
            UserIdGroupPairs: [{ GroupId: CLUSTER_SG }],
          },
        ]),
      expected: ['PASS ok'],
    },
  ])('$name', ({ aws, expected }) => {
    expect(run(aws())).toEqual(expected);
  });

  it('names the exact command that opens the admission port', () => {
    const [r] = sgAdmissionWebhookPath.run(
      fixtureSnapshot(FIXTURE, { aws: awsFromSdk(withClusterSgIngress([])) }),
    );
    expect(r!.remediation).toBe(
      `aws ec2 authorize-security-group-ingress --group-id ${CLUSTER_SG} --protocol tcp --port 8000 --source-group ${CLUSTER_SG} --region eu-west-1`,
    );
  });

  it('does not apply where sidecar injection is not enabled', () => {
    expect(
      sgAdmissionWebhookPath.run(
        fixtureSnapshot('healthy', {
          aws: awsFromSdk(loadAwsFixture(join(FIXTURES_DIR, 'healthy'))),
        }),
      ),
    ).toEqual([]);
  });
});
