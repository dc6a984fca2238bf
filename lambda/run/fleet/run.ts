/**
 * The fleet path's steps over shared modules: discover (the run plan -> cluster list), then per
 * Map iteration audit one cluster (collect + checks -> that cluster's report in S3) and deliver
 * that cluster (drift, archive, metrics, SNS, Security Hub, Datadog -> a small result), and
 * finish the run (the iterations' small results -> counts, run summary, run metrics). The state
 * machine does the fan-out; no step holds a loop over the fleet's reports, and every step's
 * memory and time are those of one cluster (finish: of one small result per cluster).
 *
 * Between steps only small JSON travels (Step Functions caps state at 256 KB): the cluster list,
 * every report and the Distributed Map's results live under `runs/<runId>/` of the archive bucket.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { auditCluster, BUDGET_MESSAGE_ID, outOfTimeReport, type AuditDeps } from '../audit.js';
import { CLUSTER_UNREACHABLE_CHECK_ID } from '../../checks/check.js';
import { ConfigError, type AuditorConfig, type ClusterConfig } from '../../config/config.js';
import {
  deliverCluster,
  finishDelivery,
  openDelivery,
  sendIntegrations,
  type ClusterSummary,
  type DeliverDeps,
  type HandlerSummary,
  type RunTally,
} from '../../deliver/deliver.js';
import { findingId, type Finding } from '../../config/findings.js';
import type { IntegrationOutcome } from '../../deliver/integrations.js';
import { ReportArchive, archiveSegment, s3Uri } from '../../deliver/archive.js';
import { readPreviousCopyRecord } from '../../deliver/previous-copies.js';
import type { NotifyPolicy } from '../../deliver/publish.js';
import { safeJsonStringify } from '../../report/render-json.js';
import { singleLine } from '../../checks/sanitize.js';
import { failingCounts } from '../../report/summary.js';
import type { ClusterReport, ClusterStatus } from '../../report/types.js';
import { planClusterTask, type RunPlan } from '../plan.js';
import { discoveryReport, type DiscoveryFailure } from './discovery.js';
import { deliveryMarks } from '../../deliver/marks.js';
import { BudgetExhausted, withinBudget, type TimeBudget } from '../../config/budget.js';

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
  /**
   * Names listed in more than one region this run (discovered clusters included): their archive
   * keys carry the region. Known to every iteration without reading the whole list.
   */
  clashes?: string[];
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

/**
 * One Map iteration's delivery: the state machine joins the item with the audit's outcome (its
 * pointer, or the Catch's failure marker).
 */
export interface DeliverClusterTask {
  step: 'deliver-cluster';
  run: FleetRun;
  cluster: ClusterConfig;
  audit: ClusterResult;
}

/** What one iteration leaves for the finish step: one cluster's summary line, a few hundred bytes. */
export type ClusterDelivered =
  | {
      ok: true;
      summary: ClusterSummary;
      /** Steps that failed for this cluster (the run fails in the finish step). */
      failures: string[];
      unaudited: boolean;
      warnings: string[];
      integrations?: Pick<IntegrationOutcome, 'securityHub' | 'datadog'>;
    }
  /** The Catch's marker: the delivery itself failed after its retries. */
  | { ok: false; cluster: ClusterConfig; failure?: { Error?: string; Cause?: string } };

/** Where the Distributed Map's ResultWriter put the iterations' results (the Map's output). */
export interface ResultWriterOutput {
  MapRunArn?: string;
  ResultWriterDetails: { Bucket: string; Key: string };
}

export interface FinishInput {
  run: FleetRun;
  count: number;
  items: { bucket: string; key: string };
  /** The inline Map's results, in state. */
  results?: ClusterDelivered[];
  /** The Distributed Map's results, written to S3 by its ResultWriter. */
  resultWriter?: ResultWriterOutput;
  discoveryFailures?: DiscoveryFailure[];
}
/** @deprecated the finish step's input; kept under the old name for the bench and callers. */
export type DeliverInput = FinishInput;

export interface DeliverResult {
  ok: true;
  runId: string;
  clusters: number;
  statuses: Record<ClusterStatus, number>;
  published: number;
  /** The full run summary (HandlerSummary) as JSON in S3. */
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

export function isDeliverClusterTask(event: unknown): event is DeliverClusterTask {
  return (
    !!event && typeof event === 'object' && (event as { step?: unknown }).step === 'deliver-cluster'
  );
}

/** The archive key segment of a cluster of this run (a name listed twice carries its region). */
export function runSegment(run: FleetRun, cluster: { name: string; region?: string }): string {
  // archiveSegment adds the region to a name that appears more than once in the list it is given.
  const clashes = run.clashes ?? [];
  return archiveSegment(cluster, [...clashes, ...clashes]);
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

/** Writes the planned run's cluster list where the Map reads it; returns what the Map needs. */
export async function discoverRun(
  deps: FleetDeps,
  plan: RunPlan,
  opts: { inlineMaxClusters?: number } = {},
): Promise<DiscoverResult> {
  const { config } = plan;
  const bucket = requireBucket(config);
  const clashes = namesListedTwice(plan.config.clusters);
  const run: FleetRun = {
    runId: deps.newRunId(),
    trigger: plan.trigger === 'on-demand' ? 'on-demand' : 'scheduled',
    dryRun: plan.dryRun,
    notify: plan.notify,
    bucket,
    ...(clashes.length ? { clashes } : {}),
  };
  const items = { bucket, key: runKey(run.runId, 'clusters.json') };
  // Bounded: the failures travel in state to the finish step.
  const failures = plan.discoveryFailures.slice(0, MAX_DISCOVERY_FAILURES);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: items.key,
      Body: JSON.stringify(plan.clusters),
      ContentType: 'application/json',
    }),
  );
  const inline = plan.clusters.length <= (opts.inlineMaxClusters ?? config.fleet.inlineMaxClusters);
  return {
    run,
    count: plan.clusters.length,
    mode: inline ? 'inline' : 's3',
    ...(inline ? { clusters: plan.clusters } : {}),
    items,
    ...(failures.length ? { discoveryFailures: failures } : {}),
  };
}

function namesListedTwice(clusters: readonly ClusterConfig[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const c of clusters) (seen.has(c.name) ? twice : seen).add(c.name);
  return [...twice];
}

export { mergeClusters } from '../plan.js';

// ---------------------------------------------------------------------------------------------
// audit one cluster
// ---------------------------------------------------------------------------------------------

export async function auditClusterTask(
  deps: FleetDeps & { audit: Omit<AuditDeps, 'newRunId'> },
  config: AuditorConfig,
  task: ClusterTask,
  budget: TimeBudget,
): Promise<ClusterResult> {
  const { cluster, checks } = planClusterTask({
    config,
    cluster: task.cluster,
    now: deps.audit.now(),
    checks: deps.audit.checks,
  });
  const startedAt = new Date().toISOString();
  // Read before collection, so the previous report is gone when the snapshot is built.
  const region = cluster.region ?? config.region;
  const previousRun = config.archiveBucket
    ? await readPreviousCopyRecord(
        new ReportArchive(deps.s3, config.archiveBucket),
        runSegment(task.run, { name: cluster.name, ...(region ? { region } : {}) }),
        { name: cluster.name, ...(region ? { region } : {}) },
      )
    : undefined;
  let report: ClusterReport;
  try {
    report = await withinBudget(
      auditCluster(cluster, config, {
        ...deps.audit,
        checks,
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
// deliver one cluster (inside its Map iteration)
// ---------------------------------------------------------------------------------------------

export interface DeliverContextOptions {
  functionName?: string;
  region?: string;
  invokedFunctionArn?: string;
}

/**
 * An iteration's result stays under this many bytes (long failure and warning lines are cut, the
 * full lines are in the function's log): the inline Map keeps one per cluster in state.
 */
export const MAX_CLUSTER_RESULT_BYTES = 1024;
const MAX_LINES_PER_CLUSTER = 2;
const MAX_LINE_CHARS = 160;

/**
 * Delivers one cluster of the run: its report (or, when its audit failed, an ERROR report
 * saying so), drift against its previous report, archive, metrics, SNS, Security Hub and
 * Datadog. Idempotent on retry: each effect is marked once per run and cluster
 * (lambda/deliver/marks.ts), and an attempt that finds the whole delivery done returns its result.
 */
export async function deliverClusterTask(
  deps: FleetDeps & DeliverDeps,
  config: AuditorConfig,
  task: DeliverClusterTask,
  budget: TimeBudget,
  opts: DeliverContextOptions = {},
): Promise<ClusterDelivered> {
  const { run } = task;
  const cluster = task.cluster;
  const marks = deliveryMarks(deps.s3, run.bucket, runKey(run.runId, 'delivered/'));
  const segment = runSegment(run, { name: cluster.name, region: cluster.region ?? config.region });
  const done = await marks.finished<ClusterDelivered>(segment);
  if (done) {
    deps.logger.info('cluster already delivered by an earlier attempt', { segment });
    return done;
  }
  const report = await clusterReportOf(deps, config, task, budget);
  const ctx = openDelivery(
    deps,
    config,
    {
      runId: run.runId,
      trigger: run.trigger,
      dryRun: run.dryRun,
      notify: run.notify,
      budget,
      ...opts,
    },
    { guard: marks, names: [...(run.clashes ?? []), ...(run.clashes ?? [])] },
  );
  const outcome = await deliverCluster(ctx, report);
  let integrations: RunTally['integrations'];
  if (!run.dryRun && (config.securityHub?.enabled || config.datadog)) {
    const claimed = await marks.claim(segment, 'integrations');
    if (!claimed) {
      const sent = await sendIntegrations(
        ctx,
        {
          runId: run.runId,
          trigger: run.trigger,
          startedAt: report.startedAt,
          finishedAt: report.finishedAt,
          clusters: [report],
        },
        outcome.drift ? { [report.name]: outcome.drift } : {},
        { [report.name]: outcome.summary.archive },
      );
      integrations = {
        ...(sent.securityHub ? { securityHub: sent.securityHub } : {}),
        ...(sent.datadog ? { datadog: sent.datadog } : {}),
      };
      await marks.record(segment, 'integrations', integrations);
    } else {
      integrations = claimed.recorded as typeof integrations;
    }
  }
  const result: ClusterDelivered = {
    ok: true,
    summary: outcome.summary,
    failures: boundedLines(outcome.failures),
    unaudited: outcome.unaudited,
    warnings: boundedLines(ctx.warnings),
    ...(integrations ? { integrations: boundedIntegrations(integrations) } : {}),
  };
  await marks.finish(segment, result);
  return result;
}

/** At most two lines of a few words each, and how many more there were. */
function boundedLines(lines: readonly string[]): string[] {
  const cut = lines
    .slice(0, MAX_LINES_PER_CLUSTER)
    .map((l) => (l.length > MAX_LINE_CHARS ? `${l.slice(0, MAX_LINE_CHARS - 1)}…` : l));
  if (lines.length > MAX_LINES_PER_CLUSTER) {
    cut.push(`… and ${lines.length - MAX_LINES_PER_CLUSTER} more (see the function's log)`);
  }
  return cut;
}

/** Counts only: the refused findings' details are in the function's log. */
function boundedIntegrations(i: NonNullable<RunTally['integrations']>): RunTally['integrations'] {
  return {
    ...(i.securityHub
      ? { securityHub: { ...i.securityHub, failed: i.securityHub.failed.slice(0, 1) } }
      : {}),
    ...(i.datadog ? { datadog: { ...i.datadog, failed: boundedLines(i.datadog.failed) } } : {}),
  };
}

async function clusterReportOf(
  deps: FleetDeps & DeliverDeps,
  config: AuditorConfig,
  task: DeliverClusterTask,
  budget: TimeBudget,
): Promise<ClusterReport> {
  const { run, cluster, audit } = task;
  if (!audit?.ok) return missingReport(cluster, config, run, audit, false);
  if (budget.exhausted()) return missingReport(cluster, config, run, undefined, true);
  try {
    return await readJson<ClusterReport>(deps.s3, run.bucket, audit.key);
  } catch (err) {
    deps.logger.warn('cluster report unreadable', {
      cluster: cluster.name,
      error: (err as Error).message,
    });
    return missingReport(cluster, config, run, undefined, false);
  }
}

// ---------------------------------------------------------------------------------------------
// finish the run
// ---------------------------------------------------------------------------------------------

const MAX_RUN_WARNINGS = 100;

/**
 * The last step: folds the iterations' small results (in state, or the files the Distributed
 * Map's ResultWriter wrote) into the run's counts and summary, delivers the discovery failures
 * as one report, records the run's metrics, and fails the run when any cluster's delivery failed.
 */
export async function finishRun(
  deps: FleetDeps & DeliverDeps,
  config: AuditorConfig,
  input: FinishInput,
  budget: TimeBudget,
  opts: DeliverContextOptions = {},
): Promise<DeliverResult> {
  const { run } = input;
  const warnings = new Set<string>();
  const tally: RunTally = { summaries: [], failures: [], unaudited: [], warnings: [] };
  const fold = (r: ClusterDelivered | undefined, item: unknown, failure?: string) => {
    if (!r || !r.ok) {
      const c = (r && !r.ok ? r.cluster : (item as { cluster?: ClusterConfig })?.cluster) ?? {
        name: 'unknown',
      };
      const why = r && !r.ok && r.failure ? r.failure : undefined;
      tally.failures.push(
        `cluster ${c.name}: not delivered: ${singleLine(failure ?? `${why?.Error ?? 'Error'}: ${(why?.Cause ?? '').slice(0, 300)}`)}`,
      );
      return;
    }
    tally.summaries.push(r.summary);
    tally.failures.push(...r.failures);
    if (r.unaudited) tally.unaudited.push(r.summary.name);
    for (const w of r.warnings) if (warnings.size < MAX_RUN_WARNINGS) warnings.add(w);
    if (r.integrations) tally.integrations = addIntegrations(tally.integrations, r.integrations);
  };
  if (input.results) for (const r of input.results) fold(r, undefined);
  if (input.resultWriter) await foldResultFiles(deps.s3, input.resultWriter, fold);

  if (input.discoveryFailures?.length) {
    const failed = discoveryReport(input.discoveryFailures, new Date().toISOString());
    const ctx = openDelivery(deps, config, {
      runId: run.runId,
      trigger: run.trigger,
      dryRun: run.dryRun,
      notify: run.notify,
      budget,
      ...opts,
    });
    const outcome = await deliverCluster(ctx, failed);
    fold(
      {
        ok: true,
        summary: outcome.summary,
        failures: outcome.failures,
        unaudited: outcome.unaudited,
        warnings: ctx.warnings,
      },
      undefined,
    );
  }
  if (tally.summaries.length + tally.failures.length === 0 && input.count > 0) {
    tally.failures.push(`run ${run.runId}: no cluster result reached the finish step`);
  }
  tally.warnings = [...warnings];
  const summary: HandlerSummary = finishDelivery(deps, config, run, tally);
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

/** A ResultWriter manifest (Step Functions: "Processing Distributed Map results"). */
interface ResultManifest {
  ResultFiles?: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string }[]>>;
}

/** One child execution in a ResultWriter file. */
interface ResultEntry {
  Status?: string;
  Input?: string;
  Output?: string;
  Error?: string;
  Cause?: string;
}

/** Reads the result files one at a time; each child execution's result is folded and let go. */
async function foldResultFiles(
  s3: S3Client,
  where: ResultWriterOutput,
  fold: (r: ClusterDelivered | undefined, item: unknown, failure?: string) => void,
): Promise<void> {
  const { Bucket, Key } = where.ResultWriterDetails;
  const manifest = await readJson<ResultManifest>(s3, Bucket, Key);
  const files = manifest.ResultFiles ?? {};
  for (const status of ['SUCCEEDED', 'FAILED', 'PENDING'] as const) {
    for (const file of files[status] ?? []) {
      const entries = await readJson<ResultEntry[]>(s3, Bucket, file.Key);
      for (const e of entries) {
        const item = parseOr(e.Input);
        if (e.Status === 'SUCCEEDED') fold(parseOr(e.Output) as ClusterDelivered, item);
        else {
          fold(
            undefined,
            item,
            `its Map iteration ended ${e.Status ?? status} (${e.Error ?? 'no error'}: ${(e.Cause ?? '').slice(0, 300)})`,
          );
        }
      }
    }
  }
}

function parseOr(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sums the per-cluster Security Hub and Datadog outcomes (counts add, failure lists join). */
function addIntegrations(
  a: RunTally['integrations'],
  b: NonNullable<RunTally['integrations']>,
): NonNullable<RunTally['integrations']> {
  const out: NonNullable<RunTally['integrations']> = { ...a };
  if (b.securityHub) {
    const s = out.securityHub;
    out.securityHub = s
      ? {
          ...s,
          imported: s.imported + b.securityHub.imported,
          archived: s.archived + b.securityHub.archived,
          calls: s.calls + b.securityHub.calls,
          failed: [...s.failed, ...b.securityHub.failed].slice(0, MAX_RUN_WARNINGS),
        }
      : b.securityHub;
  }
  if (b.datadog) {
    const d = out.datadog;
    out.datadog = d
      ? {
          ...d,
          events: d.events + b.datadog.events,
          series: d.series + b.datadog.series,
          failed: [...d.failed, ...b.datadog.failed].slice(0, MAX_RUN_WARNINGS),
        }
      : b.datadog;
  }
  return out;
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
