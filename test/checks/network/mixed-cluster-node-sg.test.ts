import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { AwsSnapshot, SgRule } from '../../../lambda/snapshot/snapshot.js';
import { mixedClusterNodeSg } from '../../../lambda/checks/network/mixed-cluster-node-sg.js';
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
  rule,
  runOn,
  sidecarPod,
} from '../../net/manifests.js';
import { ok } from '../../support/snapshot-builder.js';

const PROFILE = { 'eks.amazonaws.com/fargate-profile': 'fp-apps' };
const I_A = 'i-0aaaaaaaaaaaaaaa1';
const caOnEc2 = [
  ...clusterAgent({ nodeName: 'ip-10-0-1-5', podIP: '10.0.1.31' }),
  node('ip-10-0-1-5', { instanceId: I_A, nodegroup: 'ng-system' }),
];
const caOnFargate = clusterAgent({
  nodeName: 'fargate-ip-10-0-2-9',
  podIP: '10.0.2.9',
  labels: PROFILE,
});
const fargateAgent = sidecarPod({
  name: 'app-1',
  nodeName: 'fargate-ip-10-0-33-7',
  podIP: '10.0.33.7',
  labels: PROFILE,
});
const ec2Agents = [
  daemonSetAgentPod('datadog-agent-a', 'ip-10-0-1-5', '10.0.1.40'),
  node('ip-10-0-1-5', { instanceId: I_A, nodegroup: 'ng-system' }),
];

function aws(
  nodeRules: SgRule[],
  opts: { clusterRules?: SgRule[]; instanceGroups?: string[] } = {},
): Partial<AwsSnapshot> {
  return baseAws({
    securityGroups: ok([
      opts.clusterRules
        ? group(CLUSTER_SG, opts.clusterRules, 'eks-cluster-sg-test')
        : clusterGroup(),
      group(NODE_SG, nodeRules, 'ng-system-lt'),
    ]),
    instances: ok([
      {
        instanceId: I_A,
        subnetId: 'subnet-0a0000000000000a1',
        securityGroupIds: opts.instanceGroups ?? [NODE_SG],
      },
    ]),
  });
}

describe('mixed-cluster-node-sg', () => {
  it.each<{
    name: string;
    docs: Raw[];
    aws: Partial<AwsSnapshot>;
    expected: string[];
    resource?: object;
    fix?: string;
  }>([
    {
      name: 'a Cluster Agent on a node group whose security group lacks 5005 from the cluster group fails, naming both',
      docs: [...caOnEc2, fargateAgent],
      aws: aws([rule.selfAll(NODE_SG), rule.tcpFrom(10250, CLUSTER_SG), rule.allEgress()]),
      expected: ['FAIL:ca-on-ec2-ingress-denied'],
      resource: { kind: 'NodeGroup', name: 'ng-system' },
      fix: `aws ec2 authorize-security-group-ingress --group-id ${NODE_SG} --protocol tcp --port 5005 --source-group ${CLUSTER_SG} --region eu-west-1`,
    },
    {
      name: 'a node group rule for 5005 from the cluster group passes',
      docs: [...caOnEc2, fargateAgent],
      aws: aws([rule.tcpFrom(5005, CLUSTER_SG), rule.allEgress()]),
      expected: ['PASS:ca-on-ec2-admitted'],
    },
    {
      name: 'a managed node group that carries the cluster group passes by its self reference',
      docs: [...caOnEc2, fargateAgent],
      aws: aws([rule.allEgress()], { instanceGroups: [CLUSTER_SG, NODE_SG] }),
      expected: ['PASS:ca-on-ec2-admitted'],
    },
    {
      name: 'Fargate agents whose cluster group has no egress to the node group fail on egress',
      docs: [...caOnEc2, fargateAgent],
      aws: aws([rule.tcpFrom(5005, CLUSTER_SG), rule.allEgress()], {
        clusterRules: [rule.selfAll(CLUSTER_SG)],
      }),
      expected: ['FAIL:ca-on-ec2-egress-denied'],
      fix: `aws ec2 authorize-security-group-egress --group-id ${CLUSTER_SG} --ip-permissions 'IpProtocol=tcp,FromPort=5005,ToPort=5005,UserIdGroupPairs=[{GroupId=${NODE_SG}}]'`,
    },
    {
      name: 'a Cluster Agent on Fargate needs the cluster group to admit the node agents',
      docs: [...caOnFargate, ...ec2Agents],
      aws: aws([rule.allEgress()]),
      expected: ['FAIL:ca-on-fargate-ingress-denied'],
      fix: `--group-id ${CLUSTER_SG} --protocol tcp --port 5005 --source-group ${NODE_SG}`,
    },
    {
      name: 'a cluster group rule admitting the node group on 5005 passes',
      docs: [...caOnFargate, ...ec2Agents],
      aws: aws([rule.allEgress()], {
        clusterRules: [rule.selfAll(CLUSTER_SG), rule.tcpFrom(5005, NODE_SG), rule.allEgress()],
      }),
      expected: ['PASS:ca-on-fargate-admitted'],
    },
    {
      name: 'a self-managed node without a node group label is named by node',
      docs: [
        ...clusterAgent({ nodeName: 'ip-10-0-1-5', podIP: '10.0.1.31' }),
        node('ip-10-0-1-5', { instanceId: I_A }),
        fargateAgent,
      ],
      aws: aws([rule.allEgress()]),
      expected: ['FAIL:ca-on-ec2-ingress-denied'],
      resource: { kind: 'Node', name: 'ip-10-0-1-5' },
    },
    {
      name: 'a prefix list rule on the node group cannot be evaluated',
      docs: [...caOnEc2, fargateAgent],
      aws: aws([rule.tcpFrom(5005, 'pl-0abc'), rule.allEgress()]),
      expected: ['ERROR:ca-on-ec2-cannot-evaluate'],
    },
    {
      name: 'a cluster entirely on Fargate has nothing to evaluate',
      docs: [...caOnFargate, fargateAgent],
      aws: baseAws(),
      expected: [],
    },
  ])('$name', ({ docs, aws: a, expected, resource, fix }) => {
    const results = runOn(mixedClusterNodeSg, docs, a);
    expect(outcomes(results)).toEqual(expected);
    if (resource) expect(results[0]!.resource).toEqual(resource);
    if (fix) expect(results[0]!.remediation).toContain(fix);
  });

  it('reports one result per node group however many Fargate agents are affected', () => {
    const docs = [
      ...caOnEc2,
      fargateAgent,
      sidecarPod({
        name: 'app-2',
        nodeName: 'fargate-ip-10-0-33-8',
        podIP: '10.0.33.8',
        labels: PROFILE,
      }),
    ];
    const results = runOn(mixedClusterNodeSg, docs, aws([rule.allEgress()]));
    expect(results).toHaveLength(1);
    expect(results[0]!.message).toContain('Pod golang/app-1, Pod golang/app-2');
  });
});
