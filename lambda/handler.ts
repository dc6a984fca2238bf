/**
 * Lambda entry point. Scheduled runs (EventBridge Scheduler) audit every configured cluster;
 * on-demand runs (a console test event) may pick clusters, override the notify policy, or dry-run.
 * Per cluster: read the previous report, diff, archive, then publish; a failure to archive or
 * publish fails the invocation (after every cluster was handled) so alarms and the failure
 * destination fire.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { newRunId, runAudit, type AuditDeps, type AuditLogger } from './audit.js';
import { AWS_MAX_ATTEMPTS } from './aws/clients.js';
import { CHECKS } from './checks/index.js';
import { collectCluster } from './collect.js';
import {
  assertSuppressions,
  notifyPolicySchema,
  type AuditorConfig,
  type ClusterConfig,
} from './config.js';
import { configReader } from './config-source.js';
import {
  budgetFrom,
  DEFAULT_DELIVER_RESERVE_MS,
  DEFAULT_MARGIN_MS,
  reserve,
  type TimeBudget,
} from './fleet/budget.js';
import { discoverClusters } from './fleet/discovery.js';
import { createFleetHandlers, type FleetHandlerDeps } from './fleet/handlers.js';
import { isClusterTask, type ClusterResult } from './fleet/run.js';
import { deliverRun, readPrevious, type HandlerSummary } from './deliver.js';
import {
  exampleEvent,
  parseEvent,
  selectClusters,
  type HandlerError,
  type LambdaContextLike,
  type OnDemandEvent,
} from './events.js';
import {
  auditMetrics,
  handlerLogger,
  type AuditMetrics,
  type HandlerLogger,
} from './observability.js';
import { ReportArchive, archiveSegment, type LatestRead } from './report/archive.js';
import { copyRecordOf } from './report/previous-copies.js';
import type { CopyRecordSet } from './snapshot.js';
import type { IntegrationClients } from './report/integrations.js';
import type { NotifyPolicy } from './report/publish.js';
import type { AuditReport } from './report/types.js';

// Moved to shared modules (the fleet's Lambda entry points use them too); re-exported for callers.
export {
  exampleEvent,
  ON_DEMAND_FIELDS,
  onDemandEventSchema,
  parseEvent,
  selectClusters,
  type HandlerError,
  type LambdaContextLike,
  type OnDemandEvent,
  type ParsedEvent,
} from './events.js';
export { DeliveryError, type ClusterSummary, type HandlerSummary } from './deliver.js';

export type HandlerResult = HandlerSummary | HandlerError;

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
    ctx: {
      runId: string;
      logger: AuditLogger;
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
    const parsed = parseEvent(event);
    const config = await deps.loadConfig();
    // A bad suppression fails the invocation before any cluster is touched, like a bad config.
    assertSuppressions(config, {
      now: deps.now?.() ?? new Date(),
      checkIds: CHECKS.map((c) => c.id),
      origin: 'the auditor configuration',
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
  logger.info('run started', {
    trigger,
    dryRun,
    notify,
    clusters: clusters.map((c) => c.name),
  });
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
    budget: auditBudget,
    ...(previous ? { previousRun: previousCopyRecord(previous, config, names) } : {}),
  });
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

// ---------------------------------------------------------------------------------------------
// Production wiring
// ---------------------------------------------------------------------------------------------

export { CONFIG_ENV, loadConfigFromEnv } from './config-source.js';

/** Audits through the shared runAudit with the run id the handler already logs under. */
export function auditWith(base: Omit<AuditDeps, 'newRunId' | 'logger'>): HandlerDeps['audit'] {
  return (config, clusters, trigger, ctx) =>
    runAudit(
      config,
      clusters,
      {
        ...base,
        newRunId: () => ctx.runId,
        logger: ctx.logger,
        ...(ctx.previousRun ? { previousRun: ctx.previousRun } : {}),
        ...(ctx.budget ? { budget: ctx.budget } : {}),
      },
      trigger,
    );
}

/** Clients are created once per container and reused by warm invocations. */
const clients = {
  // Bounded SDK retries (the shared AWS attempt count); then the invocation fails.
  s3: lazy(() => new S3Client({ maxAttempts: AWS_MAX_ATTEMPTS })),
  sns: lazy(() => new SNSClient({ maxAttempts: AWS_MAX_ATTEMPTS })),
  ssm: lazy(() => new SSMClient({ maxAttempts: AWS_MAX_ATTEMPTS })),
};

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/**
 * The configuration from the source the environment names, kept for its cache age (5 minutes by
 * default); a failed read is not kept, the next invocation reads again.
 */
let reader: (() => Promise<AuditorConfig>) | undefined;
const sharedConfig = () => (reader ??= configReader(clients))();

export function defaultDeps(): HandlerDeps {
  return {
    loadConfig: sharedConfig,
    audit: auditWith({
      collect: (cluster, cfg) => collectCluster(cluster, cfg),
      checks: CHECKS,
      now: () => new Date(),
    }),
    s3: clients.s3(),
    sns: clients.sns(),
    logger: handlerLogger(),
    metrics: auditMetrics(),
    newRunId: () => newRunId(new Date()),
  };
}

export function defaultFleetDeps(): FleetHandlerDeps {
  return {
    loadConfig: sharedConfig,
    audit: {
      collect: (cluster, cfg) => collectCluster(cluster, cfg),
      checks: CHECKS,
      now: () => new Date(),
    },
    discover: (config) => discoverClusters(config),
    s3: clients.s3(),
    sns: clients.sns(),
    logger: handlerLogger(),
    metrics: auditMetrics(),
    newRunId: () => newRunId(new Date()),
  };
}

const singleProcess = createHandler(defaultDeps());
const fleet = createFleetHandlers(defaultFleetDeps());

/**
 * The audit function. A Map item of the state machine (`{run, cluster}`) audits that one cluster
 * and writes its report for the deliver step; any other event is a whole run in this process (the
 * scheduled envelope, or an on-demand event such as `{"clusters": ["x"], "dryRun": true}`).
 */
export async function handler(
  event: unknown,
  context?: LambdaContextLike,
): Promise<HandlerResult | ClusterResult> {
  return isClusterTask(event) ? fleet.auditCluster(event, context) : singleProcess(event, context);
}

/** The state machine's first step: the cluster list of this run. */
export const discoverHandler = fleet.discover;
/** The state machine's last step: reports -> drift, archive, publish, metrics. */
export const deliverHandler = fleet.deliver;

/** For callers that want the policy type without importing zod schemas. */
export type { NotifyPolicy };
export const NOTIFY_POLICIES = notifyPolicySchema.options;
