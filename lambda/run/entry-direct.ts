/** Lambda entry: a whole run in one invocation (scheduled envelope or on-demand event). */
import { createHandler } from './direct.js';
import { directDeps, lazyHandler } from './production.js';

export const handler = lazyHandler(() => createHandler(directDeps()));
