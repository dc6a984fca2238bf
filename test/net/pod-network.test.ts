import { itemsOf } from '../../lambda/snapshot/snapshot.js';
import { netContext, podLikeOf, podNetwork } from '../../lambda/snapshot/net/pod-network.js';
import { failed, ok, snapshotFromManifests } from '../support/snapshot-builder.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import type { AwsSnapshot, KubeSnapshot } from '../../lambda/snapshot/snapshot.js';
import {
  baseAws,
  CLUSTER_SG,
  NODE_SG,
  node,
  POD_SG,
  securityGroupPolicy,
  serviceAccount,
  sidecarPod,
} from './manifests.js';

function networkOf(
  docs: Raw[],
  aws: Partial<AwsSnapshot> = baseAws(),
  kube: Partial<KubeSnapshot> = {},
  name = 'app-1',
) {
  const snapshot = snapshotFromManifests(docs, { aws, kube });
  const target = itemsOf(snapshot.kube.pods).find((p) => p.meta.name === name)!;
  return podNetwork(podLikeOf(target), netContext(snapshot));
}

const fargatePod = sidecarPod({
  name: 'app-1',
  nodeName: 'fargate-ip-10-0-33-7',
  podIP: '10.0.33.7',
  labels: { 'eks.amazonaws.com/fargate-profile': 'fp-apps' },
});
const ec2Pod = sidecarPod({ name: 'app-1', nodeName: 'ip-10-0-1-5', podIP: '10.0.1.40' });
const ec2Node = node('ip-10-0-1-5', { instanceId: 'i-0123456789abcdef0', nodegroup: 'ng-system' });
const instances = ok([
  {
    instanceId: 'i-0123456789abcdef0',
    subnetId: 'subnet-0a0000000000000a1',
    securityGroupIds: [NODE_SG],
  },
]);

describe('effective security groups of a pod', () => {
  it.each<{
    name: string;
    docs: Raw[];
    aws?: Partial<AwsSnapshot>;
    kube?: Partial<KubeSnapshot>;
    expected: object;
  }>([
    {
      name: 'a Fargate pod without a policy gets the cluster security group',
      docs: [fargatePod, node('fargate-ip-10-0-33-7')],
      expected: {
        compute: 'fargate',
        source: 'cluster-security-group',
        groupIds: [CLUSTER_SG],
        addresses: ['10.0.33.7'],
      },
    },
    {
      name: 'a Fargate pod matched by a podSelector policy gets only the policy groups',
      docs: [
        fargatePod,
        securityGroupPolicy('golang', 'app-sg', {
          podSelector: { matchLabels: { app: 'golang-app' } },
          groupIds: [POD_SG],
        }),
      ],
      expected: {
        source: 'security-group-policy',
        groupIds: [POD_SG],
        policies: ['golang/app-sg'],
      },
    },
    {
      name: 'an empty podSelector selects every pod of its namespace',
      docs: [
        fargatePod,
        securityGroupPolicy('golang', 'all', { podSelector: {}, groupIds: [POD_SG, CLUSTER_SG] }),
      ],
      expected: { source: 'security-group-policy', groupIds: [POD_SG, CLUSTER_SG] },
    },
    {
      name: 'a policy in another namespace does not apply',
      docs: [
        fargatePod,
        securityGroupPolicy('other', 'all', { podSelector: {}, groupIds: [POD_SG] }),
      ],
      expected: { source: 'cluster-security-group' },
    },
    {
      name: 'a serviceAccountSelector matches the labels of the pod ServiceAccount',
      docs: [
        fargatePod,
        serviceAccount('golang', 'golang-app', { sg: 'app' }),
        securityGroupPolicy('golang', 'by-sa', {
          serviceAccountSelector: { matchLabels: { sg: 'app' } },
          groupIds: [POD_SG],
        }),
      ],
      expected: { source: 'security-group-policy', groupIds: [POD_SG] },
    },
    {
      name: 'a serviceAccountSelector does not match a ServiceAccount without the labels',
      docs: [
        fargatePod,
        serviceAccount('golang', 'golang-app'),
        securityGroupPolicy('golang', 'by-sa', {
          serviceAccountSelector: { matchLabels: { sg: 'app' } },
          groupIds: [POD_SG],
        }),
      ],
      expected: { source: 'cluster-security-group' },
    },
    {
      name: 'two matching policies give the union of their groups',
      docs: [
        fargatePod,
        securityGroupPolicy('golang', 'p1', { podSelector: {}, groupIds: [POD_SG] }),
        securityGroupPolicy('golang', 'p2', {
          podSelector: { matchLabels: { app: 'golang-app' } },
          groupIds: [CLUSTER_SG],
        }),
      ],
      expected: { groupIds: [POD_SG, CLUSTER_SG], policies: ['golang/p1', 'golang/p2'] },
    },
    {
      name: 'the fargate.amazonaws.com/pod-sg annotation shows the groups a scheduled Fargate pod got',
      docs: [
        sidecarPod({
          name: 'app-1',
          nodeName: 'fargate-ip-10-0-33-7',
          podIP: '10.0.33.7',
          annotations: { 'fargate.amazonaws.com/pod-sg': `${POD_SG}, ${CLUSTER_SG}` },
        }),
      ],
      expected: { source: 'pod-annotation', groupIds: [POD_SG, CLUSTER_SG] },
    },
    {
      name: 'an EC2 pod gets the security groups of its node instance',
      docs: [ec2Pod, ec2Node],
      aws: baseAws({ instances }),
      expected: {
        compute: 'ec2',
        source: 'node-instance',
        groupIds: [NODE_SG],
        addresses: ['10.0.1.40'],
      },
    },
    {
      name: 'an EC2 pod whose instance is not in DescribeInstances has unknown groups',
      docs: [ec2Pod, ec2Node],
      expected: {
        compute: 'ec2',
        source: 'unknown',
        unknownReason: expect.stringContaining('i-0123456789abcdef0'),
      },
    },
    {
      name: 'a Pending pod a profile selects is placed on Fargate with the profile subnets as addresses',
      docs: [sidecarPod({ name: 'app-1', phase: 'Pending' })],
      expected: {
        compute: 'fargate',
        source: 'cluster-security-group',
        addresses: ['10.0.0.0/19', '10.0.32.0/19'],
      },
    },
    {
      name: 'a Pending pod no profile selects has unknown groups',
      docs: [sidecarPod({ name: 'app-1', namespace: 'other', phase: 'Pending' })],
      expected: { compute: 'unknown', source: 'unknown' },
    },
    {
      name: 'an unreadable SecurityGroupPolicy list makes the groups unknown',
      docs: [fargatePod],
      kube: { securityGroupPolicies: failed('securitygrouppolicies.vpcresources.k8s.aws') },
      expected: { source: 'unknown', unknownReason: 'SecurityGroupPolicies could not be read' },
    },
  ])('$name', ({ docs, aws, kube, expected }) => {
    expect(networkOf(docs, aws, kube)).toMatchObject(expected);
  });
});
