/**
 * Delivering a run: per cluster report, read the previous report, diff, archive, measure, publish.
 * The single-process handler calls this after its audit; the fleet's deliver function calls it
 * with the per-cluster reports the audit-cluster invocations wrote. Publishers plug in as one
 * more entry of {@link DELIVERY_STEPS}; a failing step fails the run after every cluster was
 * handled, so alarms and the failure destination fire.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AuditorConfig, ClusterConfig } from './config.js';
import type { Finding, Severity } from './findings.js';
import type { TimeBudget } from './fleet/budget.js';
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
} from './report/archive.js';
import { archiveHtml } from './report/archive-html.js';
import { findingSeries } from './report/datadog-series.js';
import type { MetricSeries } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/models/MetricSeries.js';
import { notAudited } from './report/completeness.js';
import { diffReports } from './report/diff.js';
import {
  deliverIntegrations,
  type IntegrationClients,
  type IntegrationOutcome,
} from './report/integrations.js';
import { decidePublish, publishCluster, type NotifyPolicy } from './report/publish.js';
import { toJsonReport, type JsonReport } from './report/render-json.js';
import { failingCounts, isFailing, passedCount } from './report/summary.js';
import type { AuditReport, ClusterReport, Drift } from './report/types.js';

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

/** One run's shared state for the steps. */
export interface DeliveryContext {
  deps: DeliverDeps;
  config: AuditorConfig;
  options: DeliverOptions;
  archive: ReportArchive | undefined;
  /** Cluster names as configured (the archive key of a name listed in two regions differs). */
  names: readonly string[];
  warnings: string[];
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

const driftStep: DeliveryStep = {
  name: 'drift',
  failure: 'previous report unreadable; drift unknown',
  async run(ctx, d) {
    if (!ctx.archive) {
      d.drift = diffReports(d.cluster, undefined);
      return;
    }
    try {
      const latest = await (ctx.options.previous?.get(d.segment) ??
        readForDrift(ctx.archive, d.segment));
      d.etag = latest.etag;
      d.drift = diffReports(d.cluster, latest.report);
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
    if (!ctx.archive || ctx.options.dryRun) return;
    const { runId, trigger } = ctx.options;
    d.archived = await ctx.archive.write(
      d.segment,
      toArchived(d.cluster, { runId, trigger }, d.drift),
      d.etag,
      { updateLatest: !d.driftUnavailable },
    );
    if (d.archived.note) ctx.warnings.push(d.archived.note);
    const page = await archiveHtml(ctx.archive, d.archived, d.cluster, { runId, trigger }, d.drift);
    if (page.warning) ctx.warnings.push(page.warning);
  },
};

const metricsStep: DeliveryStep = {
  name: 'metrics',
  failure: 'metrics not recorded',
  run(ctx, d) {
    if (!ctx.options.dryRun) ctx.deps.metrics.recordCluster(d.cluster, d.drift);
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
    if (!d.decision.publish || !config.topicArn) return;
    await publishCluster(ctx.deps.sns, d.cluster, d.drift, {
      topicArn: config.topicArn,
      runId: options.runId,
      trigger: options.trigger,
      ...(d.archived ? { archiveLocation: d.archived.location } : {}),
      ...(options.functionName ? { functionName: options.functionName } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(d.driftUnavailable ? { driftUnavailable: d.driftUnavailable } : {}),
    });
    d.sent = true;
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

/**
 * Delivers cluster reports one at a time. A fleet's reports are never all in memory: each is
 * loaded in its turn, and once delivered only its failing findings stay (for Security Hub and
 * Datadog, sent after the last cluster) with its Datadog series; a dry run keeps whole reports for
 * the inline report it returns.
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
  const { runId, trigger, dryRun, notify } = options;
  const failures: string[] = [];
  const warnings: string[] = [];
  const bucket = config.archiveBucket;
  const ctx: DeliveryContext = {
    deps,
    config,
    options,
    archive: bucket ? new ReportArchive(deps.s3, bucket, logger) : undefined,
    names: config.clusters.map((c) => c.name),
    warnings,
  };
  if (!ctx.archive) {
    warnings.push(
      'No archiveBucket configured: reports are not archived and there is no previous run to diff against, so every failing finding counts as new.',
    );
    logger.warn('no archive bucket configured; archive skipped');
  }
  if (!config.topicArn && notify !== 'never' && !dryRun) {
    warnings.push('No topicArn configured: nothing is published.');
    logger.warn('no topic configured; publishing skipped');
  }
  const summaries: ClusterSummary[] = [];
  const drifts: Record<string, Drift> = {};
  let published = 0;
  // What is kept of each delivered cluster (see above).
  const kept: ClusterReport[] = [];
  const datadogSeries: MetricSeries[] = [];
  const integrate = !dryRun && Boolean(config.securityHub?.enabled || config.datadog);
  const unaudited: string[] = [];

  // The run started with its earliest cluster.
  let startedAt = run.startedAt;
  for (const [index, source] of sources.entries()) {
    if (options.budget?.exhausted()) {
      const left = sources.slice(index).map((c) => c.name);
      const where = `the deliver time budget ran out after ${index} of ${sources.length} clusters`;
      failures.push(...left.map((name) => `cluster ${name}: not delivered: ${where}`));
      logger.error('time budget exhausted; clusters left undelivered', { undelivered: left });
      break;
    }
    logger.appendKeys({ cluster: source.name });
    let cluster: ClusterReport;
    try {
      cluster = await source.load();
    } catch (err) {
      failures.push(`cluster ${source.name}: report unreadable: ${errorFields(err).errorMessage}`);
      logger.error('cluster report unreadable', errorFields(err));
      logger.removeKeys(['cluster']);
      continue;
    }
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
    if (d.drift) drifts[cluster.name] = d.drift;
    if (d.sent) published += 1;
    if (cluster.startedAt < startedAt) startedAt = cluster.startedAt;
    if (notAudited(cluster)) unaudited.push(cluster.name);
    if (dryRun) kept.push(cluster);
    else if (integrate) {
      if (config.datadog) {
        const one = { ...run, startedAt, clusters: [cluster] };
        datadogSeries.push(...findingSeries(one, drifts, config.datadog.tags));
      }
      kept.push({ ...cluster, findings: cluster.findings.filter((f) => f.status !== 'PASS') });
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
    summaries.push(summary);
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
    logger.removeKeys(['cluster']);
  }

  let integrations: IntegrationOutcome | undefined;
  if (integrate) {
    const report: AuditReport = { ...run, startedAt, clusters: kept };
    integrations = await deliverIntegrations(report, drifts, config, (deps.integrations ??= {}), {
      ...(config.datadog ? { datadogSeries } : {}),
      ...(options.invokedFunctionArn ? { invokedFunctionArn: options.invokedFunctionArn } : {}),
      ...(options.region ? { region: options.region } : {}),
      archives: Object.fromEntries(summaries.map((s) => [s.name, s.archive])),
      logger,
    });
    // Reported in the summary and logged as errors, but not a failed invocation: the report was
    // archived and alerted, and a retry would import and alert again.
    warnings.push(...integrations.warnings);
  }

  if (failures.length > 0) {
    logger.error('run failed to archive or publish', { failures });
    throw new DeliveryError(`Run ${runId}: ${failures.join('; ')}`);
  }

  const result: HandlerSummary = {
    ok: true,
    runId,
    trigger,
    dryRun,
    notify,
    clusters: summaries,
    archivePrefix: bucket ? s3Uri(bucket, ARCHIVE_PREFIX) : null,
    published,
    warnings,
    ...(integrations?.securityHub ? { securityHub: integrations.securityHub } : {}),
    ...(integrations?.datadog ? { datadog: integrations.datadog } : {}),
  };
  // A cluster that could not be audited (every request refused, endpoint unreachable) is not a
  // successful audit: the no-success alarm must still fire for it.
  if (dryRun) result.report = inlineReport({ ...run, startedAt, clusters: kept }, drifts);
  else if (unaudited.length === 0) deps.metrics.recordRunSucceeded();
  else logger.warn('not a successful audit: clusters could not be audited', { unaudited });
  logger.info('run finished', { published, clusters: summaries.length });
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
