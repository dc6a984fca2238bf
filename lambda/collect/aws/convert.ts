/**
 * Pure conversions from AWS SDK v3 response shapes to snapshot types. No I/O, so the collector,
 * fixtures and tests share one definition of what the snapshot holds.
 */
import type {
  AccessEntry as SdkAccessEntry,
  Cluster as SdkCluster,
  FargateProfile as SdkFargateProfile,
} from '@aws-sdk/client-eks';
import type {
  Instance as SdkInstance,
  IpPermission,
  Reservation,
  RouteTable as SdkRouteTable,
  SecurityGroup as SdkSecurityGroup,
  Subnet as SdkSubnet,
} from '@aws-sdk/client-ec2';
import type {
  AccessEntry,
  Ec2Instance,
  EksCluster,
  FargateProfile,
  Route,
  RouteTable,
  SecurityGroup,
  SgRule,
  Subnet,
} from '../../snapshot/snapshot.js';

/** Copies only the defined values, so optional snapshot fields are absent rather than undefined. */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function strings(v: (string | undefined)[] | undefined): string[] {
  return (v ?? []).filter((s): s is string => typeof s === 'string');
}

export function convertCluster(c: SdkCluster): EksCluster {
  const vpc = c.resourcesVpcConfig ?? {};
  return {
    name: c.name ?? '',
    ...defined({
      arn: c.arn,
      version: c.version,
      status: c.status,
      platformVersion: c.platformVersion,
      endpoint: c.endpoint,
      clusterSecurityGroupId: vpc.clusterSecurityGroupId,
      vpcId: vpc.vpcId,
      authenticationMode: c.accessConfig?.authenticationMode,
    }),
    // EKS defaults: public on, private off, public from anywhere.
    endpointPublicAccess: vpc.endpointPublicAccess ?? true,
    endpointPrivateAccess: vpc.endpointPrivateAccess ?? false,
    publicAccessCidrs: strings(vpc.publicAccessCidrs),
    securityGroupIds: strings(vpc.securityGroupIds),
    subnetIds: strings(vpc.subnetIds),
  };
}

export function convertFargateProfile(p: SdkFargateProfile): FargateProfile {
  return {
    name: p.fargateProfileName ?? '',
    ...defined({ arn: p.fargateProfileArn, podExecutionRoleArn: p.podExecutionRoleArn }),
    status: p.status ?? 'UNKNOWN',
    subnets: strings(p.subnets),
    selectors: (p.selectors ?? []).map((s) => ({
      namespace: s.namespace ?? '',
      labels: { ...(s.labels ?? {}) },
    })),
    healthIssues: (p.health?.issues ?? []).map((i) => ({
      ...defined({ code: i.code, message: i.message }),
      resourceIds: strings(i.resourceIds),
    })),
  };
}

export function convertAccessEntry(e: SdkAccessEntry): AccessEntry {
  return {
    principalArn: e.principalArn ?? '',
    ...defined({ type: e.type }),
    kubernetesGroups: strings(e.kubernetesGroups),
  };
}

const PROTOCOL_NAMES: Record<string, string> = {
  '1': 'icmp',
  '6': 'tcp',
  '17': 'udp',
  '58': 'icmpv6',
};

/** Lower-case names for the common protocols, whether EC2 answered with a name or a number. */
export function normaliseProtocol(p: string | undefined): string {
  const value = (p ?? '-1').toLowerCase();
  return PROTOCOL_NAMES[value] ?? value;
}

/** One SgRule per source or destination of a permission: checks then match one peer at a time. */
export function flattenPermission(direction: SgRule['direction'], perm: IpPermission): SgRule[] {
  const protocol = normaliseProtocol(perm.IpProtocol);
  // "-1" covers every port; EC2 may still send -1/-1 or 0/65535, which mean nothing extra.
  const ports = protocol === '-1' ? {} : defined({ fromPort: perm.FromPort, toPort: perm.ToPort });
  const base = { direction, protocol, ...ports };
  const rules: SgRule[] = [];
  for (const r of perm.IpRanges ?? []) {
    rules.push({ ...base, ...defined({ cidrIpv4: r.CidrIp, description: r.Description }) });
  }
  for (const r of perm.Ipv6Ranges ?? []) {
    rules.push({ ...base, ...defined({ cidrIpv6: r.CidrIpv6, description: r.Description }) });
  }
  for (const g of perm.UserIdGroupPairs ?? []) {
    rules.push({
      ...base,
      ...defined({ referencedGroupId: g.GroupId ?? g.GroupName, description: g.Description }),
    });
  }
  for (const p of perm.PrefixListIds ?? []) {
    rules.push({
      ...base,
      ...defined({ prefixListId: p.PrefixListId, description: p.Description }),
    });
  }
  return rules;
}

export function convertSecurityGroup(g: SdkSecurityGroup): SecurityGroup {
  return {
    groupId: g.GroupId ?? '',
    ...defined({ groupName: g.GroupName, vpcId: g.VpcId }),
    rules: [
      ...(g.IpPermissions ?? []).flatMap((p) => flattenPermission('ingress', p)),
      ...(g.IpPermissionsEgress ?? []).flatMap((p) => flattenPermission('egress', p)),
    ],
  };
}

export function convertSubnet(s: SdkSubnet): Subnet {
  return {
    subnetId: s.SubnetId ?? '',
    ...defined({
      vpcId: s.VpcId,
      cidrBlock: s.CidrBlock,
      availabilityZone: s.AvailabilityZone,
    }),
    ipv6CidrBlocks: strings((s.Ipv6CidrBlockAssociationSet ?? []).map((a) => a.Ipv6CidrBlock)),
    mapPublicIpOnLaunch: s.MapPublicIpOnLaunch ?? false,
  };
}

export function convertRouteTable(t: SdkRouteTable): RouteTable {
  const associations = t.Associations ?? [];
  return {
    routeTableId: t.RouteTableId ?? '',
    ...defined({ vpcId: t.VpcId }),
    main: associations.some((a) => a.Main === true),
    subnetIds: strings(associations.map((a) => a.SubnetId)),
    routes: (t.Routes ?? []).map((r): Route =>
      defined({
        destinationCidrBlock: r.DestinationCidrBlock,
        destinationIpv6CidrBlock: r.DestinationIpv6CidrBlock,
        destinationPrefixListId: r.DestinationPrefixListId,
        gatewayId: r.GatewayId,
        natGatewayId: r.NatGatewayId,
        transitGatewayId: r.TransitGatewayId,
        vpcPeeringConnectionId: r.VpcPeeringConnectionId,
        networkInterfaceId: r.NetworkInterfaceId,
        state: r.State,
      }),
    ),
  };
}

export function convertInstance(i: SdkInstance): Ec2Instance {
  // An instance with several network interfaces has the union of their groups.
  const groups = new Set(strings((i.SecurityGroups ?? []).map((g) => g.GroupId)));
  for (const eni of i.NetworkInterfaces ?? []) {
    for (const g of eni.Groups ?? []) if (g.GroupId) groups.add(g.GroupId);
  }
  return {
    instanceId: i.InstanceId ?? '',
    ...defined({ subnetId: i.SubnetId, vpcId: i.VpcId, privateIpAddress: i.PrivateIpAddress }),
    securityGroupIds: [...groups],
  };
}

export function convertReservations(reservations: Reservation[] | undefined): Ec2Instance[] {
  return (reservations ?? []).flatMap((r) => (r.Instances ?? []).map(convertInstance));
}
