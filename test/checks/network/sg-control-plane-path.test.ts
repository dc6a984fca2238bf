import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { AwsSnapshot, SgRule } from '../../../lambda/snapshot/snapshot.js';
import { sgControlPlanePath } from '../../../lambda/checks/network/sg-control-plane-path.js';
import {
  baseAws,
  cluster,
  CLUSTER_SG,
  clusterAgent,
  clusterGroup,
  group,
  outcomes,
  pod,
  POD_SG,
  rule,
  runOn,
  securityGroupPolicy,
  sidecarPod,
} from '../../net/manifests.js';
import { ok } from '../../support/snapshot-builder.js';

const PROFILE = { 'eks.amazonaws.com/fargate-profile': 'fp-apps' };
const EXTRA_CP_SG = 'sg-0cp00000000000001';
const coreDns = pod({
  namespace: 'kube-system',
  name: 'coredns-5d8f7c6b9-abcde',
  labels: { 'k8s-app': 'kube-dns', 'eks.amazonaws.com/fargate-profile': 'fp-kube-system' },
  nodeName: 'fargate-ip-10-0-5-5',
  podIP: '10.0.5.5',
  containers: [{ name: 'coredns', image: 'coredns:v1.11' }],
});
const base = [
  ...clusterAgent({ nodeName: 'fargate-ip-10-0-2-9', podIP: '10.0.2.9', labels: PROFILE }),
  sidecarPod({
    name: 'app-1',
    nodeName: 'fargate-ip-10-0-33-7',
    podIP: '10.0.33.7',
    labels: PROFILE,
  }),
  coreDns,
];
const policy = (groupIds: string[]) =>
  securityGroupPolicy('golang', 'app-sg', {
    podSelector: { matchLabels: { app: 'golang-app' } },
    groupIds,
  });
const udp53From = (from: string): SgRule => ({
  direction: 'ingress',
  protocol: 'udp',
  fromPort: 53,
  toPort: 53,
  referencedGroupId: from,
});

function aws(
  podRules: SgRule[],
  clusterExtra: SgRule[] = [],
  over: Partial<AwsSnapshot> = {},
): Partial<AwsSnapshot> {
  return baseAws({
    securityGroups: ok([clusterGroup(...clusterExtra), group(POD_SG, podRules, 'golang-app-pods')]),
    ...over,
  });
}

describe('sg-control-plane-path', () => {
  it.each<{
    name: string;
    docs: Raw[];
    aws: Partial<AwsSnapshot>;
    expected: string[];
    fix?: string;
    text?: string;
  }>([
    {
      name: 'a policy that keeps the cluster security group passes',
      docs: [...base, policy([POD_SG, CLUSTER_SG])],
      aws: aws([rule.allEgress()]),
      expected: ['PASS:paths-open'],
    },
    {
      name: 'a policy that drops the cluster group cuts the pods off the API server and CoreDNS',
      docs: [...base, policy([POD_SG])],
      aws: aws([rule.allEgress()]),
      expected: ['FAIL:control-plane-blocked', 'FAIL:dns-blocked'],
      fix: `spec.securityGroups.groupIds: [${POD_SG}, ${CLUSTER_SG}]`,
      text: `does not list the cluster security group ${CLUSTER_SG}`,
    },
    {
      name: 'cluster group rules admitting the policy group on 443 and 53 are equivalent',
      docs: [...base, policy([POD_SG])],
      aws: aws(
        [rule.allEgress()],
        [rule.tcpFrom(443, POD_SG), rule.tcpFrom(53, POD_SG), udp53From(POD_SG)],
      ),
      expected: ['PASS:paths-open'],
    },
    {
      name: 'a policy group whose egress allows only 443 loses DNS',
      docs: [...base, policy([POD_SG, CLUSTER_SG])],
      aws: baseAws({
        securityGroups: ok([
          group(CLUSTER_SG, [rule.selfAll(CLUSTER_SG)], 'eks-cluster-sg-test'),
          group(POD_SG, [rule.egressTo('tcp', 443, '0.0.0.0/0')], 'golang-app-pods'),
        ]),
      }),
      expected: ['FAIL:dns-blocked'],
      fix: 'aws ec2 authorize-security-group-egress --group-id sg-0b0d000000000000a',
    },
    {
      name: 'an additional control plane group admitting the VPC on 443 opens the API path',
      docs: [...base, policy([POD_SG])],
      aws: aws([rule.allEgress()], [rule.tcpFrom(53, POD_SG), udp53From(POD_SG)], {
        cluster: ok(cluster({ securityGroupIds: [EXTRA_CP_SG] })),
        securityGroups: ok([
          clusterGroup(rule.tcpFrom(53, POD_SG), udp53From(POD_SG)),
          group(POD_SG, [rule.allEgress()]),
          group(EXTRA_CP_SG, [rule.tcpFrom(443, '10.0.0.0/16')]),
        ]),
      }),
      expected: ['PASS:paths-open'],
    },
    {
      name: 'with private endpoint access off the API path needs egress to the internet',
      docs: [...base, policy([POD_SG])],
      aws: aws(
        [rule.egressTo('-1', 0, '10.0.0.0/8')],
        [rule.tcpFrom(53, POD_SG), udp53From(POD_SG)],
        {
          cluster: ok(cluster({ endpointPrivateAccess: false })),
        },
      ),
      expected: ['ERROR:cannot-evaluate'],
      text: "the peer's addresses are unknown",
    },
    {
      name: 'with private endpoint access off, egress to 0.0.0.0/0 reaches the public endpoint',
      docs: [...base, policy([POD_SG])],
      aws: aws([rule.allEgress()], [rule.tcpFrom(53, POD_SG), udp53From(POD_SG)], {
        cluster: ok(cluster({ endpointPrivateAccess: false })),
      }),
      expected: ['PASS:paths-open'],
    },
    {
      name: 'a policy with more than five groups fails',
      docs: [...base, policy(['sg-1', 'sg-2', 'sg-3', 'sg-4', 'sg-5', 'sg-6'])],
      aws: aws([rule.allEgress()]),
      expected: ['FAIL:group-count'],
    },
    {
      name: 'a policy that selects no Datadog pod is not evaluated',
      docs: [
        ...base,
        securityGroupPolicy('golang', 'other', {
          podSelector: { matchLabels: { app: 'other' } },
          groupIds: [POD_SG],
        }),
      ],
      aws: aws([]),
      expected: [],
    },
    {
      name: 'a policy selecting the Cluster Agent is evaluated',
      docs: [
        ...base,
        securityGroupPolicy('datadog', 'ca-sg', {
          podSelector: { matchLabels: { app: 'datadog-agent-cluster-agent' } },
          groupIds: [POD_SG],
        }),
      ],
      aws: aws([rule.allEgress()]),
      expected: ['FAIL:control-plane-blocked', 'FAIL:dns-blocked'],
      text: 'Pod datadog/datadog-agent-cluster-agent',
    },
  ])('$name', ({ docs, aws: a, expected, fix, text }) => {
    const results = runOn(sgControlPlanePath, docs, a);
    expect(outcomes(results)).toEqual(expected);
    if (fix) expect(results.map((r) => r.remediation).join('\n')).toContain(fix);
    if (text) expect(results[0]!.message).toContain(text);
  });

  it('gives the exact commands for the missing control plane rule', () => {
    const [cp] = runOn(sgControlPlanePath, [...base, policy([POD_SG])], aws([rule.allEgress()]));
    expect(cp!.remediation).toContain(
      `aws ec2 authorize-security-group-ingress --group-id ${CLUSTER_SG} --protocol tcp --port 443 --source-group ${POD_SG} --region eu-west-1`,
    );
  });
});
