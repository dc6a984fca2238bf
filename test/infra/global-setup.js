/**
 * Jest global setup: synthesizes each named stack configuration (test/infra/configs.ts
 * STACK_CONFIGS) once per run, before any test file, into the template cache keyed by a hash of
 * the configuration and the sources (test/infra/template-cache.ts). Test files read the templates
 * with Template.fromJSON instead of synthesizing the same stacks again in every file. Runs under
 * tsx (this hook is loaded untransformed); with a warm cache it only hashes the sources.
 */
import { spawnSync } from 'node:child_process';
import { URL, fileURLToPath } from 'node:url';

export default function globalSetup() {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./synth-templates.ts', import.meta.url))],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) {
    throw new Error(
      `synthesizing the test stack templates failed (exit ${result.status ?? result.signal}); run: npx tsx test/infra/synth-templates.ts`,
    );
  }
}
