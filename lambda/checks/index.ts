import type { Check } from './check.js';
import { tokenRefResolves } from './token/token-ref-resolves.js';

/** Every check the auditor runs, in report order. A new check is one file plus one line here. */
export const CHECKS: readonly Check[] = [tokenRefResolves];

export type { Check } from './check.js';
