/**
 * The bundle's entry (infra/bundling.ts): one code asset, one export per deployed function. Each
 * export is an entry point of lambda/run/, built on its first invocation.
 *
 * The audit function runs three kinds of invocation: a whole run (any run event), and the fleet
 * Map's two steps per cluster, audit (`{run, cluster}`) and deliver (`{step: 'deliver-cluster'}`),
 * which share its concurrency reservation, VPC and permissions.
 */
import type { LambdaContextLike } from './events.js';
import { isClusterTask, isDeliverClusterTask } from './fleet/run.js';
import { handler as auditCluster } from './entry-audit-cluster.js';
import { handler as deliverCluster } from './entry-deliver-cluster.js';
import { handler as direct } from './entry-direct.js';

export async function handler(event: unknown, context?: LambdaContextLike): Promise<unknown> {
  if (isDeliverClusterTask(event)) return deliverCluster(event, context);
  if (isClusterTask(event)) return auditCluster(event, context);
  return direct(event, context);
}

/** The state machine's first step. */
export { handler as discoverHandler } from './entry-discover.js';
/** The state machine's last step: the run's counts, summary and metrics. */
export { handler as deliverHandler } from './entry-finish-run.js';
