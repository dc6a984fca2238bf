/**
 * Jest global setup: synthesizes each named stack configuration (test/infra/configs.ts
 * STACK_CONFIGS) once per run, before any test file, into the template cache keyed by a hash of
 * the configuration and the sources (test/infra/template-cache.ts). Test files read the templates
 * with Template.fromJSON instead of synthesizing the same stacks again in every file. Runs under
 * tsx (this hook is loaded untransformed); with a warm cache it only hashes the sources.
 *
 * A run limited to paths (`npm test -- test/kube`) that selects no file reading a template skips
 * it. A file that finds no cached template synthesizes and caches it itself, so a skipped or
 * failed setup never changes what a test sees.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';

export default function globalSetup(globalConfig) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const patterns = globalConfig.testPathPatterns;
  if (patterns?.isSet?.()) {
    const selected = patterns.toExecutor({ rootDir: globalConfig.rootDir });
    if (!templateReaders(join(root, 'test')).some((file) => selected.isMatch(file))) return;
  }
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

/** Test files that read a cached template (call synthNamed). */
function templateReaders(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : templateReaders(path);
    return e.name.endsWith('.test.ts') && readFileSync(path, 'utf8').includes('synthNamed(')
      ? [path]
      : [];
  });
}
