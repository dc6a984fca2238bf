import { CHECKS } from '../../../lambda/checks/index.js';
import { runChecks } from '../../../lambda/checks/runner.js';
import { fixtureAws } from '../../support/aws-snapshot.js';
import { fixtureSnapshot } from '../../support/snapshot-builder.js';

const FARGATE_AND_NETWORK = CHECKS.filter((c) => c.area === 'fargate' || c.area === 'network');

function findings(name: string) {
  return runChecks(fixtureSnapshot(name, { aws: fixtureAws(name) }), FARGATE_AND_NETWORK);
}

describe('Fargate and network checks on the fixture clusters', () => {
  it('registers all nine Fargate and network checks', () => {
    expect(FARGATE_AND_NETWORK.map((c) => c.id).sort()).toEqual([
      'endpoint-reachable-from-fargate',
      'fargate-execution-role-mapped',
      'fargate-profile-coverage',
      'fargate-profile-health',
      'fargate-subnets-private',
      'mixed-cluster-node-sg',
      'sg-admission-webhook-path',
      'sg-cluster-agent-port',
      'sg-control-plane-path',
    ]);
  });

  it.each(['healthy', 'field-report'])(
    'finds nothing wrong with the network and Fargate setup of %s, and says what it checked',
    (name) => {
      const all = findings(name);
      expect(all.filter((f) => f.status !== 'PASS')).toEqual([]);
      const checked = new Set(all.map((f) => f.checkId));
      for (const id of [
        'fargate-profile-health',
        'fargate-profile-coverage',
        'fargate-subnets-private',
        'fargate-execution-role-mapped',
        'sg-cluster-agent-port',
        'endpoint-reachable-from-fargate',
      ]) {
        expect(checked).toContain(id);
      }
    },
  );

  it('reports exactly the missing 5005 rule when the Cluster Agent runs on an EC2 node group (mixed-ec2-fargate)', () => {
    const all = findings('mixed-ec2-fargate');
    const notPassed = all.filter((f) => f.status !== 'PASS');
    expect(notPassed).toHaveLength(1);
    expect(notPassed[0]).toMatchObject({
      checkId: 'mixed-cluster-node-sg',
      status: 'FAIL',
      severity: 'high',
      resource: { kind: 'NodeGroup', name: 'ng-system' },
      messageId: 'ca-on-ec2-ingress-denied',
    });
    expect(notPassed[0]!.message).toContain(
      'sg-0e9a8b7c6d5e4f301 (eks-ng-system-lt-mixed-ec2-fargate) does not admit TCP 5005 from security group sg-0c1a5e7e2d3f4a5b6',
    );
    expect(notPassed[0]!.remediation).toContain(
      'aws ec2 authorize-security-group-ingress --group-id sg-0e9a8b7c6d5e4f301 --protocol tcp --port 5005 --source-group sg-0c1a5e7e2d3f4a5b6 --region eu-west-1',
    );
    // The EC2 node agents beside the Cluster Agent are evaluated by sg-cluster-agent-port and pass.
    expect(
      all
        .filter((f) => f.checkId === 'sg-cluster-agent-port')
        .map((f) => `${f.status}:${f.resource.name}`),
    ).toEqual(['PASS:datadog-agent']);
  });

  it('keeps finding ids stable across runs', () => {
    expect(findings('mixed-ec2-fargate').map((f) => f.id)).toEqual(
      findings('mixed-ec2-fargate').map((f) => f.id),
    );
  });
});
