/**
 * Collects one cluster's snapshot: AWS (EKS, EC2, Secrets Manager) and Kubernetes (through the
 * client-node adapter), in the order their dependencies need. All I/O of an audit happens here.
 */
import { createAwsClients, type AwsClients } from './aws/clients.js';
import { collectAwsCluster, collectAwsNetwork, describeCluster } from './aws/collect.js';
import { EksTokenProvider } from './aws/eks-token.js';
import { settingsFor, type AuditorConfig, type ClusterConfig } from '../config/config.js';
import { createKubePort, type KubeAccess } from './kube/client.js';
import { collectAccessReviews } from './kube/access-reviews.js';
import { collectKube } from './kube/collect.js';
import type { RetryPolicy } from './kube/list.js';
import type { KubePort } from './kube/port.js';
import type { AwsSnapshot, ClusterSnapshot, Collected } from '../snapshot/snapshot.js';

/** A cluster that cannot be audited at all (no endpoint, credentials rejected, unreachable). */
export class CollectionError extends Error {
  override name = 'CollectionError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface CollectOptions {
  /** Use this kubeconfig for the Kubernetes side instead of the EKS endpoint + IAM token. */
  kubeconfig?: { path?: string; context?: string };
  /** Skip the AWS side entirely (kubeconfig audits without AWS credentials). */
  skipAws?: boolean;
  /** Kubernetes access override (the demo points this at its local API server). */
  kubeAccess?: KubeAccess;
  /** Factories, for tests and the benchmark. */
  awsClients?: (region: string, roleArn?: string) => AwsClients;
  kubePort?: (
    access: KubeAccess,
    config: AuditorConfig,
  ) => KubePort & { close?: () => Promise<void> };
  now?: () => Date;
  /** Kubernetes retry timing (tests: a recording sleep instead of waiting on the clock). */
  kubeRetry?: Partial<RetryPolicy>;
}

function awsNotCollected(detail: string): AwsSnapshot {
  const skipped: Collected<never> = { status: 'not-installed', detail };
  return {
    cluster: skipped,
    fargateProfiles: skipped,
    securityGroups: skipped,
    subnets: skipped,
    routeTables: skipped,
    instances: skipped,
    accessEntries: skipped,
    tokenSource: skipped,
  };
}

export function resolveRegion(cluster: ClusterConfig, config: AuditorConfig): string | undefined {
  return (
    cluster.region ?? config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
  );
}

export async function collectCluster(
  cluster: ClusterConfig,
  config: AuditorConfig,
  opts: CollectOptions = {},
): Promise<ClusterSnapshot> {
  const now = opts.now ?? (() => new Date());
  const started = now();
  // Durations come from the monotonic clock: `now` may be pinned (demo, tests).
  const startedMs = performance.now();
  const settings = settingsFor(config, cluster);
  const region = resolveRegion(cluster, config);
  if (!region && !opts.skipAws) {
    throw new CollectionError(
      `no AWS region for cluster ${cluster.name}: set "region" for it in the config, pass --region, or set AWS_REGION.`,
      'NoRegion',
    );
  }

  let aws: AwsSnapshot;
  let access: KubeAccess;
  let clients: AwsClients | undefined;
  if (opts.skipAws) {
    aws = awsNotCollected('AWS side skipped (--no-aws)');
  } else {
    clients = (
      opts.awsClients ??
      ((r, role) => createAwsClients({ region: r, ...(role ? { roleArn: role } : {}) }))
    )(region!, cluster.roleArn);
    const described = await describeCluster(clients, cluster.name);
    // The rest is filled in once the Kubernetes side says which nodes and groups matter.
    aws = { ...awsNotCollected('not collected yet'), cluster: described.cluster };
    if (!opts.kubeAccess && !opts.kubeconfig) {
      if (described.cluster.status === 'error' || !described.access) {
        const why =
          described.cluster.status === 'error'
            ? `${described.cluster.error.code}: ${described.cluster.error.message}`
            : 'DescribeCluster returned no endpoint or certificate authority';
        throw new CollectionError(`eks:DescribeCluster failed (${why})`, 'DescribeClusterFailed');
      }
    }
    if (described.access) {
      const tokens = new EksTokenProvider({
        clusterName: cluster.name,
        region: region!,
        credentials: clients.credentials,
      });
      access = {
        kind: 'token',
        clusterName: cluster.name,
        server: described.access.endpoint,
        caData: described.access.caData,
        token: () => tokens.get(),
        onUnauthorized: () => tokens.invalidate(),
      };
    }
  }
  if (opts.kubeAccess) access = opts.kubeAccess;
  else if (opts.kubeconfig)
    access = { kind: 'kubeconfig', clusterName: cluster.name, ...opts.kubeconfig };
  if (!access!) {
    throw new CollectionError(
      'no way to reach the Kubernetes API: give --kubeconfig or let the auditor use DescribeCluster',
      'NoAccess',
    );
  }

  const base = () => ({
    schemaVersion: 1 as const,
    cluster: {
      name: cluster.name,
      ...(region ? { region } : {}),
      access: opts.kubeAccess
        ? ('demo' as const)
        : opts.kubeconfig
          ? ('kubeconfig' as const)
          : ('eks-iam' as const),
    },
    collectedAt: started.toISOString(),
    settings,
    stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
  });
  const port = (opts.kubePort ?? ((a, c) => createKubePort(a, c.kubernetes)))(access!, config);
  let kube: ClusterSnapshot['kube'];
  let awsCluster: Awaited<ReturnType<typeof collectAwsCluster>> | undefined;
  try {
    [kube, awsCluster] = await Promise.all([
      collectKube(port, settings, config.kubernetes, {
        ...(opts.kubeRetry ? { retry: opts.kubeRetry } : {}),
        ...(aws.cluster.status === 'ok' && aws.cluster.value.authenticationMode
          ? { authenticationMode: aws.cluster.value.authenticationMode }
          : {}),
      }),
      clients ? collectAwsCluster(clients, cluster.name, settings) : Promise.resolve(undefined),
    ]);
    assertReachable(kube, cluster.name);
    const reviews = await collectAccessReviews(
      port,
      { ...base(), kube, aws },
      {
        enabled: config.kubernetes.accessReviews,
        max: config.kubernetes.maxAccessReviews,
        concurrency: config.kubernetes.secretConcurrency,
      },
    );
    if (reviews) kube.accessReviews = reviews;
  } finally {
    // The port holds a connection pool to this cluster's API server; nothing else uses it.
    await port.close?.();
  }
  if (clients && awsCluster) {
    Object.assign(aws, awsCluster);
    const profiles =
      awsCluster.fargateProfiles.status === 'ok' ? awsCluster.fargateProfiles.value : [];
    const eks = aws.cluster.status === 'ok' ? aws.cluster.value : undefined;
    Object.assign(aws, await collectAwsNetwork(clients, eks, kube, profiles));
  }

  return {
    ...base(),
    kube,
    aws,
    stats: {
      kubeListPages: port.counters.listPages,
      kubeGets: port.counters.gets,
      ...(port.counters.reviews ? { kubeAccessReviews: port.counters.reviews } : {}),
      awsCalls: clients?.calls.count ?? 0,
      durationMs: Math.round(performance.now() - startedMs),
    },
  };
}

/**
 * When every list failed the same way for a reason that is about the cluster, not a kind
 * (credentials rejected, TLS, network), report the cluster once instead of once per kind.
 */
function assertReachable(kube: ClusterSnapshot['kube'], cluster: string): void {
  const results = Object.entries(kube)
    .filter(([k]) => k !== 'secrets')
    .map(([, v]) => v as Collected<unknown>);
  const errors = results.flatMap((r) => (r.status === 'error' ? [r.error] : []));
  if (
    errors.length === 0 ||
    errors.length < results.filter((r) => r.status !== 'not-installed').length
  )
    return;
  const first = errors[0]!;
  if (
    ['Unauthorized', 'TLS', 'Network', 'Timeout'].includes(first.code) &&
    errors.every((e) => e.code === first.code)
  ) {
    throw new CollectionError(
      `the Kubernetes API of ${cluster} answered every request with ${first.code}${first.status ? ` (HTTP ${first.status})` : ''}: ${first.message}`,
      first.code,
    );
  }
}
