/**
 * Lambda entry point. Scheduled runs (EventBridge Scheduler) audit every configured cluster;
 * on-demand runs (a console test event) may pick clusters, override the notify policy, or dry-run.
 * Per cluster: read the previous report, diff, archive, then publish; a failure to archive or
 * publish fails the invocation (after every cluster was handled) so alarms and the failure
 * destination fire.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { newRunId, runAudit, type AuditDeps, type AuditLogger } from './audit.js';
import { AWS_MAX_ATTEMPTS } from './aws/clients.js';
import { CHECKS } from './checks/index.js';
import { collectCluster } from './collect.js';
import {
  assertSuppressions,
  ConfigError,
  notifyPolicySchema,
  parseConfigText,
  type AuditorConfig,
  type ClusterConfig,
} from './config.js';
import type { Severity } from './findings.js';
import {
  auditMetrics,
  errorFields,
  handlerLogger,
  type AuditMetrics,
  type HandlerLogger,
} from './observability.js';
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
import { notAudited } from './report/completeness.js';
import { archiveHtml } from './report/archive-html.js';
import { diffReports } from './report/diff.js';
import {
  deliverIntegrations,
  type IntegrationClients,
  type IntegrationOutcome,
} from './report/integrations.js';
import { decidePublish, publishCluster, type NotifyPolicy } from './report/publish.js';
import { toJsonReport, type JsonReport } from './report/render-json.js';
import { singleLine } from './report/sanitize.js';
import { failingCounts, isFailing, passedCount } from './report/summary.js';
import type { AuditReport, Drift } from './report/types.js';

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/** The parts of the Lambda context the handler reads (no @types/aws-lambda dependency). */
export interface LambdaContextLike {
  functionName?: string;
  awsRequestId?: string;
  /** Its account owns the Security Hub findings. */
  invokedFunctionArn?: string;
}

export const ON_DEMAND_FIELDS = ['clusters', 'notify', 'dryRun'] as const;

export const onDemandEventSchema = z
  .object({
    clusters: z
      .array(z.string({ error: 'must be a cluster name (a string)' }), {
        error: 'must be a list of cluster names, e.g. ["golang-cluster"]',
      })
      .min(1, 'list at least one cluster name, or leave "clusters" out to audit all of them')
      .optional(),
    notify: notifyPolicySchema.optional(),
    dryRun: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .strict();

export type OnDemandEvent = z.infer<typeof onDemandEventSchema>;

export type ParsedEvent =
  | { ok: true; trigger: 'scheduled'; event: OnDemandEvent }
  | { ok: true; trigger: 'on-demand'; event: OnDemandEvent }
  | { ok: false; issues: string[] };

/** EventBridge (rules and Scheduler) scheduled-event envelopes, whatever their detail. */
function isScheduledEnvelope(event: Record<string, unknown>): boolean {
  return (
    event['detail-type'] === 'Scheduled Event' ||
    event.source === 'aws.events' ||
    event.source === 'aws.scheduler'
  );
}

function issueLines(error: z.ZodError): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const path = issue.path.length
      ? issue.path
          .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`))
          .join('')
      : '(event)';
    if (issue.code === 'unrecognized_keys') {
      for (const key of (issue as { keys: string[] }).keys) {
        const at = issue.path.length ? `${path}.${key}` : key;
        lines.push(
          `${singleLine(at)}: unknown field; allowed fields are ${ON_DEMAND_FIELDS.join(', ')}`,
        );
      }
    } else if (issue.path[0] === 'notify' && issue.code === 'invalid_value') {
      lines.push(`${path}: must be one of "always", "drift", "never"`);
    } else {
      lines.push(`${singleLine(path)}: ${singleLine(issue.message)}`);
    }
  }
  return lines;
}

/**
 * `undefined`, `{}` and EventBridge scheduled envelopes are scheduled runs over all clusters (an
 * envelope carrying on-demand fields is an on-demand run with them, see parseEnvelope);
 * anything else must be an on-demand event, validated strictly (an unknown field is an error, so
 * a typo such as `dryrun` cannot silently alert everyone).
 */
export function parseEvent(event: unknown): ParsedEvent {
  if (event === undefined || event === null) return { ok: true, trigger: 'scheduled', event: {} };
  if (typeof event !== 'object' || Array.isArray(event)) {
    return {
      ok: false,
      issues: [
        `(event): must be a JSON object such as the example, not ${Array.isArray(event) ? 'an array' : typeof event}`,
      ],
    };
  }
  const record = event as Record<string, unknown>;
  if (Object.keys(record).length === 0) return { ok: true, trigger: 'scheduled', event: {} };
  if (isScheduledEnvelope(record)) return parseEnvelope(record);
  const parsed = onDemandEventSchema.safeParse(record);
  if (!parsed.success) return { ok: false, issues: issueLines(parsed.error) };
  return { ok: true, trigger: 'on-demand', event: parsed.data };
}

/**
 * A scheduled envelope that carries on-demand fields (at the top level or in `detail`, as an
 * EventBridge rule's input would) is an on-demand run with those fields, validated like any
 * on-demand event; never a full publishing run that drops them (a `dryRun: true` ignored would
 * alert everyone). Fields in both places are refused as ambiguous.
 */
function parseEnvelope(record: Record<string, unknown>): ParsedEvent {
  const pick = (o: unknown): Record<string, unknown> => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return {};
    const src = o as Record<string, unknown>;
    return Object.fromEntries(
      ON_DEMAND_FIELDS.filter((k) => k in src).map((k) => [k, src[k]] as const),
    );
  };
  const top = pick(record);
  const detail = pick(record.detail);
  const topKeys = Object.keys(top);
  const detailKeys = Object.keys(detail);
  if (topKeys.length === 0 && detailKeys.length === 0) {
    return { ok: true, trigger: 'scheduled', event: {} };
  }
  if (topKeys.length > 0 && detailKeys.length > 0) {
    return {
      ok: false,
      issues: [
        `(event): a scheduled envelope with on-demand fields both at the top level (${topKeys.join(', ')}) and in detail (${detailKeys.join(', ')}) is ambiguous; put them in one place, or send a plain on-demand event such as the example`,
      ],
    };
  }
  const parsed = onDemandEventSchema.safeParse(topKeys.length > 0 ? top : detail);
  if (!parsed.success) {
    return {
      ok: false,
      issues: issueLines(parsed.error).map(
        (line) => `${line} (in a scheduled envelope, on-demand fields make it an on-demand run)`,
      ),
    };
  }
  return { ok: true, trigger: 'on-demand', event: parsed.data };
}

export function exampleEvent(config?: AuditorConfig): Required<OnDemandEvent> {
  return {
    clusters: [config?.clusters[0]?.name ?? 'my-cluster'],
    notify: 'always',
    dryRun: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

export interface HandlerError {
  ok: false;
  error: string;
  issues: string[];
  example: Required<OnDemandEvent>;
}

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

export type HandlerResult = HandlerSummary | HandlerError;

/** Thrown after every cluster was handled when any archive write or publish failed. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

// ---------------------------------------------------------------------------------------------
// Handler
// ---------------------------------------------------------------------------------------------

export interface HandlerDeps {
  /** The validated configuration; throws ConfigError (the invocation fails: an operator must fix it). */
  loadConfig(): AuditorConfig | Promise<AuditorConfig>;
  /** Audits the clusters (collect + checks); never throws for one cluster. */
  audit(
    config: AuditorConfig,
    clusters: ClusterConfig[],
    trigger: AuditReport['trigger'],
    ctx: { runId: string; logger: AuditLogger },
  ): Promise<AuditReport>;
  s3: S3Client;
  sns: SNSClient;
  logger: HandlerLogger;
  metrics: AuditMetrics;
  newRunId(): string;
  /** The run date suppression expiries are judged against. Default: the clock. */
  now?(): Date;
  /** Used in the re-run instructions when the Lambda context does not name the function. */
  functionName?: string;
  region?: string;
  /** Security Hub and Datadog clients, created on first use when the config enables them. */
  integrations?: IntegrationClients;
}

/** Lambda responses are limited to 6 MB; a dry-run report bigger than this loses its PASS rows. */
const MAX_INLINE_REPORT_BYTES = 5_000_000;

export function createHandler(deps: HandlerDeps) {
  return async function handler(
    event: unknown,
    context?: LambdaContextLike,
  ): Promise<HandlerResult> {
    const parsed = parseEvent(event);
    const config = await deps.loadConfig();
    // A bad suppression fails the invocation before any cluster is touched, like a bad config.
    assertSuppressions(config, {
      now: deps.now?.() ?? new Date(),
      checkIds: CHECKS.map((c) => c.id),
      origin: `environment variable ${CONFIG_ENV}`,
    });
    if (!parsed.ok) {
      deps.logger.warn('invalid event rejected', { issues: parsed.issues });
      return {
        ok: false,
        error: 'Invalid event',
        issues: parsed.issues,
        example: exampleEvent(config),
      };
    }
    const selected = selectClusters(config, parsed.event.clusters);
    if (!selected.ok) {
      deps.logger.warn('unknown cluster requested', { issues: selected.issues });
      return {
        ok: false,
        error: 'Unknown cluster',
        issues: selected.issues,
        example: exampleEvent(config),
      };
    }

    const runId = deps.newRunId();
    deps.logger.appendKeys({
      runId,
      ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}),
    });
    try {
      return await run(
        deps,
        config,
        selected.clusters,
        parsed.trigger,
        parsed.event,
        runId,
        context,
      );
    } finally {
      deps.metrics.flush();
      deps.logger.removeKeys(['runId', 'requestId', 'cluster']);
    }
  };
}

function selectClusters(
  config: AuditorConfig,
  names: string[] | undefined,
): { ok: true; clusters: ClusterConfig[] } | { ok: false; issues: string[] } {
  if (!names) return { ok: true, clusters: config.clusters };
  const configured = config.clusters.map((c) => c.name);
  const issues = names.flatMap((name, i) =>
    configured.includes(name)
      ? []
      : [
          `clusters[${i}]: "${singleLine(name)}" is not configured; configured clusters: ${configured.join(', ')}`,
        ],
  );
  if (issues.length) return { ok: false, issues };
  const wanted = new Set(names);
  return { ok: true, clusters: config.clusters.filter((c) => wanted.has(c.name)) };
}

async function run(
  deps: HandlerDeps,
  config: AuditorConfig,
  clusters: ClusterConfig[],
  trigger: 'scheduled' | 'on-demand',
  event: OnDemandEvent,
  runId: string,
  context: LambdaContextLike | undefined,
): Promise<HandlerSummary> {
  const { logger } = deps;
  const dryRun = event.dryRun ?? false;
  const notify = event.notify ?? config.notify;
  const warnings: string[] = [];
  const failures: string[] = [];
  logger.info('run started', {
    trigger,
    dryRun,
    notify,
    clusters: clusters.map((c) => c.name),
  });

  const bucket = config.archiveBucket;
  const archive = bucket ? new ReportArchive(deps.s3, bucket, logger) : undefined;
  const names = config.clusters.map((c) => c.name);
  const previous = archive ? await readPrevious(archive, config, clusters, names) : undefined;
  const report = await deps.audit(config, clusters, trigger, { runId, logger });
  if (!archive) {
    warnings.push(
      'No archiveBucket configured: reports are not archived and there is no previous run to diff against, so every failing finding counts as new.',
    );
    logger.warn('no archive bucket configured; archive skipped');
  }
  if (!config.topicArn && notify !== 'never' && !dryRun) {
    warnings.push('No topicArn configured: nothing is published.');
    logger.warn('no topic configured; publishing skipped');
  }
  const functionName =
    context?.functionName ?? deps.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME;
  const region = deps.region ?? process.env.AWS_REGION;
  const summaries: ClusterSummary[] = [];
  const drifts: Record<string, Drift> = {};
  let published = 0;

  for (const cluster of report.clusters) {
    logger.appendKeys({ cluster: cluster.name });
    const segment = archiveSegment(cluster, names);
    let drift: Drift | undefined;
    let etag: string | undefined;
    let driftUnavailable: string | undefined;
    if (archive) {
      try {
        const latest = await (previous?.get(segment) ?? readForDrift(archive, segment));
        etag = latest.etag;
        drift = diffReports(cluster, latest.report);
      } catch (err) {
        driftUnavailable = errorFields(err).errorMessage;
        failures.push(`cluster ${cluster.name}: ${driftUnavailable}`);
        logger.error('previous report unreadable; drift unknown', errorFields(err));
      }
    } else {
      drift = diffReports(cluster, undefined);
    }
    if (drift) drifts[cluster.name] = drift;

    let archived: ArchiveResult | undefined;
    if (archive && !dryRun) {
      try {
        archived = await archive.write(
          segment,
          toArchived(cluster, { runId, trigger }, drift),
          etag,
          { updateLatest: !driftUnavailable },
        );
        if (archived.note) warnings.push(archived.note);
        const page = await archiveHtml(archive, archived, cluster, { runId, trigger }, drift);
        if (page.warning) warnings.push(page.warning);
      } catch (err) {
        failures.push(`cluster ${cluster.name}: ${errorFields(err).errorMessage}`);
        logger.error('archive write failed', errorFields(err));
      }
    }

    if (!dryRun) deps.metrics.recordCluster(cluster, drift);

    const decision = dryRun
      ? { publish: false, reason: 'dry run' }
      : !config.topicArn
        ? { publish: false, reason: 'no topicArn configured' }
        : decidePublish(notify, cluster, drift, config.minSeverity);
    let sent = false;
    if (decision.publish && config.topicArn) {
      try {
        await publishCluster(deps.sns, cluster, drift, {
          topicArn: config.topicArn,
          runId,
          trigger,
          ...(archived ? { archiveLocation: archived.location } : {}),
          ...(functionName ? { functionName } : {}),
          ...(region ? { region } : {}),
          ...(driftUnavailable ? { driftUnavailable } : {}),
        });
        sent = true;
        published += 1;
      } catch (err) {
        failures.push(`cluster ${cluster.name}: ${errorFields(err).errorMessage}`);
        logger.error('publish failed', errorFields(err));
      }
    }

    const summary: ClusterSummary = {
      name: cluster.name,
      ...(cluster.region ? { region: cluster.region } : {}),
      status: cluster.status,
      counts: failingCounts(cluster.findings),
      passed: passedCount(cluster),
      new: drift?.new.length ?? 0,
      resolved: drift?.resolved.length ?? 0,
      archive: archived?.location ?? null,
      ...(archived ? { latest: archived.latest } : {}),
      published: sent,
      publishReason: decision.reason,
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
      published: sent,
      publishReason: decision.reason,
    });
    logger.removeKeys(['cluster']);
  }

  let integrations: IntegrationOutcome | undefined;
  if (!dryRun && (config.securityHub?.enabled || config.datadog)) {
    integrations = await deliverIntegrations(report, drifts, config, (deps.integrations ??= {}), {
      ...(context?.invokedFunctionArn ? { invokedFunctionArn: context.invokedFunctionArn } : {}),
      ...(region ? { region } : {}),
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
  const unaudited = report.clusters.filter(notAudited).map((c) => c.name);
  if (dryRun) result.report = inlineReport(report, drifts);
  else if (unaudited.length === 0) deps.metrics.recordRunSucceeded();
  else logger.warn('not a successful audit: clusters could not be audited', { unaudited });
  logger.info('run finished', { published, clusters: summaries.length });
  return result;
}

/**
 * Drift needs only the previous run's failing findings. latest.json holds every result (40 MB at
 * 5,000 namespaces); kept whole beside this run's findings it decided the function's peak memory.
 */
async function readForDrift(archive: ReportArchive, segment: string): Promise<LatestRead> {
  const latest = await archive.readLatest(segment);
  if (!latest.report) return latest;
  return {
    ...latest,
    report: { ...latest.report, findings: latest.report.findings.filter(isFailing) },
  };
}

/**
 * The previous reports, read before the audit so their text and parsed objects come and go while
 * the heap holds neither a snapshot nor findings. Read failures are kept (not thrown) and reported
 * per cluster after the audit, as before.
 */
async function readPrevious(
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

// ---------------------------------------------------------------------------------------------
// Production wiring
// ---------------------------------------------------------------------------------------------

export const CONFIG_ENV = 'AUDITOR_CONFIG';

/** Reads and validates `AUDITOR_CONFIG` (the JSON config the CDK stack passes). */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuditorConfig {
  const text = env[CONFIG_ENV];
  if (!text || !text.trim()) {
    throw new ConfigError(
      `${CONFIG_ENV} is not set: the function needs its configuration as JSON in this environment variable (the CDK stack sets it from auditor.config.json).`,
    );
  }
  return parseConfigText(text, `environment variable ${CONFIG_ENV}`);
}

/** Audits through the shared runAudit with the run id the handler already logs under. */
export function auditWith(base: Omit<AuditDeps, 'newRunId' | 'logger'>): HandlerDeps['audit'] {
  return (config, clusters, trigger, ctx) =>
    runAudit(config, clusters, { ...base, newRunId: () => ctx.runId, logger: ctx.logger }, trigger);
}

/** Clients and config are created once per container and reused by warm invocations. */
export function defaultDeps(): HandlerDeps {
  let config: AuditorConfig | undefined;
  return {
    loadConfig: () => (config ??= loadConfigFromEnv()),
    audit: auditWith({
      collect: (cluster, cfg) => collectCluster(cluster, cfg),
      checks: CHECKS,
      now: () => new Date(),
    }),
    // Bounded SDK retries (the shared AWS attempt count); then the invocation fails.
    s3: new S3Client({ maxAttempts: AWS_MAX_ATTEMPTS }),
    sns: new SNSClient({ maxAttempts: AWS_MAX_ATTEMPTS }),
    logger: handlerLogger(),
    metrics: auditMetrics(),
    newRunId: () => newRunId(new Date()),
  };
}

export const handler = createHandler(defaultDeps());

/** For callers that want the policy type without importing zod schemas. */
export type { NotifyPolicy };
export const NOTIFY_POLICIES = notifyPolicySchema.options;
