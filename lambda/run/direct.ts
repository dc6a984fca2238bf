/**
 * The direct run: one invocation plans the run (lambda/run/plan.ts), audits the planned clusters
 * and delivers them. Scheduled runs (EventBridge Scheduler) audit every cluster, discovered ones
 * included; on-demand runs (a console test event) may pick clusters, override the notify policy,
 * or dry-run. A failure to archive or publish fails the invocation (after every cluster was
 * handled) so alarms and the failure destination fire.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import { runAudit, type AuditDeps } from './audit.js';
import type { AuditLogger } from '../deliver/observability.js';
import type { Check } from '../checks/check.js';
import { CHECKS } from '../checks/index.js';
import type { AuditorConfig, ClusterConfig } from '../config/config.js';
import { deliverRun, readPrevious, type HandlerSummary } from '../deliver/deliver.js';
import type { HandlerError, LambdaContextLike } from './events.js';
import {
  budgetFrom,
  DEFAULT_DELIVER_RESERVE_MS,
  DEFAULT_MARGIN_MS,
  reserve,
  type TimeBudget,
} from '../config/budget.js';
import { discoveryReport, type Discovery } from './fleet/discovery.js';
import type { AuditMetrics, HandlerLogger } from '../deliver/observability.js';
import { ReportArchive, archiveSegment, type LatestRead } from '../deliver/archive.js';
import type { IntegrationClients } from '../deliver/integrations.js';
import { copyRecordOf } from '../deliver/previous-copies.js';
import type { AuditReport } from '../report/types.js';
import type { CopyRecordSet } from '../snapshot/snapshot.js';
import { planRun, type RunPlan } from './plan.js';

export type HandlerResult = HandlerSummary | HandlerError;

export interface HandlerDeps {
  /** The validated configuration; throws ConfigError (the invocation fails: an operator must fix it). */
  loadConfig(): AuditorConfig | Promise<AuditorConfig>;
  /** Clusters found by `discover` in the configuration (accounts, regions, tags), if any. */
  discover?(config: AuditorConfig): Promise<Discovery>;
  /** Audits the clusters (collect + checks); never throws for one cluster. */
  audit(
    config: AuditorConfig,
    clusters: ClusterConfig[],
    trigger: AuditReport['trigger'],
    ctx: {
      runId: string;
      logger: AuditLogger;
      /** The checks the plan chose. */
      checks?: readonly Check[];
      /** The previous run's copy record per cluster, from the archive read before the audit. */
      previousRun?: (cluster: ClusterConfig) => Promise<CopyRecordSet | undefined>;
      budget?: TimeBudget;
    },
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
  /** Kept back from Lambda's deadline (default {@link DEFAULT_MARGIN_MS}). */
  marginMs?: number;
  /** Kept back from the audit for delivering (default {@link DEFAULT_DELIVER_RESERVE_MS}). */
  deliverReserveMs?: number;
}

export function createHandler(deps: HandlerDeps) {
  return async function handler(
    event: unknown,
    context?: LambdaContextLike,
  ): Promise<HandlerResult> {
    const config = await deps.loadConfig();
    const discovered = deps.discover ? await deps.discover(config) : undefined;
    const planned = planRun({
      event,
      config,
      now: deps.now?.() ?? new Date(),
      ...(discovered ? { discovered } : {}),
    });
    if (!planned.ok) {
      deps.logger.warn(
        planned.error === 'Invalid event' ? 'invalid event rejected' : 'unknown cluster requested',
        { issues: planned.issues },
      );
      return planned;
    }
    const runId = deps.newRunId();
    deps.logger.appendKeys({
      runId,
      ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}),
    });
    try {
      return await run(deps, planned.plan, runId, context);
    } finally {
      deps.metrics.flush();
      deps.logger.removeKeys(['runId', 'requestId', 'cluster']);
    }
  };
}

async function run(
  deps: HandlerDeps,
  plan: RunPlan,
  runId: string,
  context: LambdaContextLike | undefined,
): Promise<HandlerSummary> {
  const { logger } = deps;
  const { config, clusters, dryRun, notify } = plan;
  const trigger = plan.trigger === 'on-demand' ? 'on-demand' : 'scheduled';
  logger.info('run started', { trigger, dryRun, notify, clusters: clusters.map((c) => c.name) });
  const bucket = config.archiveBucket;
  const names = config.clusters.map((c) => c.name);
  const previous = bucket
    ? await readPrevious(new ReportArchive(deps.s3, bucket, logger), config, clusters, names)
    : undefined;
  // One invocation audits and delivers: the audit stops early enough for delivery to fit.
  const budget = budgetFrom(context, deps.marginMs ?? DEFAULT_MARGIN_MS);
  const auditBudget = reserve(budget, deps.deliverReserveMs ?? DEFAULT_DELIVER_RESERVE_MS);
  const report = await deps.audit(config, clusters, trigger, {
    runId,
    logger,
    checks: plan.checks,
    budget: auditBudget,
    ...(previous ? { previousRun: previousCopyRecord(previous, config, names) } : {}),
  });
  if (plan.discoveryFailures.length) {
    report.clusters.push(discoveryReport(plan.discoveryFailures, new Date().toISOString()));
  }
  const functionName =
    context?.functionName ?? deps.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME;
  const region = deps.region ?? process.env.AWS_REGION;
  return deliverRun(deps, config, report, {
    runId,
    trigger,
    dryRun,
    notify,
    ...(functionName ? { functionName } : {}),
    ...(context?.invokedFunctionArn ? { invokedFunctionArn: context.invokedFunctionArn } : {}),
    ...(region ? { region } : {}),
    ...(previous ? { previous } : {}),
    budget,
  });
}

/** The copy record each cluster's previous report archived (unreadable or absent: none). */
function previousCopyRecord(
  previous: Map<string, Promise<LatestRead>>,
  config: AuditorConfig,
  names: readonly string[],
): (cluster: ClusterConfig) => Promise<CopyRecordSet | undefined> {
  return async (c) => {
    const region = c.region ?? config.region;
    const segment = archiveSegment({ name: c.name, region }, names);
    const latest = await previous.get(segment)?.catch(() => undefined);
    return copyRecordOf(latest, { name: c.name, ...(region ? { region } : {}) });
  };
}

/**
 * Audits through the shared runAudit with the run id the handler already logs under, and the
 * checks the plan chose (a test may pin its own in `base`).
 */
export function auditWith(
  base: Omit<AuditDeps, 'newRunId' | 'logger' | 'checks'> & { checks?: AuditDeps['checks'] },
): HandlerDeps['audit'] {
  return (config, clusters, trigger, ctx) =>
    runAudit(
      config,
      clusters,
      {
        ...base,
        checks: base.checks ?? ctx.checks ?? CHECKS,
        newRunId: () => ctx.runId,
        logger: ctx.logger,
        ...(ctx.previousRun ? { previousRun: ctx.previousRun } : {}),
        ...(ctx.budget ? { budget: ctx.budget } : {}),
      },
      trigger,
    );
}
