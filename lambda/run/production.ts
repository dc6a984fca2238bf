/**
 * Production wiring shared by the Lambda entry files: AWS clients and the configuration, each
 * made on first use and reused by warm invocations. Nothing here runs at import: an entry point
 * (or a test of one) pays only for what its own handler uses.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { newRunId } from './audit.js';
import { AWS_MAX_ATTEMPTS } from '../config/config.js';
import { CHECKS } from '../checks/index.js';
import { collectCluster } from '../collect/collect.js';
import type { AuditorConfig, ClusterConfig } from '../config/config.js';
import { configReader } from '../config/source.js';
import type { LambdaContextLike } from './events.js';
import { discoverClusters } from './fleet/discovery.js';
import { createFleetHandlers, type FleetHandlerDeps } from './fleet/handlers.js';
import { auditMetrics, handlerLogger } from '../deliver/observability.js';
import { auditWith, type HandlerDeps } from './direct.js';

export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/** A handler built on its first invocation (then reused by warm invocations). */
export function lazyHandler<E, R>(
  make: () => (event: E, context?: LambdaContextLike) => Promise<R>,
): (event: E, context?: LambdaContextLike) => Promise<R> {
  const built = lazy(make);
  return (event, context) => built()(event, context);
}

/** Clients are created once per container; bounded SDK retries, then the invocation fails. */
const clients = {
  s3: lazy(() => new S3Client({ maxAttempts: AWS_MAX_ATTEMPTS })),
  sns: lazy(() => new SNSClient({ maxAttempts: AWS_MAX_ATTEMPTS })),
  ssm: lazy(() => new SSMClient({ maxAttempts: AWS_MAX_ATTEMPTS })),
};

/**
 * The configuration from the source the environment names, kept for its cache age (5 minutes by
 * default); a failed read is not kept, the next invocation reads again.
 */
let reader: (() => Promise<AuditorConfig>) | undefined;
const sharedConfig = () => (reader ??= configReader(clients))();

const audit = () => ({
  collect: (cluster: ClusterConfig, cfg: AuditorConfig) => collectCluster(cluster, cfg),
  checks: CHECKS,
  now: () => new Date(),
});

export function directDeps(): HandlerDeps {
  return {
    loadConfig: sharedConfig,
    discover: (config) => discoverClusters(config),
    // The checks are the plan's.
    audit: auditWith({ collect: audit().collect, now: audit().now }),
    s3: clients.s3(),
    sns: clients.sns(),
    logger: handlerLogger(),
    metrics: auditMetrics(),
    newRunId: () => newRunId(new Date()),
  };
}

export function fleetDeps(): FleetHandlerDeps {
  return {
    loadConfig: sharedConfig,
    audit: audit(),
    discover: (config) => discoverClusters(config),
    s3: clients.s3(),
    sns: clients.sns(),
    logger: handlerLogger(),
    metrics: auditMetrics(),
    newRunId: () => newRunId(new Date()),
  };
}

/** The fleet's handlers, built once per container for whichever step this function runs. */
export const fleetHandlers = lazy(() => createFleetHandlers(fleetDeps()));
