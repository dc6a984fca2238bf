/**
 * Cluster discovery: every EKS cluster in the configured accounts and regions whose tags match,
 * listed through the reader role each account carries (infra/member-stack.ts). One account or
 * region that cannot be listed is recorded as a failure (and reported as an ERROR finding), never
 * a crash: the rest of the fleet is still audited.
 */
import { DescribeClusterCommand, EKSClient, paginateListClusters } from '@aws-sdk/client-eks';
import {
  OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  type Account,
} from '@aws-sdk/client-organizations';
import { createAwsClients } from '../../collect/aws/clients.js';
import { AWS_MAX_ATTEMPTS } from '../../config/config.js';
import { mapLimit } from '../../collect/concurrency.js';
import type { AuditorConfig, ClusterConfig, DiscoverConfig } from '../../config/config.js';
import { findingId, type Finding } from '../../config/findings.js';
import { singleLine } from '../../checks/sanitize.js';
import type { ClusterReport } from '../../report/types.js';

/** Check id (and report name) of discovery failures. */
export const DISCOVERY_CHECK_ID = 'fleet-discovery';

export interface DiscoveryFailure {
  account?: string;
  region?: string;
  /** What was being done: ListAccounts, AssumeRole + ListClusters, DescribeCluster <name>. */
  operation: string;
  message: string;
}

export interface Discovery {
  clusters: ClusterConfig[];
  failures: DiscoveryFailure[];
}

export interface DiscoveryDeps {
  organizations(): OrganizationsClient;
  /** An EKS client in `region` acting through `roleArn` (the account's reader role). */
  eks(region: string, roleArn: string): EKSClient;
  /** The partition the role ARNs are built in. */
  partition?: string;
  /** Account/region pairs listed at once. */
  concurrency?: number;
}

export function defaultDiscoveryDeps(): DiscoveryDeps {
  return {
    organizations: () => new OrganizationsClient({ maxAttempts: AWS_MAX_ATTEMPTS }),
    eks: (region, roleArn) => createAwsClients({ region, roleArn }).eks,
  };
}

export async function discoverClusters(
  config: AuditorConfig,
  deps: DiscoveryDeps = defaultDiscoveryDeps(),
): Promise<Discovery> {
  const d = config.discover;
  if (!d) return { clusters: [], failures: [] };
  const failures: DiscoveryFailure[] = [];
  const accounts = await listAccounts(d, deps, failures);
  const roleName = d.organization?.roleName ?? d.roleName;
  const partition = deps.partition ?? 'aws';
  const pairs = accounts.flatMap((account) => d.regions.map((region) => ({ account, region })));
  const found = await mapLimit(pairs, deps.concurrency ?? 8, async ({ account, region }) => {
    const roleArn = `arn:${partition}:iam::${account}:role/${roleName}`;
    try {
      return await listRegion(deps.eks(region, roleArn), d, { account, region, roleArn }, failures);
    } catch (err) {
      failures.push({
        account,
        region,
        operation: `AssumeRole ${roleArn} + eks:ListClusters`,
        message: messageOf(err),
      });
      return [];
    }
  });
  return { clusters: found.flat(), failures };
}

async function listAccounts(
  d: DiscoverConfig,
  deps: DiscoveryDeps,
  failures: DiscoveryFailure[],
): Promise<string[]> {
  if (d.accounts) return d.accounts;
  const client = deps.organizations();
  const active = (a: Account) => (a.Status === undefined || a.Status === 'ACTIVE') && a.Id;
  const ids = new Set<string>();
  const parents = d.organization?.ouIds;
  if (!parents) {
    try {
      for await (const page of paginateListAccounts({ client }, {})) {
        for (const a of page.Accounts ?? []) if (active(a)) ids.add(a.Id!);
      }
    } catch (err) {
      failures.push({ operation: 'organizations:ListAccounts', message: messageOf(err) });
    }
    return [...ids];
  }
  for (const parentId of parents) {
    try {
      for await (const page of paginateListAccountsForParent({ client }, { ParentId: parentId })) {
        for (const a of page.Accounts ?? []) if (active(a)) ids.add(a.Id!);
      }
    } catch (err) {
      failures.push({
        operation: `organizations:ListAccountsForParent ${parentId}`,
        message: messageOf(err),
      });
    }
  }
  return [...ids];
}

async function listRegion(
  eks: EKSClient,
  d: DiscoverConfig,
  at: { account: string; region: string; roleArn: string },
  failures: DiscoveryFailure[],
): Promise<ClusterConfig[]> {
  const names: string[] = [];
  for await (const page of paginateListClusters({ client: eks }, {})) {
    names.push(...(page.clusters ?? []));
  }
  const wanted = Object.entries(d.tags);
  const out: ClusterConfig[] = [];
  for (const name of names) {
    if (wanted.length > 0) {
      let tags: Record<string, string> = {};
      try {
        const res = await eks.send(new DescribeClusterCommand({ name }));
        tags = res.cluster?.tags ?? {};
      } catch (err) {
        failures.push({
          account: at.account,
          region: at.region,
          operation: `eks:DescribeCluster ${name}`,
          message: messageOf(err),
        });
        continue;
      }
      if (!wanted.every(([k, v]) => tags[k] === v)) continue;
    }
    out.push({ name, region: at.region, roleArn: at.roleArn });
  }
  return out;
}

function messageOf(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return singleLine(`${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`).slice(0, 500);
}

/** The discovery failures as one report of ERROR findings, delivered beside the clusters'. */
export function discoveryReport(failures: DiscoveryFailure[], at: string): ClusterReport {
  const findings: Finding[] = failures.map((f) => {
    const where = [f.account && `account ${f.account}`, f.region && `region ${f.region}`]
      .filter(Boolean)
      .join(', ');
    const resource = { kind: 'Account', name: `${f.account ?? 'organization'}/${f.region ?? '*'}` };
    return {
      id: findingId(DISCOVERY_CHECK_ID, DISCOVERY_CHECK_ID, resource, 'not-listed'),
      checkId: DISCOVERY_CHECK_ID,
      cluster: DISCOVERY_CHECK_ID,
      severity: 'high',
      status: 'ERROR',
      resource,
      messageId: 'not-listed',
      message: `Clusters in ${where || 'the organization'} could not be discovered (${f.operation}): ${f.message}. Clusters there were not audited.`,
      remediation:
        'Deploy the member stack (infra/member-stack.ts) to that account so the reader role exists and trusts the auditor, and check that the auditor may call organizations:ListAccounts / ListAccountsForParent (management or delegated administrator account).',
    };
  });
  return {
    name: DISCOVERY_CHECK_ID,
    status: 'ERROR',
    startedAt: at,
    finishedAt: at,
    findings,
    errors: failures.map((f) => ({
      source: 'aws' as const,
      kind: f.operation,
      code: 'DiscoveryFailed',
      message: f.message,
    })),
    stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
  };
}
