import type { CheckResult } from '../../config/findings.js';
import { itemsOf, valueOf, type ClusterSnapshot } from '../../snapshot/snapshot.js';
import { isWholeFamily } from '../../snapshot/net/cidr.js';
import type { Check } from '../check.js';

/**
 * Fargate pods reach the API server through the private endpoint when it is on; otherwise through
 * the public endpoint, from their NAT gateways' addresses. A public endpoint restricted by
 * `publicAccessCidrs` without private access cuts Fargate pods (and the kubelet that registers
 * the Fargate node) off unless those CIDRs happen to include every NAT address of the VPC.
 */
export const endpointReachableFromFargate: Check = {
  id: 'endpoint-reachable-from-fargate',
  area: 'network',
  title: 'Fargate pods can reach the cluster API server endpoint',
  severity: 'high',
  resourceType: 'EksCluster',
  risk: 'With private endpoint access off and the public endpoint limited to a few CIDRs, Fargate pods cannot reach the API server: Fargate nodes fail to register, pods stay Pending, and agent sidecars cannot query the kubelet through the API server proxy.',
  remediation:
    'Enable private endpoint access (aws eks update-cluster-config --resources-vpc-config endpointPrivateAccess=true), or add the VPC NAT gateway addresses to publicAccessCidrs.',
  requires: ['aws.cluster'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const cluster = valueOf(snapshot.aws.cluster);
    if (!cluster) return [];
    const name = cluster.name || snapshot.cluster.name;
    const resource = { kind: 'EksCluster', name };
    const profiles = itemsOf(snapshot.aws.fargateProfiles);
    const fargateNodes = itemsOf(snapshot.kube.nodes).filter((n) => n.computeType === 'fargate');
    const usesFargate = profiles.length > 0 || fargateNodes.length > 0;
    const region = snapshot.cluster.region ? ` --region ${snapshot.cluster.region}` : '';
    if (!usesFargate) {
      return [
        {
          status: 'PASS',
          severity: 'info',
          resource,
          messageId: 'no-fargate',
          message: `Cluster ${name} has no Fargate profile and no Fargate node: the endpoint path from Fargate does not apply.`,
          remediation: '',
        },
      ];
    }
    if (cluster.endpointPrivateAccess) {
      return [
        {
          status: 'PASS',
          resource,
          messageId: 'private-endpoint',
          message: `Cluster ${name} has private endpoint access on: Fargate pods reach the API server inside the VPC.`,
          remediation: '',
        },
      ];
    }
    if (!cluster.endpointPublicAccess) {
      // EKS rejects this combination; a snapshot showing it is inconsistent, not a pass.
      return [
        {
          status: 'FAIL',
          resource,
          messageId: 'no-endpoint',
          message: `Cluster ${name} reports both public and private endpoint access off: nothing can reach the API server.`,
          remediation: `aws eks update-cluster-config${region} --name ${name} --resources-vpc-config endpointPrivateAccess=true`,
        },
      ];
    }
    const cidrs = cluster.publicAccessCidrs.length ? cluster.publicAccessCidrs : ['0.0.0.0/0'];
    if (cidrs.some((c) => c.includes('.') && isWholeFamily(c))) {
      return [
        {
          status: 'PASS',
          resource,
          messageId: 'public-open',
          message: `Cluster ${name} has only the public endpoint, open to 0.0.0.0/0: Fargate pods reach it through their NAT gateway (enabling private access keeps that traffic inside the VPC).`,
          remediation: '',
        },
      ];
    }
    return [
      {
        status: 'FAIL',
        resource,
        messageId: 'public-restricted-no-private',
        message: `Cluster ${name} has private endpoint access off and its public endpoint limited to ${cidrs.join(', ')}: Fargate pods (${profiles.length} profile(s), ${fargateNodes.length} Fargate node(s)) reach the API server only if their NAT gateway addresses are in that list.`,
        remediation: `Enable private endpoint access: aws eks update-cluster-config${region} --name ${name} --resources-vpc-config endpointPrivateAccess=true (or add every NAT gateway public IP of the Fargate subnets to publicAccessCidrs).`,
      },
    ];
  },
};
