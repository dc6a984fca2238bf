import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { AwsSnapshot, SecurityGroup } from '../../../lambda/snapshot/snapshot.js';
import { sgClusterAgentPort } from '../../../lambda/checks/network/sg-cluster-agent-port.js';
import { awsFromSdk } from '../../support/aws-snapshot.js';
import {
  baseAws,
  CLUSTER_SG,
  clusterAgent,
  clusterGroup,
  daemonSetAgentPod,
  group,
  NODE_SG,
  node,
  outcomes,
  POD_SG,
  rule,
  runOn,
  securityGroupPolicy,
  serviceAccount,
  sidecarPod,
} from '../../net/manifests.js';
import { ok } from '../../support/snapshot-builder.js';

const CA_SG = 'sg-0ca0000000000000c';
const PROFILE = { 'eks.amazonaws.com/fargate-profile': 'fp-apps' };
const caOnFargate = clusterAgent({
  nodeName: 'fargate-ip-10-0-2-9',
  podIP: '10.0.2.9',
  labels: PROFILE,
});
const agentOnFargate = sidecarPod({
  name: 'app-1',
  nodeName: 'fargate-ip-10-0-33-7',
  podIP: '10.0.33.7',
  labels: PROFILE,
});
const agentWithPolicy = [
  agentOnFargate,
  securityGroupPolicy('golang', 'app-sg', {
    podSelector: { matchLabels: { app: 'golang-app' } },
    groupIds: [POD_SG],
  }),
];
const podGroup = (...rules: Parameters<typeof group>[1]) => group(POD_SG, rules, 'golang-app-pods');
const groups = (...list: SecurityGroup[]) => baseAws({ securityGroups: ok(list) });

describe('sg-cluster-agent-port', () => {
  it.each<{
    name: string;
    docs: Raw[];
    aws: Partial<AwsSnapshot>;
    expected: string[];
    fix?: string;
    text?: string;
  }>([
    {
      name: 'agents and Cluster Agent on Fargate with the default cluster security group pass by self reference',
      docs: [...caOnFargate, agentOnFargate],
      aws: baseAws(),
      expected: ['PASS:port-open'],
      text: 'all traffic from sg-0c1a5e7e2d3f4a5b6 (self)',
    },
    {
      name: 'an agent whose policy drops the cluster group is not admitted by the Cluster Agent side',
      docs: [...caOnFargate, ...agentWithPolicy],
      aws: groups(clusterGroup(), podGroup(rule.allEgress())),
      expected: ['FAIL:ingress-denied'],
      fix: `aws ec2 authorize-security-group-ingress --group-id ${CLUSTER_SG} --protocol tcp --port 5005 --source-group ${POD_SG} --region eu-west-1`,
    },
    {
      name: 'a rule for TCP 5005 from the policy group admits the agent',
      docs: [...caOnFargate, ...agentWithPolicy],
      aws: groups(clusterGroup(rule.tcpFrom(5005, POD_SG)), podGroup(rule.allEgress())),
      expected: ['PASS:port-open'],
    },
    {
      name: 'a port range covering 5005 admits the agent',
      docs: [...caOnFargate, ...agentWithPolicy],
      aws: groups(
        clusterGroup({
          direction: 'ingress',
          protocol: 'tcp',
          fromPort: 5000,
          toPort: 5010,
          referencedGroupId: POD_SG,
        }),
        podGroup(rule.allEgress()),
      ),
      expected: ['PASS:port-open'],
    },
    {
      name: 'a CIDR covering the agent pod IP admits it',
      docs: [...caOnFargate, ...agentWithPolicy],
      aws: groups(clusterGroup(rule.tcpFrom(5005, '10.0.32.0/19')), podGroup(rule.allEgress())),
      expected: ['PASS:port-open'],
    },
    {
      name: 'a CIDR that misses the agent pod IP does not',
      docs: [...caOnFargate, ...agentWithPolicy],
      aws: groups(clusterGroup(rule.tcpFrom(5005, '10.0.0.0/19')), podGroup(rule.allEgress())),
      expected: ['FAIL:ingress-denied'],
    },
    {
      name: 'a prefix list cannot be evaluated and is reported as info',
      docs: [...caOnFargate, ...agentWithPolicy],
      aws: groups(clusterGroup(rule.tcpFrom(5005, 'pl-0abc')), podGroup(rule.allEgress())),
      expected: ['ERROR:cannot-evaluate'],
      text: 'prefix list pl-0abc',
    },
    {
      name: 'an agent group without egress to the Cluster Agent fails on egress with the exact command',
      docs: [...caOnFargate, ...agentWithPolicy],
      aws: groups(
        clusterGroup(rule.tcpFrom(5005, POD_SG)),
        podGroup(rule.egressTo('tcp', 443, '0.0.0.0/0')),
      ),
      expected: ['FAIL:egress-denied'],
      fix: `aws ec2 authorize-security-group-egress --group-id ${POD_SG} --ip-permissions 'IpProtocol=tcp,FromPort=5005,ToPort=5005,UserIdGroupPairs=[{GroupId=${CLUSTER_SG}}]' --region eu-west-1`,
    },
    {
      name: 'a Cluster Agent selected by a serviceAccountSelector policy gets its own group, which must admit the agents',
      docs: [
        ...caOnFargate,
        agentOnFargate,
        serviceAccount('datadog', 'datadog-agent-cluster-agent', { 'sg-policy': 'cluster-agent' }),
        securityGroupPolicy('datadog', 'cluster-agent', {
          serviceAccountSelector: { matchLabels: { 'sg-policy': 'cluster-agent' } },
          groupIds: [CA_SG, CLUSTER_SG],
        }),
      ],
      aws: groups(clusterGroup(), group(CA_SG, [rule.allEgress()])),
      expected: ['PASS:port-open'],
      text: 'sg-0c1a5e7e2d3f4a5b6 allows all traffic from sg-0c1a5e7e2d3f4a5b6 (self)',
    },
    {
      name: 'a Cluster Agent policy without the cluster group must admit the cluster group on 5005',
      docs: [
        ...caOnFargate,
        agentOnFargate,
        securityGroupPolicy('datadog', 'cluster-agent', {
          podSelector: { matchLabels: { app: 'datadog-agent-cluster-agent' } },
          groupIds: [CA_SG],
        }),
      ],
      aws: groups(clusterGroup(), group(CA_SG, [rule.allEgress()])),
      expected: ['FAIL:ingress-denied'],
      fix: `--group-id ${CA_SG} --protocol tcp --port 5005 --source-group ${CLUSTER_SG}`,
    },
    {
      name: 'EC2 node agents and the Cluster Agent on another node pass by the node group self reference',
      docs: [
        ...clusterAgent({ nodeName: 'ip-10-0-1-5', podIP: '10.0.1.31' }),
        daemonSetAgentPod('datadog-agent-b', 'ip-10-0-1-6', '10.0.1.40'),
        node('ip-10-0-1-5', { instanceId: 'i-0000000000000000a', nodegroup: 'ng' }),
        node('ip-10-0-1-6', { instanceId: 'i-0000000000000000b', nodegroup: 'ng' }),
      ],
      aws: baseAws({
        securityGroups: ok([group(NODE_SG, [rule.selfAll(NODE_SG), rule.allEgress()])]),
        instances: ok([
          { instanceId: 'i-0000000000000000a', securityGroupIds: [NODE_SG] },
          { instanceId: 'i-0000000000000000b', securityGroupIds: [NODE_SG] },
        ]),
      }),
      expected: ['PASS:port-open'],
    },
    {
      name: 'a node agent on the Cluster Agent node never crosses a security group',
      docs: [
        ...clusterAgent({ nodeName: 'ip-10-0-1-5', podIP: '10.0.1.31' }),
        daemonSetAgentPod('datadog-agent-a', 'ip-10-0-1-5', '10.0.1.40'),
        node('ip-10-0-1-5', { instanceId: 'i-0000000000000000a' }),
      ],
      aws: baseAws({
        securityGroups: ok([group(NODE_SG, [])]),
        instances: ok([{ instanceId: 'i-0000000000000000a', securityGroupIds: [NODE_SG] }]),
      }),
      expected: ['PASS:port-open'],
      text: 'same node',
    },
    {
      name: 'an agent on an EC2 node whose instance is unknown cannot be evaluated',
      docs: [
        ...clusterAgent({ nodeName: 'ip-10-0-1-5', podIP: '10.0.1.31' }),
        daemonSetAgentPod('datadog-agent-b', 'ip-10-0-1-6', '10.0.1.40'),
        node('ip-10-0-1-5', { instanceId: 'i-0000000000000000a' }),
        node('ip-10-0-1-6', { instanceId: 'i-0000000000000000b' }),
      ],
      aws: baseAws({
        securityGroups: ok([group(NODE_SG, [rule.selfAll(NODE_SG), rule.allEgress()])]),
        instances: ok([{ instanceId: 'i-0000000000000000a', securityGroupIds: [NODE_SG] }]),
      }),
      expected: ['ERROR:cannot-evaluate'],
      text: 'i-0000000000000000b',
    },
    {
      name: 'cross-compute pairs with default groups are left to mixed-cluster-node-sg',
      docs: [
        ...clusterAgent({ nodeName: 'ip-10-0-1-5', podIP: '10.0.1.31' }),
        node('ip-10-0-1-5', { instanceId: 'i-0000000000000000a', nodegroup: 'ng' }),
        agentOnFargate,
      ],
      aws: baseAws({
        securityGroups: ok([clusterGroup(), group(NODE_SG, [rule.allEgress()])]),
        instances: ok([{ instanceId: 'i-0000000000000000a', securityGroupIds: [NODE_SG] }]),
      }),
      expected: [],
    },
    {
      name: 'no Cluster Agent, nothing to evaluate',
      docs: [agentOnFargate],
      aws: baseAws(),
      expected: [],
    },
  ])('$name', ({ docs, aws, expected, fix, text }) => {
    const results = runOn(sgClusterAgentPort, docs, aws);
    expect(outcomes(results)).toEqual(expected);
    if (fix) expect(results[0]!.remediation).toContain(fix);
    if (text) expect(results[0]!.message).toContain(text);
  });

  it('evaluates the pod port behind the Service: a targetPort of 5105 needs 5105 open', () => {
    const [ca, svc] = caOnFargate as [Raw, Raw];
    const service = {
      ...svc,
      spec: {
        ...svc.spec,
        ports: [{ name: 'agentport', port: 5005, targetPort: 5105, protocol: 'TCP' }],
      },
    };
    const docs = [ca, service, ...agentWithPolicy];
    expect(
      outcomes(
        runOn(
          sgClusterAgentPort,
          docs,
          groups(clusterGroup(rule.tcpFrom(5005, POD_SG)), podGroup(rule.allEgress())),
        ),
      ),
    ).toEqual(['FAIL:ingress-denied']);
    expect(
      outcomes(
        runOn(
          sgClusterAgentPort,
          docs,
          groups(clusterGroup(rule.tcpFrom(5105, POD_SG)), podGroup(rule.allEgress())),
        ),
      ),
    ).toEqual(['PASS:port-open']);
  });

  it('uses the configured Cluster Agent port', () => {
    const results = runOn(
      sgClusterAgentPort,
      [...caOnFargate, ...agentWithPolicy],
      groups(clusterGroup(rule.tcpFrom(5005, POD_SG)), podGroup(rule.allEgress())),
      { settings: { clusterAgent: { port: 5443 } } },
    );
    expect(outcomes(results)).toEqual(['FAIL:ingress-denied']);
    expect(results[0]!.remediation).toContain('--port 5443');
  });

  it('admits an IPv6 agent through a ::/0 rule but not through 0.0.0.0/0', () => {
    const v6Agent = sidecarPod({
      name: 'app-1',
      nodeName: 'fargate-ip-x',
      podIP: '2600:1f18:abcd:ff12::9',
      labels: PROFILE,
    });
    const policy = agentWithPolicy[1]!;
    const run = (cidr: string) =>
      outcomes(
        runOn(
          sgClusterAgentPort,
          [...caOnFargate, v6Agent, policy],
          groups(
            clusterGroup(rule.tcpFrom(5005, cidr)),
            podGroup(rule.allEgress(), { direction: 'egress', protocol: '-1', cidrIpv6: '::/0' }),
          ),
        ),
      );
    expect(run('::/0')).toEqual(['PASS:port-open']);
    expect(run('0.0.0.0/0')).toEqual(['FAIL:ingress-denied']);
  });

  it('reads DescribeSecurityGroups responses as the SDK returns them', () => {
    const sdk = awsFromSdk({
      DescribeSecurityGroups: {
        SecurityGroups: [
          {
            GroupId: CLUSTER_SG,
            GroupName: 'eks-cluster-sg-test',
            VpcId: 'vpc-0test',
            IpPermissions: [
              {
                IpProtocol: '-1',
                UserIdGroupPairs: [{ GroupId: CLUSTER_SG, UserId: '123456789012' }],
              },
              {
                IpProtocol: '6',
                FromPort: 5000,
                ToPort: 5010,
                UserIdGroupPairs: [{ GroupId: POD_SG }],
              },
            ],
            IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
          },
          {
            GroupId: POD_SG,
            GroupName: 'golang-app-pods',
            VpcId: 'vpc-0test',
            IpPermissions: [],
            IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
          },
        ],
      },
    });
    const results = runOn(sgClusterAgentPort, [...caOnFargate, ...agentWithPolicy], baseAws(sdk));
    expect(outcomes(results)).toEqual(['PASS:port-open']);
    expect(results[0]!.message).toContain('tcp 5000-5010 from sg-0b0d000000000000a');
  });
});
