/**
 * The fleet's Lambda handlers, thin: load the configuration, plan (lambda/run/plan.ts), call the
 * shared step (lambda/run/fleet/run.ts), log, flush metrics, return. Wired for production in
 * lambda/run/; tests and the local state-machine executor wire them with their own deps.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AuditDeps } from '../audit.js';
import type { AuditorConfig } from '../../config/config.js';
import type { Discovery } from './discovery.js';
import type { LambdaContextLike } from '../events.js';
import type { AuditMetrics, HandlerLogger } from '../../deliver/observability.js';
import { budgetFrom, DEFAULT_MARGIN_MS } from '../../config/budget.js';
import { planRun, validatedChecks } from '../plan.js';
import {
  auditClusterTask,
  deliverClusterTask,
  discoverRun,
  finishRun,
  InvalidEventError,
  type ClusterDelivered,
  type ClusterResult,
  type ClusterTask,
  type DeliverClusterTask,
  type DeliverResult,
  type DiscoverResult,
  type FinishInput,
} from './run.js';

export interface FleetHandlerDeps {
  loadConfig(): AuditorConfig | Promise<AuditorConfig>;
  s3: S3Client;
  sns: SNSClient;
  logger: HandlerLogger;
  metrics: AuditMetrics;
  newRunId(): string;
  /** Collect + checks for one cluster (the run id comes from the task). */
  audit: Omit<AuditDeps, 'newRunId'>;
  /** Clusters found by `discover` in the configuration (accounts, regions, tags), if any. */
  discover?(config: AuditorConfig): Promise<Discovery>;
  inlineMaxClusters?: number;
  /** Kept back from Lambda's deadline in every step (default {@link DEFAULT_MARGIN_MS}). */
  marginMs?: number;
  functionName?: string;
  region?: string;
  /** The run date suppression expiries are judged against. Default: the clock. */
  now?(): Date;
}

export interface FleetHandlers {
  discover(event: unknown, context?: LambdaContextLike): Promise<DiscoverResult>;
  auditCluster(task: ClusterTask, context?: LambdaContextLike): Promise<ClusterResult>;
  deliverCluster(task: DeliverClusterTask, context?: LambdaContextLike): Promise<ClusterDelivered>;
  finish(input: FinishInput, context?: LambdaContextLike): Promise<DeliverResult>;
}

export function createFleetHandlers(deps: FleetHandlerDeps): FleetHandlers {
  const margin = deps.marginMs ?? DEFAULT_MARGIN_MS;
  const withKeys = async <T>(
    keys: Record<string, unknown>,
    context: LambdaContextLike | undefined,
    fn: () => Promise<T>,
  ): Promise<T> => {
    deps.logger.appendKeys({
      ...keys,
      ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}),
    });
    try {
      return await fn();
    } finally {
      deps.metrics.flush();
      deps.logger.removeKeys(['runId', 'requestId', 'cluster', ...Object.keys(keys)]);
    }
  };
  return {
    discover: (event, context) =>
      withKeys({ step: 'discover' }, context, async () => {
        const config = await deps.loadConfig();
        const now = deps.now?.() ?? new Date();
        // Suppressions are refused before discovery lists a cluster.
        validatedChecks({ config, now, checks: deps.audit.checks });
        const discovered = deps.discover ? await deps.discover(config) : undefined;
        const planned = planRun({
          event,
          config,
          now,
          checks: deps.audit.checks,
          ...(discovered ? { discovered } : {}),
        });
        if (!planned.ok) {
          throw new InvalidEventError(
            planned.error === 'Invalid event'
              ? `Invalid event: ${planned.issues.join('; ')}. Start the execution with an input such as ${JSON.stringify(planned.example)}.`
              : `Unknown cluster: ${planned.issues.join('; ')}`,
          );
        }
        const result = await discoverRun(deps, planned.plan, {
          ...(deps.inlineMaxClusters !== undefined
            ? { inlineMaxClusters: deps.inlineMaxClusters }
            : {}),
        });
        deps.logger.info('run discovered', {
          runId: result.run.runId,
          trigger: result.run.trigger,
          clusters: result.count,
          mode: result.mode,
        });
        return result;
      }),
    auditCluster: (task, context) =>
      withKeys(
        { step: 'audit-cluster', runId: task.run?.runId, cluster: task.cluster?.name },
        context,
        async () => {
          const config = await deps.loadConfig();
          const result = await auditClusterTask(
            {
              ...deps,
              audit: {
                ...deps.audit,
                logger: deps.logger,
                ...(deps.now ? { now: deps.now } : {}),
              },
            },
            config,
            task,
            budgetFrom(context, margin),
          );
          deps.logger.info('cluster report written', {
            ...(result.ok ? { status: result.status, key: result.key } : {}),
          });
          return result;
        },
      ),
    deliverCluster: (task, context) =>
      withKeys(
        { step: 'deliver-cluster', runId: task.run?.runId, cluster: task.cluster?.name },
        context,
        async () => {
          const config = await deps.loadConfig();
          return deliverClusterTask(
            deps,
            config,
            task,
            budgetFrom(context, margin),
            deliveryOptions(deps, context),
          );
        },
      ),
    finish: (input, context) =>
      withKeys({ step: 'finish-run', runId: input.run?.runId }, context, async () => {
        const config = await deps.loadConfig();
        return finishRun(
          deps,
          config,
          input,
          budgetFrom(context, margin),
          deliveryOptions(deps, context),
        );
      }),
  };
}

function deliveryOptions(deps: FleetHandlerDeps, context: LambdaContextLike | undefined) {
  const functionName =
    context?.functionName ?? deps.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME;
  const region = deps.region ?? process.env.AWS_REGION;
  return {
    ...(functionName ? { functionName } : {}),
    ...(region ? { region } : {}),
    ...(context?.invokedFunctionArn ? { invokedFunctionArn: context.invokedFunctionArn } : {}),
  };
}
