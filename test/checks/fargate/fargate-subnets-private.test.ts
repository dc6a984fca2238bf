import type { Route, RouteTable } from '../../../lambda/snapshot/snapshot.js';
import { fargateSubnetsPrivate } from '../../../lambda/checks/fargate/fargate-subnets-private.js';
import { awsFromSdk } from '../../support/aws-snapshot.js';
import { baseAws, outcomes, profile, runOn, SUBNET_A } from '../../net/manifests.js';
import { ok } from '../../support/snapshot-builder.js';

const local: Route = { destinationCidrBlock: '10.0.0.0/16', gatewayId: 'local', state: 'active' };
const viaNat: Route = {
  destinationCidrBlock: '0.0.0.0/0',
  natGatewayId: 'nat-0aaa',
  state: 'active',
};
const viaIgw: Route = { destinationCidrBlock: '0.0.0.0/0', gatewayId: 'igw-0bbb', state: 'active' };

function table(id: string, routes: Route[], over: Partial<RouteTable> = {}): RouteTable {
  return {
    routeTableId: id,
    vpcId: 'vpc-0test',
    main: false,
    subnetIds: [],
    routes: [local, ...routes],
    ...over,
  };
}

function run(tables: RouteTable[]) {
  return runOn(
    fargateSubnetsPrivate,
    [],
    baseAws({
      fargateProfiles: ok([profile('fp-apps', { subnets: [SUBNET_A] })]),
      routeTables: ok(tables),
    }),
  );
}

describe('fargate-subnets-private', () => {
  it.each<{ name: string; tables: RouteTable[]; expected: string[]; fix?: string }>([
    {
      name: 'an explicitly associated table routing 0.0.0.0/0 through a NAT gateway is private',
      tables: [
        table('rtb-private', [viaNat], { subnetIds: [SUBNET_A] }),
        table('rtb-main', [viaIgw], { main: true }),
      ],
      expected: ['PASS:private'],
    },
    {
      name: 'an explicitly associated table routing 0.0.0.0/0 to an internet gateway is public',
      tables: [table('rtb-public', [viaIgw], { subnetIds: [SUBNET_A] })],
      expected: ['FAIL:public-route'],
      fix: 'aws ec2 replace-route --region eu-west-1 --route-table-id rtb-public --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-gateway-id>',
    },
    {
      name: 'without an explicit association the main table decides',
      tables: [
        table('rtb-main', [viaIgw], { main: true }),
        table('rtb-other', [viaNat], { subnetIds: ['subnet-other'] }),
      ],
      expected: ['FAIL:public-route'],
      fix: `aws ec2 associate-route-table --region eu-west-1 --route-table-id <new-rtb-id> --subnet-id ${SUBNET_A}`,
    },
    {
      name: 'a main table of another VPC does not apply',
      tables: [
        table('rtb-main-other', [viaIgw], { main: true, vpcId: 'vpc-other' }),
        table('rtb-main', [viaNat], { main: true }),
      ],
      expected: ['PASS:private'],
    },
    {
      name: '::/0 to an internet gateway is public too',
      tables: [
        table('rtb-v6', [viaNat, { destinationIpv6CidrBlock: '::/0', gatewayId: 'igw-0bbb' }], {
          subnetIds: [SUBNET_A],
        }),
      ],
      expected: ['FAIL:public-route'],
      fix: '--egress-only-internet-gateway-id',
    },
    {
      name: '::/0 to an egress-only internet gateway stays private',
      tables: [
        table('rtb-v6', [viaNat, { destinationIpv6CidrBlock: '::/0', gatewayId: 'eigw-0ccc' }], {
          subnetIds: [SUBNET_A],
        }),
      ],
      expected: ['PASS:private'],
    },
    {
      name: 'a blackholed internet gateway route does not make the subnet public',
      tables: [table('rtb-x', [{ ...viaIgw, state: 'blackhole' }], { subnetIds: [SUBNET_A] })],
      expected: ['PASS:private'],
    },
    {
      name: 'a subnet whose route table is not in the snapshot cannot be evaluated',
      tables: [],
      expected: ['ERROR:route-table-unknown'],
    },
  ])('$name', ({ tables, expected, fix }) => {
    const results = run(tables);
    expect(outcomes(results)).toEqual(expected);
    if (fix) expect(results[0]!.remediation).toContain(fix);
  });

  it('reports a subnet shared by several profiles once, naming every profile', () => {
    const results = runOn(
      fargateSubnetsPrivate,
      [],
      baseAws({
        fargateProfiles: ok([
          profile('fp-a', { subnets: [SUBNET_A] }),
          profile('fp-b', { subnets: [SUBNET_A] }),
        ]),
        routeTables: ok([table('rtb-public', [viaIgw], { subnetIds: [SUBNET_A] })]),
      }),
    );
    expect(results).toHaveLength(1);
    expect(results[0]!.message).toContain('fp-a, fp-b');
  });

  it('reads DescribeRouteTables responses as the SDK returns them', () => {
    const sdk = awsFromSdk({
      DescribeRouteTables: {
        RouteTables: [
          {
            RouteTableId: 'rtb-0main',
            VpcId: 'vpc-0test',
            Associations: [
              { Main: true, RouteTableAssociationId: 'rtbassoc-1', RouteTableId: 'rtb-0main' },
            ],
            Routes: [
              { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
              { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0abc', State: 'active' },
            ],
          },
          {
            RouteTableId: 'rtb-0priv',
            VpcId: 'vpc-0test',
            Associations: [{ Main: false, SubnetId: SUBNET_A, RouteTableId: 'rtb-0priv' }],
            Routes: [
              { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0abc', State: 'active' },
            ],
          },
        ],
      },
    });
    const results = runOn(
      fargateSubnetsPrivate,
      [],
      baseAws({
        ...sdk,
        fargateProfiles: ok([
          profile('fp-apps', { subnets: [SUBNET_A, 'subnet-0b0000000000000b2'] }),
        ]),
      }),
    );
    expect(outcomes(results)).toEqual(['PASS:private', 'FAIL:public-route']);
    expect(results[1]!.message).toContain('main route table');
  });
});
