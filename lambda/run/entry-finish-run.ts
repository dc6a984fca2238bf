/** Lambda entry, fleet last step: the iterations' small results -> the run's summary and metrics. */
import type { DeliverResult, FinishInput } from './fleet/run.js';
import { fleetHandlers, lazyHandler } from './production.js';

export const handler = lazyHandler<FinishInput, DeliverResult>(() => fleetHandlers().finish);
