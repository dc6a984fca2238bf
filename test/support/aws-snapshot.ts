/**
 * AWS snapshot parts from SDK v3 responses (a fixture's aws.json, or inline response objects),
 * through the same pure converters the collector uses. Check tests then see exactly what a real
 * collection of those responses would give them, without mocks.
 */
import { join } from 'node:path';
import {
  convertAccessEntry,
  convertCluster,
  convertFargateProfile,
  convertReservations,
  convertRouteTable,
  convertSecurityGroup,
  convertSubnet,
} from '../../lambda/collect/aws/convert.js';
import type { AwsSnapshot } from '../../lambda/snapshot/snapshot.js';
import { loadAwsFixture, type AwsFixture } from './aws-fixture.js';
import { FIXTURES_DIR, ok } from './snapshot-builder.js';

/** SDK-shaped responses; every part optional so tests can give only what they need. */
export type SdkResponses = Partial<Omit<AwsFixture, 'region' | 'Faults' | 'SecretsManager'>>;

/**
 * Converts SDK responses into AWS snapshot parts. Only the parts present in `responses` are set,
 * so `snapshotFromManifests(docs, { aws: awsFromSdk(...) })` keeps the empty defaults for the rest.
 * Fargate profiles and access entries follow the List order, like the collector.
 */
export function awsFromSdk(responses: SdkResponses): Partial<AwsSnapshot> {
  const out: Partial<AwsSnapshot> = {};
  if (responses.DescribeCluster)
    out.cluster = ok(convertCluster(responses.DescribeCluster.cluster));
  if (responses.DescribeFargateProfile || responses.ListFargateProfiles) {
    const described = responses.DescribeFargateProfile ?? {};
    const names = responses.ListFargateProfiles?.fargateProfileNames ?? Object.keys(described);
    out.fargateProfiles = ok(
      names
        .filter((n) => described[n])
        .map((n) => convertFargateProfile(described[n]!.fargateProfile)),
    );
  }
  if (responses.DescribeSecurityGroups) {
    out.securityGroups = ok(
      responses.DescribeSecurityGroups.SecurityGroups.map(convertSecurityGroup),
    );
  }
  if (responses.DescribeSubnets)
    out.subnets = ok(responses.DescribeSubnets.Subnets.map(convertSubnet));
  if (responses.DescribeRouteTables) {
    out.routeTables = ok(responses.DescribeRouteTables.RouteTables.map(convertRouteTable));
  }
  if (responses.DescribeInstances) {
    out.instances = ok(convertReservations(responses.DescribeInstances.Reservations));
  }
  if (responses.DescribeAccessEntry || responses.ListAccessEntries) {
    const described = responses.DescribeAccessEntry ?? {};
    const arns = responses.ListAccessEntries?.accessEntries ?? Object.keys(described);
    out.accessEntries = ok(
      arns.filter((a) => described[a]).map((a) => convertAccessEntry(described[a]!.accessEntry)),
    );
  }
  return out;
}

/** The AWS snapshot parts of a fixture cluster, from test/fixtures/<name>/aws.json. */
export function fixtureAws(name: string): Partial<AwsSnapshot> {
  return awsFromSdk(loadAwsFixture(join(FIXTURES_DIR, name)));
}
