/**
 * AWS collectors for one cluster. Every call's failure becomes a `Collected` error for the kind it
 * feeds (never a throw), ids are batched (one call per <= 200 ids, by filter so one vanished id
 * cannot fail the batch), lists are paged, and per-object describes run with bounded concurrency.
 */
import {
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  type Filter,
} from '@aws-sdk/client-ec2';
import {
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeFargateProfileCommand,
  ListAccessEntriesCommand,
  ListFargateProfilesCommand,
} from '@aws-sdk/client-eks';
import type {
  AccessEntry,
  AuditSettings,
  AwsSnapshot,
  Collected,
  CollectionFailure,
  Ec2Instance,
  EksCluster,
  FargateProfile,
  KubeSnapshot,
  RouteTable,
} from '../../snapshot/snapshot.js';
import type { AwsClients } from './clients.js';
import {
  convertAccessEntry,
  convertCluster,
  convertFargateProfile,
  convertReservations,
  convertRouteTable,
  convertSecurityGroup,
  convertSubnet,
} from './convert.js';
import { awsErrorCode, awsErrorMessage, awsFailure, type FailureContext } from './errors.js';
import { collectKeySources, collectTokenSource } from './token-source.js';
import { mapLimit } from '../concurrency.js';

/** EC2 accepts at most 200 values per filter. */
export const ID_BATCH_SIZE = 200;
/** Describe calls in flight at once per kind (EKS throttles bursts at a few per second). */
export const DESCRIBE_CONCURRENCY = 5;
/** A safety stop for paging: far beyond any real cluster, short of looping forever. */
const MAX_PAGES = 1000;

/** A failed AWS call, carrying the failure already phrased for the snapshot. */
class AwsStepError extends Error {
  constructor(readonly failure: CollectionFailure) {
    super(failure.message);
  }
}

async function step<T>(ctx: FailureContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new AwsStepError(awsFailure(err, ctx));
  }
}

async function collected<T>(kind: string, fn: () => Promise<T>): Promise<Collected<T>> {
  try {
    return { status: 'ok', value: await fn() };
  } catch (err) {
    if (err instanceof AwsStepError) return { status: 'error', error: err.failure };
    return {
      status: 'error',
      error: awsFailure(err, { kind, what: `Collecting ${kind} (internal error)` }),
    };
  }
}

export async function describeCluster(
  clients: AwsClients,
  name: string,
): Promise<{ cluster: Collected<EksCluster>; access?: { endpoint: string; caData: string } }> {
  let access: { endpoint: string; caData: string } | undefined;
  const cluster = await collected('eks:DescribeCluster', async () => {
    const res = await step(
      {
        kind: 'eks:DescribeCluster',
        name,
        what: `Describing EKS cluster ${name} in ${clients.region}`,
        hints: {
          NotFound: `No EKS cluster ${name} in ${clients.region}: check the cluster name and region in the auditor configuration.`,
        },
      },
      () => clients.eks.send(new DescribeClusterCommand({ name })),
    );
    if (!res.cluster) {
      throw new AwsStepError({
        source: 'aws',
        kind: 'eks:DescribeCluster',
        name,
        code: 'BadResponse',
        message: `Describing EKS cluster ${name} in ${clients.region} returned no cluster. Run again.`,
      });
    }
    const endpoint = res.cluster.endpoint;
    const caData = res.cluster.certificateAuthority?.data;
    if (endpoint && caData) access = { endpoint, caData };
    return convertCluster(res.cluster);
  });
  return access ? { cluster, access } : { cluster };
}

export async function collectAwsCluster(
  clients: AwsClients,
  clusterName: string,
  settings: AuditSettings,
): Promise<Pick<AwsSnapshot, 'fargateProfiles' | 'accessEntries' | 'tokenSource' | 'keySources'>> {
  const [fargateProfiles, accessEntries, tokenSource, keySources] = await Promise.all([
    collectFargateProfiles(clients, clusterName),
    collectAccessEntries(clients, clusterName),
    collectTokenSource(clients, settings),
    collectKeySources(clients, settings),
  ]);
  return { fargateProfiles, accessEntries, tokenSource, keySources };
}

async function collectFargateProfiles(
  clients: AwsClients,
  clusterName: string,
): Promise<Collected<FargateProfile[]>> {
  const where = `of EKS cluster ${clusterName} in ${clients.region}`;
  return collected('eks:ListFargateProfiles', async () => {
    const names = await pages((nextToken) =>
      step(
        {
          kind: 'eks:ListFargateProfiles',
          name: clusterName,
          what: `Listing Fargate profiles ${where}`,
        },
        async () => {
          const res = await clients.eks.send(
            new ListFargateProfilesCommand({ clusterName, maxResults: 100, nextToken }),
          );
          return { items: res.fargateProfileNames ?? [], next: res.nextToken };
        },
      ),
    );
    const profiles = await mapLimit(names, DESCRIBE_CONCURRENCY, (fargateProfileName) =>
      skipIfGone(() =>
        step(
          {
            kind: 'eks:DescribeFargateProfile',
            name: fargateProfileName,
            what: `Describing Fargate profile ${fargateProfileName} ${where}`,
          },
          () =>
            clients.eks.send(
              new DescribeFargateProfileCommand({ clusterName, fargateProfileName }),
            ),
        ),
      ),
    );
    return profiles.flatMap((r) =>
      r?.fargateProfile ? [convertFargateProfile(r.fargateProfile)] : [],
    );
  });
}

async function collectAccessEntries(
  clients: AwsClients,
  clusterName: string,
): Promise<Collected<AccessEntry[]>> {
  const where = `of EKS cluster ${clusterName} in ${clients.region}`;
  try {
    const arns = await pages(async (nextToken) => {
      const res = await clients.eks.send(
        new ListAccessEntriesCommand({ clusterName, maxResults: 100, nextToken }),
      );
      return { items: res.accessEntries ?? [], next: res.nextToken };
    });
    return collected('eks:DescribeAccessEntry', async () => {
      const entries = await mapLimit(arns, DESCRIBE_CONCURRENCY, (principalArn) =>
        skipIfGone(() =>
          step(
            {
              kind: 'eks:DescribeAccessEntry',
              name: principalArn,
              what: `Describing access entry ${principalArn} ${where}`,
            },
            () => clients.eks.send(new DescribeAccessEntryCommand({ clusterName, principalArn })),
          ),
        ),
      );
      return entries.flatMap((r) => (r?.accessEntry ? [convertAccessEntry(r.accessEntry)] : []));
    });
  } catch (err) {
    // A CONFIG_MAP cluster has no access entries to list: a fact about the cluster, not a fault.
    if (
      awsErrorCode(err) === 'InvalidRequest' &&
      /authentication ?mode/i.test(awsErrorMessage(err))
    ) {
      return {
        status: 'not-installed',
        detail: `EKS cluster ${clusterName} uses authenticationMode CONFIG_MAP: access entries are not in use (aws-auth ConfigMap instead).`,
      };
    }
    return {
      status: 'error',
      error: awsFailure(err, {
        kind: 'eks:ListAccessEntries',
        name: clusterName,
        what: `Listing access entries ${where}`,
      }),
    };
  }
}

export async function collectAwsNetwork(
  clients: AwsClients,
  cluster: EksCluster | undefined,
  kube: KubeSnapshot,
  fargateProfiles: FargateProfile[],
): Promise<Pick<AwsSnapshot, 'securityGroups' | 'subnets' | 'routeTables' | 'instances'>> {
  const label = cluster ? `EKS cluster ${cluster.name}` : 'the cluster';
  const instances = await collectInstances(clients, kube, label);
  const found = instances.status === 'ok' ? instances.value : [];

  const groupIds = unique([
    cluster?.clusterSecurityGroupId,
    ...(cluster?.securityGroupIds ?? []),
    ...(kube.securityGroupPolicies.status === 'ok'
      ? kube.securityGroupPolicies.value.flatMap((p) => p.groupIds)
      : []),
    ...found.flatMap((i) => i.securityGroupIds),
  ]);
  const subnetIds = unique([
    ...(cluster?.subnetIds ?? []),
    ...fargateProfiles.flatMap((p) => p.subnets),
    ...found.map((i) => i.subnetId),
  ]);

  const [securityGroups, subnets] = await Promise.all([
    collected('ec2:DescribeSecurityGroups', async () =>
      (
        await describeByIds(groupIds, 'group-id', (Filters, NextToken) =>
          step(
            {
              kind: 'ec2:DescribeSecurityGroups',
              what: `Describing security groups of ${label} in ${clients.region}`,
            },
            async () => {
              const res = await clients.ec2.send(
                new DescribeSecurityGroupsCommand({ Filters, NextToken, MaxResults: 1000 }),
              );
              return { items: res.SecurityGroups ?? [], next: res.NextToken };
            },
          ),
        )
      ).map(convertSecurityGroup),
    ),
    collected('ec2:DescribeSubnets', async () =>
      (
        await describeByIds(subnetIds, 'subnet-id', (Filters, NextToken) =>
          step(
            {
              kind: 'ec2:DescribeSubnets',
              what: `Describing subnets of ${label} in ${clients.region}`,
            },
            async () => {
              const res = await clients.ec2.send(
                new DescribeSubnetsCommand({ Filters, NextToken, MaxResults: 1000 }),
              );
              return { items: res.Subnets ?? [], next: res.NextToken };
            },
          ),
        )
      ).map(convertSubnet),
    ),
  ]);

  const vpcIds = unique([
    cluster?.vpcId,
    ...(subnets.status === 'ok' ? subnets.value.map((s) => s.vpcId) : []),
    ...found.map((i) => i.vpcId),
  ]);
  const routeTables: Collected<RouteTable[]> = await collected(
    'ec2:DescribeRouteTables',
    async () =>
      (
        await describeByIds(vpcIds, 'vpc-id', (Filters, NextToken) =>
          step(
            {
              kind: 'ec2:DescribeRouteTables',
              what: `Describing route tables of ${label} (VPC ${vpcIds.join(', ')}) in ${clients.region}`,
            },
            async () => {
              const res = await clients.ec2.send(
                new DescribeRouteTablesCommand({ Filters, NextToken, MaxResults: 100 }),
              );
              return { items: res.RouteTables ?? [], next: res.NextToken };
            },
          ),
        )
      ).map(convertRouteTable),
  );

  return { securityGroups, subnets, routeTables, instances };
}

async function collectInstances(
  clients: AwsClients,
  kube: KubeSnapshot,
  label: string,
): Promise<Collected<Ec2Instance[]>> {
  if (kube.nodes.status !== 'ok') {
    // Which instances to describe comes from the node list; without it, say so instead of [].
    return {
      status: 'error',
      error: {
        source: 'aws',
        kind: 'ec2:DescribeInstances',
        code: 'NotEvaluated',
        message: `EC2 instances of ${label} were not described because its Kubernetes nodes could not be listed (${kube.nodes.status}). Fix the nodes collection first.`,
      },
    };
  }
  const ids = unique(kube.nodes.value.map((n) => n.instanceId));
  return collected('ec2:DescribeInstances', async () =>
    convertReservations(
      await describeByIds(ids, 'instance-id', (Filters, NextToken) =>
        step(
          {
            kind: 'ec2:DescribeInstances',
            what: `Describing EC2 instances of ${label} in ${clients.region}`,
          },
          async () => {
            const res = await clients.ec2.send(
              // MaxResults cannot be combined with InstanceIds, but it can with a filter.
              new DescribeInstancesCommand({ Filters, NextToken, MaxResults: 1000 }),
            );
            return { items: res.Reservations ?? [], next: res.NextToken };
          },
        ),
      ),
    ),
  );
}

type Page<T> = { items: T[]; next?: string | undefined };

/** One filtered call (paged) per batch of ids; no ids, no call. */
async function describeByIds<T>(
  ids: string[],
  filterName: string,
  fetch: (filters: Filter[], nextToken: string | undefined) => Promise<Page<T>>,
): Promise<T[]> {
  const out: T[] = [];
  for (const batch of chunks(ids, ID_BATCH_SIZE)) {
    out.push(...(await pages((next) => fetch([{ Name: filterName, Values: batch }], next))));
  }
  return out;
}

/** Follows next tokens to the end, stopping on a repeated token or after MAX_PAGES. */
async function pages<T>(fetch: (nextToken: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  const seen = new Set<string>();
  let next: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await fetch(next);
    out.push(...page.items);
    if (!page.next || seen.has(page.next)) return out;
    seen.add(page.next);
    next = page.next;
  }
  return out;
}

/** An object deleted between list and describe is simply gone, not a failure. */
async function skipIfGone<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AwsStepError && err.failure.code === 'NotFound') return undefined;
    throw err;
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
}
