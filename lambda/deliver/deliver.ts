/**
 * Delivering a run: per cluster report, read the previous report, diff, archive, measure, publish.
 * The single-process handler calls this after its audit; the fleet's deliver function calls it
 * with the per-cluster reports the audit-cluster invocations wrote. Publishers plug in as one
 * more entry of {@link DELIVERY_STEPS}; a failing step fails the run after every cluster was
 * handled, so alarms and the failure destination fire.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AuditorConfig, ClusterConfig } from '../config/config.js';
import type { Finding, Severity } from '../config/findings.js';
import type { TimeBudget } from '../config/budget.js';
import { errorFields, type AuditMetrics, type HandlerLogger } from './observability.js';
import {
  ARCHIVE_PREFIX,
  archiveSegment,
  ReportArchive,
  s3Uri,
  toArchived,
  type ArchiveResult,
  type LatestOutcome,
  type LatestRead,
} from './archive.js';
import { archiveHtml } from './archive-html.js';
import { findingSeries } from './datadog-series.js';
import type { MetricSeries } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/models/MetricSeries.js';
import { notAudited } from '../report/completeness.js';
import { diffReports } from '../report/diff.js';
import {
  deliverIntegrations,
  type IntegrationClients,
  type IntegrationOutcome,
} from './integrations.js';
import { decidePublish, publishCluster, type NotifyPolicy } from './publish.js';
import { toJsonReport, type JsonReport } from '../report/render-json.js';
import { failingCounts, isFailing, passedCount } from '../report/summary.js';
import type { AuditReport, ClusterReport, Drift } from '../report/types.js';

export interface ClusterSummary {
  name: string;
  region?: string;
  status: AuditReport['clusters'][number]['status'];
  /** Failing findings (FAIL or ERROR) per severity. */
  counts: Record<Severity, number>;
  passed: number;
  new: number;
  resolved: number;
  /** `s3://bucket/key` of this run's report; null when not archived (no bucket, dry run, error). */
  archive: string | null;
  latest?: LatestOutcome;
  published: boolean;
  publishReason: string;
}

export interface HandlerSummary {
  ok: true;
  runId: string;
  trigger: 'scheduled' | 'on-demand';
  dryRun: boolean;
  notify: NotifyPolicy;
  clusters: ClusterSummary[];
  /** `s3://bucket/reports/`, or null without an archive bucket. */
  archivePrefix: string | null;
  /** Messages published. */
  published: number;
  warnings: string[];
  /** When enabled: what reached Security Hub. */
  securityHub?: IntegrationOutcome['securityHub'];
  /** When configured: what reached Datadog. */
  datadog?: IntegrationOutcome['datadog'];
  /** Dry runs only: the full report with drift (PASS results dropped if it would exceed ~5 MB). */
  report?: JsonReport & { note?: string };
}

/** Thrown after every cluster was handled when any archive write or publish failed. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

/** What delivering needs besides the report. */
export interface DeliverDeps {
  s3: S3Client;
  sns: SNSClient;
  logger: HandlerLogger;
  metrics: AuditMetrics;
  /** Security Hub and Datadog clients, created on first use when the config enables them. */
  integrations?: IntegrationClients;
}

export interface DeliverOptions {
  runId: string;
  trigger: 'scheduled' | 'on-demand';
  dryRun: boolean;
  notify: NotifyPolicy;
  functionName?: string;
  region?: string;
  /** The invoked function's ARN: its account owns the Security Hub findings. */
  invokedFunctionArn?: string;
  /** Previous reports already read (see {@link readPrevious}); otherwise read per cluster. */
  previous?: Map<string, Promise<LatestRead>>;
  /** Stops before the invocation's deadline; clusters left over are failures of the run. */
  budget?: TimeBudget;
}

/** Lambda responses are limited to 6 MB; a dry-run report bigger than this loses its PASS rows. */
const MAX_INLINE_REPORT_BYTES = 5_000_000;

/**
 * Makes delivery idempotent when a cluster's delivery may run again for the same run (a retried
 * fleet Map iteration): each effect is claimed once per run and cluster, and the drift the first
 * attempt computed is the drift every attempt uses (the archive moved latest.json on since).
 * Without a guard (the direct handler, one process per run) every effect simply runs.
 */
export interface DeliveryGuard {
  /**
   * Claims `effect` for the cluster: undefined when this attempt is the first and goes ahead;
   * otherwise what the earlier attempt recorded (`{}` when it claimed and did not finish).
   */
  claim(segment: string, effect: string): Promise<undefined | { recorded?: unknown }>;
  /** Records the outcome of a claimed effect for later attempts. */
  record(segment: string, effect: string, value: unknown): Promise<void>;
  /** The drift saved by the first attempt; otherwise saves this one. Returns the one to use. */
  drift(segment: string, computed: () => Promise<SavedDrift>): Promise<SavedDrift>;
}

export interface SavedDrift {
  drift: Drift;
  etag?: string;
}

/** One run's shared state for the steps. */
export interface DeliveryContext {
  deps: DeliverDeps;
  config: AuditorConfig;
  options: DeliverOptions;
  archive: ReportArchive | undefined;
  /** Cluster names as configured (the archive key of a name listed in two regions differs). */
  names: readonly string[];
  warnings: string[];
  guard?: DeliveryGuard;
}

/** One cluster as it goes through the steps; each step reads what the earlier ones left. */
export interface ClusterDelivery {
  cluster: ClusterReport;
  segment: string;
  drift?: Drift;
  etag?: string;
  driftUnavailable?: string;
  archived?: ArchiveResult;
  decision: { publish: boolean; reason: string };
  sent: boolean;
}

/**
 * A delivery step. `run` throws to report a failure: the failure is logged with `failure` and
 * fails the run at the end, and the next steps still run for the cluster.
 */
export interface DeliveryStep {
  name: string;
  failure: string;
  run(ctx: DeliveryContext, d: ClusterDelivery): Promise<void> | void;
}

/**
 * Runs `effect` once per run and cluster under the context's guard: false when an earlier
 * attempt claimed it (then `earlier` gets what it recorded, if anything).
 */
async function once<T>(
  ctx: DeliveryContext,
  d: ClusterDelivery,
  name: string,
  effect: () => Promise<T>,
  earlier: (recorded: T | undefined) => void,
): Promise<void> {
  const claimed = await ctx.guard?.claim(d.segment, name);
  if (claimed) {
    earlier(claimed.recorded as T | undefined);
    return;
  }
  const value = await effect();
  await ctx.guard?.record(d.segment, name, value ?? true);
}

const driftStep: DeliveryStep = {
  name: 'drift',
  failure: 'previous report unreadable; drift unknown',
  async run(ctx, d) {
    const { archive } = ctx;
    if (!archive) {
      d.drift = diffReports(d.cluster, undefined);
      return;
    }
    const compute = async (): Promise<SavedDrift> => {
      const latest = await (ctx.options.previous?.get(d.segment) ??
        readForDrift(archive, d.segment));
      return {
        drift: diffReports(d.cluster, latest.report),
        ...(latest.etag ? { etag: latest.etag } : {}),
      };
    };
    try {
      const saved = ctx.guard ? await ctx.guard.drift(d.segment, compute) : await compute();
      d.etag = saved.etag;
      d.drift = saved.drift;
    } catch (err) {
      d.driftUnavailable = errorFields(err).errorMessage;
      throw err;
    }
  },
};

const archiveStep: DeliveryStep = {
  name: 'archive',
  failure: 'archive write failed',
  async run(ctx, d) {
    const { archive } = ctx;
    if (!archive || ctx.options.dryRun) return;
    const { runId, trigger } = ctx.options;
    await once(
      ctx,
      d,
      'archive',
      async () => {
        d.archived = await archive.write(
          d.segment,
          toArchived(d.cluster, { runId, trigger }, d.drift),
          d.etag,
          { updateLatest: !d.driftUnavailable },
        );
        if (d.archived.note) ctx.warnings.push(d.archived.note);
        const page = await archiveHtml(archive, d.archived, d.cluster, { runId, trigger }, d.drift);
        if (page.warning) ctx.warnings.push(page.warning);
        return d.archived;
      },
      (earlier) => {
        if (earlier && typeof earlier === 'object') {
          d.archived = earlier;
          return;
        }
        // Not known to be written: a failure of the run (never a silent gap in the archive).
        throw new Error(
          `an earlier attempt of this delivery claimed the archive write of run ${runId} and did not finish; check ${ARCHIVE_PREFIX}${d.segment}/ for the run's dated report`,
        );
      },
    );
  },
};

const metricsStep: DeliveryStep = {
  name: 'metrics',
  failure: 'metrics not recorded',
  async run(ctx, d) {
    if (ctx.options.dryRun) return;
    await once(
      ctx,
      d,
      'metrics',
      async () => ctx.deps.metrics.recordCluster(d.cluster, d.drift),
      () => undefined,
    );
  },
};

const snsStep: DeliveryStep = {
  name: 'sns',
  failure: 'publish failed',
  async run(ctx, d) {
    const { config, options } = ctx;
    d.decision = options.dryRun
      ? { publish: false, reason: 'dry run' }
      : !config.topicArn
        ? { publish: false, reason: 'no topicArn configured' }
        : decidePublish(options.notify, d.cluster, d.drift, config.minSeverity);
    const topicArn = config.topicArn;
    if (!d.decision.publish || !topicArn) return;
    await once(
      ctx,
      d,
      'sns',
      async () => {
        await publishCluster(ctx.deps.sns, d.cluster, d.drift, {
          topicArn,
          runId: options.runId,
          trigger: options.trigger,
          ...(d.archived ? { archiveLocation: d.archived.location } : {}),
          ...(options.functionName ? { functionName: options.functionName } : {}),
          ...(options.region ? { region: options.region } : {}),
          ...(d.driftUnavailable ? { driftUnavailable: d.driftUnavailable } : {}),
        });
        d.sent = true;
      },
      (earlier) => {
        // Claimed by an earlier attempt of this delivery: never sent twice.
        d.sent = earlier !== undefined;
        if (!d.sent) {
          // Whether it went out is unknown: a failure of the run, so an operator looks.
          throw new Error(
            `an earlier attempt of this delivery claimed the publish and did not finish; not sent again (it may or may not have reached ${topicArn})`,
          );
        }
        d.decision = {
          publish: true,
          reason: `${d.decision.reason} (published by an earlier attempt)`,
        };
      },
    );
  },
};

/**
 * Every cluster report goes through these, in order. Publishers (Security Hub, Datadog, an HTML
 * report beside the archived JSON) are added here: they read `d.cluster`, `d.drift` and
 * `d.archived`, never the checks.
 */
export const DELIVERY_STEPS: readonly DeliveryStep[] = [
  driftStep,
  archiveStep,
  metricsStep,
  snsStep,
];

/** Delivers the run's cluster reports; throws DeliveryError when any step failed for any cluster. */
export async function deliverRun(
  deps: DeliverDeps,
  config: AuditorConfig,
  report: AuditReport,
  options: DeliverOptions,
  steps: readonly DeliveryStep[] = DELIVERY_STEPS,
): Promise<HandlerSummary> {
  const { clusters, ...run } = report;
  const sources = clusters.map((c) => ({ name: c.name, load: async () => c }));
  return deliverReports(deps, config, run, sources, options, steps);
}

/** A cluster's report, read when its turn comes. */
export interface ClusterReportSource {
  name: string;
  load(): Promise<ClusterReport>;
}

/** Step 1: the run's shared state; warns once about what is not configured. */
export function openDelivery(
  deps: DeliverDeps,
  config: AuditorConfig,
  options: DeliverOptions,
  opts: {
    guard?: DeliveryGuard;
    /** Default: the configured clusters' names. */
    names?: readonly string[];
  } = {},
): DeliveryContext {
  const { logger } = deps;
  const bucket = config.archiveBucket;
  const ctx: DeliveryContext = {
    deps,
    config,
    options,
    archive: bucket ? new ReportArchive(deps.s3, bucket, logger) : undefined,
    names: opts.names ?? config.clusters.map((c) => c.name),
    warnings: [],
    ...(opts.guard ? { guard: opts.guard } : {}),
  };
  if (!ctx.archive) {
    ctx.warnings.push(
      'No archiveBucket configured: reports are not archived and there is no previous run to diff against, so every failing finding counts as new.',
    );
    logger.warn('no archive bucket configured; archive skipped');
  }
  if (!config.topicArn && options.notify !== 'never' && !options.dryRun) {
    ctx.warnings.push('No topicArn configured: nothing is published.');
    logger.warn('no topic configured; publishing skipped');
  }
  return ctx;
}

/** What delivering one cluster leaves for the run. */
export interface ClusterOutcome {
  summary: ClusterSummary;
  drift?: Drift;
  /** Steps that failed (the run fails once every cluster was handled). */
  failures: string[];
  /** The cluster could not be audited (the run is not a successful audit). */
  unaudited: boolean;
}

/** Step 2, per cluster: drift, archive, metrics, publish; then its summary line. */
export async function deliverCluster(
  ctx: DeliveryContext,
  cluster: ClusterReport,
  steps: readonly DeliveryStep[] = DELIVERY_STEPS,
): Promise<ClusterOutcome> {
  const { logger } = ctx.deps;
  const failures: string[] = [];
  const d: ClusterDelivery = {
    cluster,
    segment: archiveSegment(cluster, ctx.names),
    decision: { publish: false, reason: 'not decided' },
    sent: false,
  };
  for (const step of steps) {
    try {
      await step.run(ctx, d);
    } catch (err) {
      failures.push(`cluster ${cluster.name}: ${errorFields(err).errorMessage}`);
      logger.error(step.failure, errorFields(err));
    }
  }
  const summary: ClusterSummary = {
    name: cluster.name,
    ...(cluster.region ? { region: cluster.region } : {}),
    status: cluster.status,
    counts: failingCounts(cluster.findings),
    passed: passedCount(cluster),
    new: d.drift?.new.length ?? 0,
    resolved: d.drift?.resolved.length ?? 0,
    archive: d.archived?.location ?? null,
    ...(d.archived ? { latest: d.archived.latest } : {}),
    published: d.sent,
    publishReason: d.decision.reason,
  };
  logger.info('cluster reported', {
    status: summary.status,
    counts: summary.counts,
    passed: summary.passed,
    new: summary.new,
    resolved: summary.resolved,
    archive: summary.archive,
    latest: summary.latest,
    published: d.sent,
    publishReason: d.decision.reason,
  });
  return {
    summary,
    ...(d.drift ? { drift: d.drift } : {}),
    failures,
    unaudited: notAudited(cluster),
  };
}

/** Step 3 (when configured): Security Hub and Datadog for the clusters delivered. */
export async function sendIntegrations(
  ctx: DeliveryContext,
  report: AuditReport,
  drifts: Record<string, Drift>,
  archives: Record<string, string | null>,
  datadogSeries?: MetricSeries[],
): Promise<IntegrationOutcome> {
  const { deps, config, options } = ctx;
  const outcome = await deliverIntegrations(report, drifts, config, (deps.integrations ??= {}), {
    ...(config.datadog && datadogSeries ? { datadogSeries } : {}),
    ...(options.invokedFunctionArn ? { invokedFunctionArn: options.invokedFunctionArn } : {}),
    ...(options.region ? { region: options.region } : {}),
    archives,
    logger: deps.logger,
  });
  // Reported in the summary and logged as errors, but not a failed invocation: the report was
  // archived and alerted, and a retry would import and alert again.
  ctx.warnings.push(...outcome.warnings);
  return outcome;
}

/** What a run delivered, cluster by cluster, for {@link finishDelivery}. */
export interface RunTally {
  summaries: ClusterSummary[];
  failures: string[];
  unaudited: string[];
  warnings: string[];
  integrations?: Pick<IntegrationOutcome, 'securityHub' | 'datadog'>;
}

/**
 * Last step: fails the run (DeliveryError) when any cluster failed to archive or publish, else
 * the run summary; a run where every cluster was audited counts as AuditsSucceeded.
 */
export function finishDelivery(
  deps: Pick<DeliverDeps, 'logger' | 'metrics'>,
  config: Pick<AuditorConfig, 'archiveBucket'>,
  options: Pick<DeliverOptions, 'runId' | 'trigger' | 'dryRun' | 'notify'>,
  tally: RunTally,
): HandlerSummary {
  const { logger } = deps;
  const { runId, trigger, dryRun, notify } = options;
  if (tally.failures.length > 0) {
    logger.error('run failed to archive or publish', { failures: tally.failures });
    throw new DeliveryError(`Run ${runId}: ${tally.failures.join('; ')}`);
  }
  const published = tally.summaries.filter((s) => s.published).length;
  const bucket = config.archiveBucket;
  const result: HandlerSummary = {
    ok: true,
    runId,
    trigger,
    dryRun,
    notify,
    clusters: tally.summaries,
    archivePrefix: bucket ? s3Uri(bucket, ARCHIVE_PREFIX) : null,
    published,
    warnings: tally.warnings,
    ...(tally.integrations?.securityHub ? { securityHub: tally.integrations.securityHub } : {}),
    ...(tally.integrations?.datadog ? { datadog: tally.integrations.datadog } : {}),
  };
  // A cluster that could not be audited (every request refused, endpoint unreachable) is not a
  // successful audit: the no-success alarm must still fire for it.
  if (dryRun) {
    // Nothing recorded.
  } else if (tally.unaudited.length === 0) deps.metrics.recordRunSucceeded();
  else
    logger.warn('not a successful audit: clusters could not be audited', {
      unaudited: tally.unaudited,
    });
  logger.info('run finished', { published, clusters: tally.summaries.length });
  return result;
}

/**
 * Delivers cluster reports one at a time in one process. A fleet's reports are never all in
 * memory: each is loaded in its turn, and once delivered only its failing findings stay (for
 * Security Hub and Datadog, sent after the last cluster) with its Datadog series; a dry run keeps
 * whole reports for the inline report it returns.
 */
export async function deliverReports(
  deps: DeliverDeps,
  config: AuditorConfig,
  run: Omit<AuditReport, 'clusters'>,
  sources: readonly ClusterReportSource[],
  options: DeliverOptions,
  steps: readonly DeliveryStep[] = DELIVERY_STEPS,
): Promise<HandlerSummary> {
  const { logger } = deps;
  const ctx = openDelivery(deps, config, options);
  const tally: RunTally = { summaries: [], failures: [], unaudited: [], warnings: ctx.warnings };
  const drifts: Record<string, Drift> = {};
  // What is kept of each delivered cluster (see above).
  const kept: ClusterReport[] = [];
  const datadogSeries: MetricSeries[] = [];
  const integrate = !options.dryRun && Boolean(config.securityHub?.enabled || config.datadog);

  // The run started with its earliest cluster.
  let startedAt = run.startedAt;
  for (const [index, source] of sources.entries()) {
    if (options.budget?.exhausted()) {
      const left = sources.slice(index).map((c) => c.name);
      const where = `the deliver time budget ran out after ${index} of ${sources.length} clusters`;
      tally.failures.push(...left.map((name) => `cluster ${name}: not delivered: ${where}`));
      logger.error('time budget exhausted; clusters left undelivered', { undelivered: left });
      break;
    }
    logger.appendKeys({ cluster: source.name });
    let cluster: ClusterReport;
    try {
      cluster = await source.load();
    } catch (err) {
      tally.failures.push(
        `cluster ${source.name}: report unreadable: ${errorFields(err).errorMessage}`,
      );
      logger.error('cluster report unreadable', errorFields(err));
      logger.removeKeys(['cluster']);
      continue;
    }
    const outcome = await deliverCluster(ctx, cluster, steps);
    if (outcome.drift) drifts[cluster.name] = outcome.drift;
    tally.failures.push(...outcome.failures);
    tally.summaries.push(outcome.summary);
    if (outcome.unaudited) tally.unaudited.push(cluster.name);
    if (cluster.startedAt < startedAt) startedAt = cluster.startedAt;
    if (options.dryRun) kept.push(cluster);
    else if (integrate) {
      if (config.datadog) {
        const one = { ...run, startedAt, clusters: [cluster] };
        datadogSeries.push(...findingSeries(one, drifts, config.datadog.tags));
      }
      kept.push({ ...cluster, findings: cluster.findings.filter((f) => f.status !== 'PASS') });
    }
    logger.removeKeys(['cluster']);
  }

  if (integrate) {
    const archives = Object.fromEntries(tally.summaries.map((s) => [s.name, s.archive]));
    const report: AuditReport = { ...run, startedAt, clusters: kept };
    tally.integrations = await sendIntegrations(ctx, report, drifts, archives, datadogSeries);
  }
  const result = finishDelivery(deps, config, options, tally);
  if (options.dryRun) result.report = inlineReport({ ...run, startedAt, clusters: kept }, drifts);
  return result;
}

/**
 * Drift needs only the previous run's failing findings. latest.json holds every result (40 MB at
 * 5,000 namespaces): it is parsed finding by finding and only the failing ones are kept.
 */
export async function readForDrift(archive: ReportArchive, segment: string): Promise<LatestRead> {
  return archive.readLatest(segment, {
    keepFinding: (f) => isFailing(f as Pick<Finding, 'status'>),
  });
}

/**
 * The previous reports, read before the audit so their text and parsed objects come and go while
 * the heap holds neither a snapshot nor findings. Read failures are kept (not thrown) and reported
 * per cluster after the audit, as before.
 */
export async function readPrevious(
  archive: ReportArchive,
  config: AuditorConfig,
  clusters: ClusterConfig[],
  names: readonly string[],
): Promise<Map<string, Promise<LatestRead>>> {
  const previous = new Map<string, Promise<LatestRead>>();
  for (const c of clusters) {
    const segment = archiveSegment({ name: c.name, region: c.region ?? config.region }, names);
    const read = readForDrift(archive, segment);
    // Settled before the next read starts; awaited (and its error handled) in the cluster loop.
    await read.catch(() => undefined);
    previous.set(segment, read);
  }
  return previous;
}

function inlineReport(
  report: AuditReport,
  drifts: Record<string, Drift>,
): JsonReport & { note?: string } {
  const full = toJsonReport(report, drifts);
  if (Buffer.byteLength(JSON.stringify(full), 'utf8') <= MAX_INLINE_REPORT_BYTES) return full;
  return {
    ...full,
    clusters: full.clusters.map((c) => ({
      ...c,
      findings: c.findings.filter((f) => f.status !== 'PASS'),
    })),
    note: 'PASS results left out to stay under the Lambda response limit; run without dryRun to archive the full report.',
  };
}
