/**
 * Synthesized templates cached on disk, so each named stack configuration is synthesized once per
 * run (by the global setup, test/infra/global-setup.js) instead of once per test file.
 *
 * A cache entry is keyed by a hash of: the configuration's name and JSON, every file under infra/,
 * every source file reachable by relative imports from infra/ and from the test modules that build
 * the stack (lambda/config/config.ts, lambda/collect/kube/rbac-manifest.ts...), the installed aws-cdk-lib and
 * constructs versions, and the repository path (the stack resolves paths from it). Bundling is
 * skipped in tests, so the template does not depend on the rest of lambda/: the function asset's
 * hash is derived from its construct path (bundling itself is covered by the CI synth step).
 * An entry that is missing or stale is synthesized again; nothing is ever read across keys.
 *
 * This module is generic: it knows names, configurations and a synthesize callback, not the stack.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const TEMPLATE_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'synth-templates');

/** Modules whose import closure (besides infra/) shapes the template: the stack builders. */
const BUILDERS = ['test/infra/support.ts', 'test/infra/configs.ts', 'test/infra/template-cache.ts'];

let sources: string | undefined;

/** Hash of everything a template depends on besides its configuration (memoized per process). */
export function sourcesDigest(): string {
  if (sources) return sources;
  const hash = createHash('sha256');
  hash.update(`root ${ROOT}\n`);
  for (const pkg of ['aws-cdk-lib', 'constructs']) {
    const manifest = JSON.parse(
      readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'),
    ) as { version: string };
    hash.update(`${pkg}@${manifest.version}\n`);
  }
  const files = new Set<string>(walk(join(ROOT, 'infra')));
  const queue = [...files, ...BUILDERS.map((f) => join(ROOT, f))].filter((f) => f.endsWith('.ts'));
  while (queue.length > 0) {
    const file = queue.pop()!;
    files.add(file);
    for (const dep of relativeImports(file)) {
      if (!files.has(dep)) queue.push(dep);
    }
  }
  for (const file of [...files].sort()) {
    hash.update(`${relative(ROOT, file)}\n`);
    hash.update(readFileSync(file));
  }
  sources = hash.digest('hex');
  return sources;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Files a TypeScript module imports by relative path (`./x.js` is `./x.ts` on disk). */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1]!);
    const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`];
    const found = candidates.find((c) => existsSync(c) && !c.endsWith('/'));
    if (found && !found.includes('node_modules')) out.push(found);
  }
  return out;
}

/** Cache key of one named configuration: its name, its JSON and the sources digest. */
export function templateKey(name: string, config: unknown): string {
  return createHash('sha256')
    .update(name)
    .update('\0')
    .update(JSON.stringify(config))
    .update('\0')
    .update(sourcesDigest())
    .digest('hex')
    .slice(0, 32);
}

export function templateFile(name: string, config: unknown): string {
  return join(TEMPLATE_CACHE_DIR, `${name}-${templateKey(name, config)}.json`);
}

/** The cached template of `name`, or undefined when it was never synthesized with these sources. */
export function readCachedTemplate(
  name: string,
  config: unknown,
): Record<string, unknown> | undefined {
  const file = templateFile(name, config);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** Writes a template atomically (another worker may read it at the same moment). */
export function writeCachedTemplate(
  name: string,
  config: unknown,
  template: Record<string, unknown>,
): void {
  const file = templateFile(name, config);
  mkdirSync(TEMPLATE_CACHE_DIR, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(template));
  renameSync(tmp, file);
}

/** The cached template, or `synthesize()`'s, written to the cache for the next reader. */
export function cachedTemplate(
  name: string,
  config: unknown,
  synthesize: () => Record<string, unknown>,
): Record<string, unknown> {
  const cached = readCachedTemplate(name, config);
  if (cached) return cached;
  const template = synthesize();
  writeCachedTemplate(name, config, template);
  return template;
}
