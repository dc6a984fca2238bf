/** Lambda entry, fleet step 1: the run plan -> the cluster list in S3. */
import type { DiscoverResult } from './fleet/run.js';
import { fleetHandlers, lazyHandler } from './production.js';

export const handler = lazyHandler<unknown, DiscoverResult>(() => fleetHandlers().discover);
