/**
 * Synthesizes the named stack configurations whose templates are not cached yet (run by the global
 * setup, test/infra/global-setup.js, under tsx; `--only a,b` for a share of them). With two or more
 * missing, half go to a second process: two cores, two synths at once.
 *
 *   tsx test/infra/synth-templates.ts [--only name,name]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { STACK_CONFIGS, type StackConfigName } from './configs.js';
import { readCachedTemplate } from './template-cache.js';

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const names = (
  values.only ? values.only.split(',') : Object.keys(STACK_CONFIGS)
) as StackConfigName[];
const missing = names.filter((n) => !readCachedTemplate(n, STACK_CONFIGS[n]()));

let other: Promise<void> = Promise.resolve();
let mine = missing;
if (!values.only && missing.length >= 2) {
  const theirs = missing.filter((_, i) => i % 2 === 1);
  mine = missing.filter((_, i) => i % 2 === 0);
  other = new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--only', theirs.join(',')],
      { stdio: 'inherit' },
    );
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`synthesizing ${theirs.join(', ')} failed`)),
    );
  });
}
if (mine.length > 0) {
  // aws-cdk-lib is loaded only when there is something to synthesize.
  const { namedTemplate } = await import('./support.js');
  for (const name of mine) namedTemplate(name);
}
await other;
