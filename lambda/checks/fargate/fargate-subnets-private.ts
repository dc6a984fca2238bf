import type { CheckResult } from '../../config/findings.js';
import {
  itemsOf,
  valueOf,
  type ClusterSnapshot,
  type Route,
  type RouteTable,
  type Subnet,
} from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';

/**
 * The route table that governs a subnet: its explicit association, else the main table of its
 * VPC. Undefined when neither is in the snapshot.
 */
export function routeTableOf(
  subnetId: string,
  vpcId: string | undefined,
  tables: readonly RouteTable[],
): { table: RouteTable; via: 'explicit' | 'main' } | undefined {
  const explicit = tables.find((t) => t.subnetIds.includes(subnetId));
  if (explicit) return { table: explicit, via: 'explicit' };
  const mains = tables.filter((t) => t.main && (!vpcId || !t.vpcId || t.vpcId === vpcId));
  return mains.length === 1 ? { table: mains[0]!, via: 'main' } : undefined;
}

/** A default route (`0.0.0.0/0` or `::/0`) to an internet gateway makes the subnet public. */
export function internetRoute(table: RouteTable): Route | undefined {
  return table.routes.find(
    (r) =>
      (r.destinationCidrBlock === '0.0.0.0/0' || r.destinationIpv6CidrBlock === '::/0') &&
      (r.gatewayId ?? '').startsWith('igw-') &&
      r.state !== 'blackhole',
  );
}

/**
 * Fargate pods get no public IP, so a profile subnet whose default route goes to an internet
 * gateway leaves them without outbound access (image pulls, the Datadog intake, a public API
 * endpoint). EKS refuses public subnets at profile creation, but route tables change later.
 */
export const fargateSubnetsPrivate: Check = {
  id: 'fargate-subnets-private',
  area: 'fargate',
  title: 'Every Fargate profile subnet is private (no default route to an internet gateway)',
  severity: 'high',
  resourceType: 'Subnet',
  risk: 'Fargate pods in a public subnet have no public IP, so nothing leaves the VPC: images do not pull, agent sidecars cannot send to the Datadog intake, and pods stuck in ContainerCreating follow.',
  remediation:
    'Route the subnet 0.0.0.0/0 through a NAT gateway (or move the profile to private subnets by recreating it).',
  requires: ['aws.fargateProfiles', 'aws.routeTables'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const tables = itemsOf(snapshot.aws.routeTables);
    const subnets = new Map<string, Subnet>(
      itemsOf(snapshot.aws.subnets).map((s) => [s.subnetId, s]),
    );
    const clusterVpc = valueOf(snapshot.aws.cluster)?.vpcId;
    const region = snapshot.cluster.region ? ` --region ${snapshot.cluster.region}` : '';
    const profilesBySubnet = new Map<string, string[]>();
    for (const p of itemsOf(snapshot.aws.fargateProfiles)) {
      for (const s of p.subnets)
        profilesBySubnet.set(s, [...(profilesBySubnet.get(s) ?? []), p.name]);
    }

    const results: CheckResult[] = [];
    for (const [subnetId, profiles] of profilesBySubnet) {
      const resource = { kind: 'Subnet', name: subnetId };
      const subnet = subnets.get(subnetId);
      const vpcId = subnet?.vpcId ?? clusterVpc;
      const found = routeTableOf(subnetId, vpcId, tables);
      const used = `used by Fargate profile(s) ${profiles.join(', ')}`;
      if (!found) {
        results.push({
          status: 'ERROR',
          severity: 'medium',
          resource,
          messageId: 'route-table-unknown',
          message: `Subnet ${subnetId} (${used}): no route table with an explicit association and no single main route table for VPC ${vpcId ?? '(unknown)'} in the snapshot.`,
          remediation: `Check the routes by hand: aws ec2 describe-route-tables${region} --filters Name=association.subnet-id,Values=${subnetId}; grant ec2:DescribeRouteTables to the auditor if it was denied.`,
        });
        continue;
      }
      const { table, via } = found;
      const how =
        via === 'explicit'
          ? 'explicitly associated'
          : `the main route table of ${vpcId ?? 'its VPC'}`;
      const route = internetRoute(table);
      if (route) {
        const dest = route.destinationCidrBlock ?? route.destinationIpv6CidrBlock!;
        const replace = route.destinationCidrBlock
          ? `aws ec2 replace-route${region} --route-table-id ${table.routeTableId} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-gateway-id>`
          : `aws ec2 replace-route${region} --route-table-id ${table.routeTableId} --destination-ipv6-cidr-block ::/0 --egress-only-internet-gateway-id <eigw-id>`;
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'public-route',
          message: `Subnet ${subnetId} (${used}) is public: its route table ${table.routeTableId} (${how}) sends ${dest} to internet gateway ${route.gatewayId}. Fargate pods get no public IP there, so they have no outbound access.`,
          remediation:
            via === 'explicit'
              ? `Route ${dest} through a NAT gateway instead: ${replace} (every subnet on ${table.routeTableId} is affected), or recreate profile(s) ${profiles.join(', ')} with private subnets.`
              : `Give ${subnetId} its own private route table: aws ec2 create-route-table${region} --vpc-id ${vpcId ?? '<vpc-id>'}, add 0.0.0.0/0 via a NAT gateway, then aws ec2 associate-route-table${region} --route-table-id <new-rtb-id> --subnet-id ${subnetId}; or recreate profile(s) ${profiles.join(', ')} with private subnets.`,
        });
        continue;
      }
      const egress = table.routes.find(
        (r) =>
          r.destinationCidrBlock === '0.0.0.0/0' &&
          (r.natGatewayId || r.transitGatewayId || r.networkInterfaceId),
      );
      results.push({
        status: 'PASS',
        resource,
        messageId: 'private',
        message: `Subnet ${subnetId} (${used}) is private: route table ${table.routeTableId} (${how}) has no default route to an internet gateway${
          egress
            ? ` (0.0.0.0/0 via ${egress.natGatewayId ?? egress.transitGatewayId ?? egress.networkInterfaceId})`
            : ''
        }.`,
        remediation: '',
      });
    }
    return results;
  },
};
