/**
 * The demo's fixture clusters: directories of Kubernetes manifests (*.yaml) and the AWS answers
 * (aws.json). In the checkout they live in test/fixtures/ (the tests use them too); the package
 * build copies the ones with an aws.json into dist/fixtures/, so a production install finds them
 * beside the compiled code.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { Raw } from '../../collect/kube/raw.js';

/** Fixtures describe a cluster as of this moment (ESO refresh times, pod start times). */
export const DEFAULT_COLLECTED_AT = '2026-11-24T02:00:00.000Z';

/** Where the fixture clusters are: dist/fixtures/ in the package, else test/fixtures/ of the checkout. */
export function demoFixturesDir(): string {
  const candidates = ['../../../fixtures/', '../../../test/fixtures/'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  const found = candidates.find((dir) => existsSync(join(dir, 'field-report', 'aws.json')));
  if (!found) throw new Error(`demo fixtures not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** The fixtures `--demo --fixture NAME` can serve: directories with manifests and an aws.json. */
export function demoFixtureNames(dir = demoFixturesDir()): string[] {
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'aws.json')))
    .sort();
}

/** Parses every YAML document in a file or, for a directory, in every *.yaml file below it. */
export function loadManifests(path: string): Raw[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const docs: Raw[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const value = doc.toJS();
      if (!value) continue;
      if (value.kind === 'List' && Array.isArray(value.items)) docs.push(...value.items);
      else docs.push(value);
    }
  }
  return docs;
}
