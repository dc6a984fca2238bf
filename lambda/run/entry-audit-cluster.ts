/** Lambda entry, fleet Map iteration: audit one cluster -> its report in S3. */
import type { ClusterResult, ClusterTask } from './fleet/run.js';
import { fleetHandlers, lazyHandler } from './production.js';

export const handler = lazyHandler<ClusterTask, ClusterResult>(() => fleetHandlers().auditCluster);
