/** Lambda entry, fleet Map iteration: deliver one cluster (drift, archive, alerts, metrics). */
import type { ClusterDelivered, DeliverClusterTask } from './fleet/run.js';
import { fleetHandlers, lazyHandler } from './production.js';

export const handler = lazyHandler<DeliverClusterTask, ClusterDelivered>(
  () => fleetHandlers().deliverCluster,
);
