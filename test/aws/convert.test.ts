import type { Cluster, FargateProfile } from '@aws-sdk/client-eks';
import type { Reservation, RouteTable, SecurityGroup, Subnet } from '@aws-sdk/client-ec2';
import {
  convertAccessEntry,
  convertCluster,
  convertFargateProfile,
  convertReservations,
  convertRouteTable,
  convertSecurityGroup,
  convertSubnet,
  flattenPermission,
} from '../../lambda/collect/aws/convert.js';

describe('convertCluster', () => {
  it('keeps endpoint access, security groups, subnets, VPC and authentication mode', () => {
    const cluster: Cluster = {
      name: 'prod',
      arn: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod',
      version: '1.31',
      status: 'ACTIVE',
      platformVersion: 'eks.18',
      endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      createdAt: new Date('2026-01-01T00:00:00Z'),
      certificateAuthority: { data: 'LS0t' },
      resourcesVpcConfig: {
        clusterSecurityGroupId: 'sg-cluster',
        securityGroupIds: ['sg-extra'],
        subnetIds: ['subnet-a', 'subnet-b'],
        vpcId: 'vpc-1',
        endpointPublicAccess: false,
        endpointPrivateAccess: true,
        publicAccessCidrs: [],
      },
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    };
    expect(convertCluster(cluster)).toEqual({
      name: 'prod',
      arn: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod',
      version: '1.31',
      status: 'ACTIVE',
      platformVersion: 'eks.18',
      endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      endpointPublicAccess: false,
      endpointPrivateAccess: true,
      publicAccessCidrs: [],
      clusterSecurityGroupId: 'sg-cluster',
      securityGroupIds: ['sg-extra'],
      subnetIds: ['subnet-a', 'subnet-b'],
      vpcId: 'vpc-1',
      authenticationMode: 'API_AND_CONFIG_MAP',
    });
  });

  it('applies the EKS defaults when the VPC config omits endpoint access', () => {
    expect(convertCluster({ name: 'bare' })).toEqual({
      name: 'bare',
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: [],
      securityGroupIds: [],
      subnetIds: [],
    });
  });
});

describe('convertFargateProfile', () => {
  it('keeps selectors with labels, subnets, role, status and health issues', () => {
    const profile: FargateProfile = {
      fargateProfileName: 'fp-golang',
      fargateProfileArn: 'arn:aws:eks:eu-west-1:123456789012:fargateprofile/prod/fp-golang/1',
      clusterName: 'prod',
      podExecutionRoleArn: 'arn:aws:iam::123456789012:role/pod-exec',
      subnets: ['subnet-a'],
      selectors: [{ namespace: 'golang', labels: { app: 'api' } }, { namespace: 'datadog' }],
      status: 'ACTIVE',
      health: {
        issues: [{ code: 'PodExecutionRoleAlreadyInUse', message: 'in use', resourceIds: ['r1'] }],
      },
    };
    expect(convertFargateProfile(profile)).toEqual({
      name: 'fp-golang',
      arn: 'arn:aws:eks:eu-west-1:123456789012:fargateprofile/prod/fp-golang/1',
      status: 'ACTIVE',
      podExecutionRoleArn: 'arn:aws:iam::123456789012:role/pod-exec',
      subnets: ['subnet-a'],
      selectors: [
        { namespace: 'golang', labels: { app: 'api' } },
        { namespace: 'datadog', labels: {} },
      ],
      healthIssues: [
        { code: 'PodExecutionRoleAlreadyInUse', message: 'in use', resourceIds: ['r1'] },
      ],
    });
  });
});

describe('convertAccessEntry', () => {
  it('keeps principal, type and Kubernetes groups', () => {
    expect(
      convertAccessEntry({
        principalArn: 'arn:aws:iam::123456789012:role/auditor',
        type: 'STANDARD',
        kubernetesGroups: ['eks-datadog-auditor'],
        createdAt: new Date(),
      }),
    ).toEqual({
      principalArn: 'arn:aws:iam::123456789012:role/auditor',
      type: 'STANDARD',
      kubernetesGroups: ['eks-datadog-auditor'],
    });
  });
});

describe('security group rules', () => {
  it('flattens one permission into one rule per CIDR, IPv6 range, group and prefix list', () => {
    const rules = flattenPermission('ingress', {
      IpProtocol: 'tcp',
      FromPort: 5005,
      ToPort: 5005,
      IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'vpc' }, { CidrIp: '192.168.0.0/24' }],
      Ipv6Ranges: [{ CidrIpv6: '2001:db8::/56' }],
      UserIdGroupPairs: [{ GroupId: 'sg-peer', UserId: '123456789012', Description: 'agents' }],
      PrefixListIds: [{ PrefixListId: 'pl-0123', Description: 'corp' }],
    });
    const tcp5005 = { direction: 'ingress', protocol: 'tcp', fromPort: 5005, toPort: 5005 };
    expect(rules).toEqual([
      { ...tcp5005, cidrIpv4: '10.0.0.0/16', description: 'vpc' },
      { ...tcp5005, cidrIpv4: '192.168.0.0/24' },
      { ...tcp5005, cidrIpv6: '2001:db8::/56' },
      { ...tcp5005, referencedGroupId: 'sg-peer', description: 'agents' },
      { ...tcp5005, prefixListId: 'pl-0123', description: 'corp' },
    ]);
  });

  it.each([
    { given: '-1', ports: { FromPort: -1, ToPort: -1 }, protocol: '-1', expectedPorts: {} },
    {
      given: '6',
      ports: { FromPort: 443, ToPort: 443 },
      protocol: 'tcp',
      expectedPorts: { fromPort: 443, toPort: 443 },
    },
    {
      given: 'UDP',
      ports: { FromPort: 53, ToPort: 53 },
      protocol: 'udp',
      expectedPorts: { fromPort: 53, toPort: 53 },
    },
    {
      given: '58',
      ports: { FromPort: -1, ToPort: -1 },
      protocol: 'icmpv6',
      expectedPorts: { fromPort: -1, toPort: -1 },
    },
    { given: '50', ports: {}, protocol: '50', expectedPorts: {} },
  ])('names protocol $given as $protocol', ({ given, ports, protocol, expectedPorts }) => {
    const [rule] = flattenPermission('egress', {
      IpProtocol: given,
      ...ports,
      IpRanges: [{ CidrIp: '0.0.0.0/0' }],
    });
    expect(rule).toEqual({
      direction: 'egress',
      protocol,
      ...expectedPorts,
      cidrIpv4: '0.0.0.0/0',
    });
  });

  it('converts a cluster security group: all traffic from itself in, everything out', () => {
    const group: SecurityGroup = {
      GroupId: 'sg-cluster',
      GroupName: 'eks-cluster-sg-prod',
      VpcId: 'vpc-1',
      IpPermissions: [
        { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-cluster' }], IpRanges: [] },
      ],
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    };
    expect(convertSecurityGroup(group)).toEqual({
      groupId: 'sg-cluster',
      groupName: 'eks-cluster-sg-prod',
      vpcId: 'vpc-1',
      rules: [
        { direction: 'ingress', protocol: '-1', referencedGroupId: 'sg-cluster' },
        { direction: 'egress', protocol: '-1', cidrIpv4: '0.0.0.0/0' },
      ],
    });
  });
});

describe('convertSubnet', () => {
  it('keeps CIDRs, zone and whether it assigns public IPs', () => {
    const subnet: Subnet = {
      SubnetId: 'subnet-a',
      VpcId: 'vpc-1',
      CidrBlock: '10.0.0.0/19',
      AvailabilityZone: 'eu-west-1a',
      MapPublicIpOnLaunch: true,
      Ipv6CidrBlockAssociationSet: [{ Ipv6CidrBlock: '2001:db8:1::/64' }],
    };
    expect(convertSubnet(subnet)).toEqual({
      subnetId: 'subnet-a',
      vpcId: 'vpc-1',
      cidrBlock: '10.0.0.0/19',
      availabilityZone: 'eu-west-1a',
      ipv6CidrBlocks: ['2001:db8:1::/64'],
      mapPublicIpOnLaunch: true,
    });
  });
});

describe('convertRouteTable', () => {
  it('marks the main table from its associations and keeps explicit subnet associations', () => {
    const main: RouteTable = {
      RouteTableId: 'rtb-main',
      VpcId: 'vpc-1',
      Associations: [{ Main: true, RouteTableId: 'rtb-main' }],
      Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' }],
    };
    const privateTable: RouteTable = {
      RouteTableId: 'rtb-private',
      VpcId: 'vpc-1',
      Associations: [
        { Main: false, SubnetId: 'subnet-a' },
        { Main: false, SubnetId: 'subnet-b' },
      ],
      Routes: [
        { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' },
        { DestinationPrefixListId: 'pl-s3', GatewayId: 'vpce-s3', State: 'active' },
        { DestinationIpv6CidrBlock: '::/0', TransitGatewayId: 'tgw-1', State: 'blackhole' },
      ],
    };
    expect(convertRouteTable(main)).toEqual({
      routeTableId: 'rtb-main',
      vpcId: 'vpc-1',
      main: true,
      subnetIds: [],
      routes: [{ destinationCidrBlock: '10.0.0.0/16', gatewayId: 'local', state: 'active' }],
    });
    expect(convertRouteTable(privateTable)).toEqual({
      routeTableId: 'rtb-private',
      vpcId: 'vpc-1',
      main: false,
      subnetIds: ['subnet-a', 'subnet-b'],
      routes: [
        { destinationCidrBlock: '0.0.0.0/0', natGatewayId: 'nat-1', state: 'active' },
        { destinationPrefixListId: 'pl-s3', gatewayId: 'vpce-s3', state: 'active' },
        { destinationIpv6CidrBlock: '::/0', transitGatewayId: 'tgw-1', state: 'blackhole' },
      ],
    });
  });
});

describe('convertReservations', () => {
  it('flattens reservations and unions the groups of every network interface', () => {
    const reservations: Reservation[] = [
      {
        Instances: [
          {
            InstanceId: 'i-1',
            SubnetId: 'subnet-a',
            VpcId: 'vpc-1',
            PrivateIpAddress: '10.0.1.1',
            SecurityGroups: [{ GroupId: 'sg-cluster' }],
            NetworkInterfaces: [
              { Groups: [{ GroupId: 'sg-cluster' }] },
              { Groups: [{ GroupId: 'sg-secondary' }] },
            ],
          },
        ],
      },
      { Instances: [{ InstanceId: 'i-2', SecurityGroups: [] }] },
    ];
    expect(convertReservations(reservations)).toEqual([
      {
        instanceId: 'i-1',
        subnetId: 'subnet-a',
        vpcId: 'vpc-1',
        privateIpAddress: '10.0.1.1',
        securityGroupIds: ['sg-cluster', 'sg-secondary'],
      },
      { instanceId: 'i-2', securityGroupIds: [] },
    ]);
  });
});
