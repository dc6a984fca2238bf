/**
 * The fleet path's three steps over shared modules: discover (event + config -> cluster list),
 * audit one cluster (collect + checks -> that cluster's report in S3 -> a small pointer), deliver
 * (reports -> deliverReports). The state machine does the fan-out; these functions hold no loop over
 * clusters beyond reading what the Map produced.
 *
 * Between steps only small JSON travels (Step Functions caps state at 256 KB): the cluster list
 * and every report live under `runs/<runId>/` of the archive bucket.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  auditCluster,
  BUDGET_MESSAGE_ID,
  CLUSTER_UNREACHABLE_CHECK_ID,
  outOfTimeReport,
  type AuditDeps,
} from '../audit.js';
import {
  clusterConfigSchema,
  ConfigError,
  type AuditorConfig,
  type ClusterConfig,
} from '../config.js';
import {
  deliverReports,
  type ClusterReportSource,
  type DeliverDeps,
  type HandlerSummary,
} from '../deliver.js';
import { exampleEvent, parseEvent, selectClusters } from '../events.js';
import { findingId, type Finding } from '../findings.js';
import { ReportArchive, archiveSegment, s3Uri } from '../report/archive.js';
import { readPreviousCopyRecord } from '../report/previous-copies.js';
import type { NotifyPolicy } from '../report/publish.js';
import { safeJsonStringify } from '../report/render-json.js';
import { singleLine } from '../report/sanitize.js';
import { failingCounts } from '../report/summary.js';
import type { ClusterReport, ClusterStatus } from '../report/types.js';
import { discoveryReport, type Discovery, type DiscoveryFailure } from './discovery.js';
import { BudgetExhausted, withinBudget, type TimeBudget } from './budget.js';

export const RUNS_PREFIX = 'runs/';
const MAX_DISCOVERY_FAILURES = 50;
/** Message id of a cluster whose audit ran out of time (defined with the audit, shared). */
export { BUDGET_MESSAGE_ID };
/** Message id of a cluster whose audit left no report (failed, timed out, throttled out). */
export const NO_REPORT_MESSAGE_ID = 'no-report';

/** What every step knows about the run; fixed by discover. */
export interface FleetRun {
  runId: string;
  trigger: 'scheduled' | 'on-demand';
  dryRun: boolean;
  notify: NotifyPolicy;
  bucket: string;
}

export interface DiscoverResult {
  run: FleetRun;
  count: number;
  /** `inline`: `clusters` holds the list; `s3`: the Map reads `items` (the same JSON array). */
  mode: 'inline' | 's3';
  clusters?: ClusterConfig[];
  items: { bucket: string; key: string };
  discoveryFailures?: DiscoveryFailure[];
}

/** One Map item: the state machine's ItemSelector joins the run with one cluster of the list. */
export interface ClusterTask {
  run: FleetRun;
  cluster: ClusterConfig;
}

/** What audit-cluster returns (and the Catch's marker, with ok false). */
export type ClusterResult =
  | {
      ok: true;
      cluster: { name: string; region?: string };
      key: string;
      status: ClusterStatus;
      counts: Record<string, number>;
    }
  | { ok: false; cluster: ClusterConfig; failure?: { Error?: string; Cause?: string } };

export interface DeliverInput {
  run: FleetRun;
  count: number;
  items: { bucket: string; key: string };
  /** The Map's results (inline Map only; a Distributed Map's are not carried in state). */
  results?: ClusterResult[];
  discoveryFailures?: DiscoveryFailure[];
}

export interface DeliverResult {
  ok: true;
  runId: string;
  clusters: number;
  statuses: Record<ClusterStatus, number>;
  published: number;
  /** The full run summary (HandlerSummary, with the dry-run report) as JSON in S3. */
  summary: string;
  warnings: number;
}

/** Thrown by discover for an event it refuses; the execution fails with this error name. */
export class InvalidEventError extends Error {
  override name = 'InvalidEvent';
}

export function runKey(runId: string, rest: string): string {
  return `${RUNS_PREFIX}${runId.replace(/[^A-Za-z0-9._-]/g, '_')}/${rest}`;
}

/** name and region are unique in a configuration (the schema refuses duplicates). */
export function clusterReportKey(run: FleetRun, cluster: ClusterConfig, config: AuditorConfig) {
  const region = cluster.region ?? config.region ?? 'default-region';
  return runKey(run.runId, `clusters/${region}/${cluster.name}.json`);
}

export function isClusterTask(event: unknown): event is ClusterTask {
  if (!event || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return (
    Object.keys(e).length === 2 &&
    typeof e.run === 'object' &&
    e.run !== null &&
    typeof e.cluster === 'object' &&
    e.cluster !== null
  );
}

function requireBucket(config: AuditorConfig): string {
  if (!config.archiveBucket) {
    throw new ConfigError(
      'The fleet state machine needs archiveBucket in the configuration: the cluster list and the per-cluster reports travel through it. The CDK stack sets it; add it to the configuration.',
    );
  }
  return config.archiveBucket;
}

export interface FleetDeps {
  s3: S3Client;
  newRunId(): string;
}

// ---------------------------------------------------------------------------------------------
// discover
// ---------------------------------------------------------------------------------------------

export async function discoverRun(
  deps: FleetDeps,
  config: AuditorConfig,
  event: unknown,
  opts: { inlineMaxClusters?: number; discovered?: Discovery } = {},
): Promise<DiscoverResult> {
  const parsed = parseEvent(event);
  if (!parsed.ok) {
    throw new InvalidEventError(
      `Invalid event: ${parsed.issues.join('; ')}. Start the execution with an input such as ${JSON.stringify(exampleEvent(config))}.`,
    );
  }
  // Explicit entries win over discovered ones with the same name and region.
  const merged = mergeClusters(config.clusters, opts.discovered?.clusters ?? []);
  const selected = selectClusters({ ...config, clusters: merged }, parsed.event.clusters);
  if (!selected.ok) {
    throw new InvalidEventError(`Unknown cluster: ${selected.issues.join('; ')}`);
  }
  const bucket = requireBucket(config);
  const run: FleetRun = {
    runId: deps.newRunId(),
    trigger: parsed.trigger,
    dryRun: parsed.event.dryRun ?? false,
    notify: parsed.event.notify ?? config.notify,
    bucket,
  };
  const items = { bucket, key: runKey(run.runId, 'clusters.json') };
  // Bounded: the failures travel in state to the deliver step.
  const failures = (opts.discovered?.failures ?? []).slice(0, MAX_DISCOVERY_FAILURES);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: items.key,
      Body: JSON.stringify(selected.clusters),
      ContentType: 'application/json',
    }),
  );
  const inline =
    selected.clusters.length <= (opts.inlineMaxClusters ?? config.fleet.inlineMaxClusters);
  return {
    run,
    count: selected.clusters.length,
    mode: inline ? 'inline' : 's3',
    ...(inline ? { clusters: selected.clusters } : {}),
    items,
    ...(failures.length ? { discoveryFailures: failures } : {}),
  };
}

export function mergeClusters(
  explicit: readonly ClusterConfig[],
  discovered: readonly ClusterConfig[],
): ClusterConfig[] {
  const key = (c: ClusterConfig) => `${c.region ?? ''}/${c.name}`;
  const byKey = new Map<string, ClusterConfig>();
  for (const c of discovered) byKey.set(key(c), c);
  for (const c of explicit) byKey.set(key(c), { ...byKey.get(key(c)), ...c });
  return [...byKey.values()];
}

// ---------------------------------------------------------------------------------------------
// audit one cluster
// ---------------------------------------------------------------------------------------------

export async function auditClusterTask(
  deps: FleetDeps & { audit: Omit<AuditDeps, 'newRunId'> },
  config: AuditorConfig,
  task: ClusterTask,
  budget: TimeBudget,
): Promise<ClusterResult> {
  const parsed = clusterConfigSchema.safeParse(task.cluster);
  if (!parsed.success) {
    throw new ConfigError(
      `Map item is not a cluster entry: ${singleLine(parsed.error.message)}. The list is written by the discover step; start a new execution.`,
    );
  }
  const cluster = parsed.data;
  const startedAt = new Date().toISOString();
  // Read before collection, so the previous report is gone when the snapshot is built.
  const region = cluster.region ?? config.region;
  const previousRun = config.archiveBucket
    ? await readPreviousCopyRecord(
        new ReportArchive(deps.s3, config.archiveBucket),
        archiveSegment(
          { name: cluster.name, region },
          config.clusters.map((c) => c.name),
        ),
        { name: cluster.name, ...(region ? { region } : {}) },
      )
    : undefined;
  let report: ClusterReport;
  try {
    report = await withinBudget(
      auditCluster(cluster, config, {
        ...deps.audit,
        newRunId: () => task.run.runId,
        ...(previousRun ? { previousRun: async () => previousRun } : {}),
      }),
      budget,
      'collection and checks',
    );
  } catch (err) {
    if (!(err instanceof BudgetExhausted)) throw err;
    report = outOfTimeReport(cluster, config, { now: () => new Date() }, err, {
      started: true,
      startedAt,
    });
  }
  const key = clusterReportKey(task.run, cluster, config);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: task.run.bucket,
      Key: key,
      Body: safeJsonStringify(report),
      ContentType: 'application/json',
    }),
  );
  return {
    ok: true,
    cluster: { name: cluster.name, ...(report.region ? { region: report.region } : {}) },
    key,
    status: report.status,
    counts: failingCounts(report.findings),
  };
}

// ---------------------------------------------------------------------------------------------
// deliver
// ---------------------------------------------------------------------------------------------

export async function deliverFleetRun(
  deps: FleetDeps & DeliverDeps,
  config: AuditorConfig,
  input: DeliverInput,
  budget: TimeBudget,
  opts: { functionName?: string; region?: string; readConcurrency?: number } = {},
): Promise<DeliverResult> {
  const { run } = input;
  const clusters = await readJson<ClusterConfig[]>(deps.s3, input.items.bucket, input.items.key);
  const failures = new Map<string, ClusterResult>();
  for (const r of input.results ?? []) {
    if (!r.ok) failures.set(`${r.cluster.region ?? ''}/${r.cluster.name}`, r);
  }
  const read = async (cluster: ClusterConfig): Promise<ClusterReport> => {
    const failed = failures.get(`${cluster.region ?? ''}/${cluster.name}`);
    if (failed || budget.exhausted()) {
      return missingReport(cluster, config, run, failed, budget.exhausted());
    }
    try {
      return await readJson<ClusterReport>(
        deps.s3,
        run.bucket,
        clusterReportKey(run, cluster, config),
      );
    } catch (err) {
      deps.logger.warn('cluster report unreadable', {
        cluster: cluster.name,
        error: (err as Error).message,
      });
      return missingReport(cluster, config, run, undefined, false);
    }
  };
  // Reports are read a few ahead of the one being delivered, and each is let go once delivered:
  // a fleet's reports are never all in memory at once.
  const ahead = Math.max(1, opts.readConcurrency ?? 4);
  const reads = new Map<number, Promise<ClusterReport>>();
  const sources: ClusterReportSource[] = clusters.map((cluster, index) => ({
    name: cluster.name,
    async load() {
      for (let i = index; i < Math.min(clusters.length, index + ahead); i++) {
        if (!reads.has(i)) reads.set(i, read(clusters[i]!));
      }
      const report = await reads.get(index)!;
      reads.delete(index);
      return report;
    },
  }));
  if (input.discoveryFailures?.length) {
    const failed = discoveryReport(input.discoveryFailures, new Date().toISOString());
    sources.push({ name: failed.name, load: async () => failed });
  }
  // The run starts with its earliest cluster: deliverReports moves startedAt back as they load.
  const now = new Date().toISOString();
  const header = { runId: run.runId, startedAt: now, finishedAt: now, trigger: run.trigger };
  // The run's list names the clusters (discovered ones included) whose archive keys may clash.
  const summary: HandlerSummary = await deliverReports(
    deps,
    { ...config, clusters },
    header,
    sources,
    {
      runId: run.runId,
      trigger: run.trigger,
      dryRun: run.dryRun,
      notify: run.notify,
      budget,
      ...(opts.functionName ? { functionName: opts.functionName } : {}),
      ...(opts.region ? { region: opts.region } : {}),
    },
  );
  // The summary (with a dry run's whole report) may exceed what a state can hold.
  const summaryKey = runKey(run.runId, 'summary.json');
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: run.bucket,
      Key: summaryKey,
      Body: safeJsonStringify(summary),
      ContentType: 'application/json',
    }),
  );
  const statuses: Record<ClusterStatus, number> = { PASS: 0, FAIL: 0, ERROR: 0 };
  for (const c of summary.clusters) statuses[c.status] += 1;
  return {
    ok: true,
    runId: run.runId,
    clusters: summary.clusters.length,
    statuses,
    published: summary.published,
    summary: s3Uri(run.bucket, summaryKey),
    warnings: summary.warnings.length,
  };
}

function missingReport(
  cluster: ClusterConfig,
  config: AuditorConfig,
  run: FleetRun,
  failed: ClusterResult | undefined,
  outOfTime: boolean,
): ClusterReport {
  const region = cluster.region ?? config.region;
  const resource = { kind: 'Cluster', name: cluster.name };
  const failure = failed && !failed.ok ? failed.failure : undefined;
  const why = failure
    ? `its audit failed (${singleLine(failure.Error ?? 'Error')}: ${singleLine((failure.Cause ?? '').slice(0, 300))})`
    : outOfTime
      ? 'the deliver time budget ran out before its report was read'
      : 'no report was written (the audit invocation failed or timed out; see the execution history)';
  const now = new Date().toISOString();
  const finding: Finding = {
    id: findingId(CLUSTER_UNREACHABLE_CHECK_ID, cluster.name, resource, NO_REPORT_MESSAGE_ID),
    checkId: CLUSTER_UNREACHABLE_CHECK_ID,
    cluster: cluster.name,
    severity: 'critical',
    status: 'ERROR',
    resource,
    messageId: NO_REPORT_MESSAGE_ID,
    message: `Cluster ${cluster.name}${region ? ` (${region})` : ''} was not audited in run ${run.runId}: ${why}.`,
    remediation:
      "Open the state machine execution, find this cluster's Map iteration and read the audit function's error and log; re-run this cluster with an on-demand execution once fixed.",
  };
  return {
    name: cluster.name,
    ...(region ? { region } : {}),
    status: 'ERROR',
    startedAt: now,
    finishedAt: now,
    findings: [finding],
    errors: [
      {
        source: 'aws',
        kind: 'cluster',
        name: cluster.name,
        code: failure?.Error ?? 'NoReport',
        message: why,
      },
    ],
    stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
  };
}

async function readJson<T>(s3: S3Client, bucket: string, key: string): Promise<T> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = await res.Body?.transformToString('utf8');
  if (text === undefined) throw new Error(`${s3Uri(bucket, key)} has no body`);
  return JSON.parse(text) as T;
}
