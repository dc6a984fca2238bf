/**
 * `npx tsx infra/build-bundle.ts <outdir>`: builds the Lambda handler bundle with the shared
 * options of infra/bundling.ts (plugins included) into <outdir>/index.mjs, for a stack that
 * bundles locally instead of through NodejsFunction's own esbuild call.
 */
import { statSync } from 'node:fs';
import { buildHandlerBundle } from './bundling.js';

const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: tsx infra/build-bundle.ts <outdir>');
  process.exit(2);
}
const outfile = await buildHandlerBundle(outdir);
console.error(`${outfile}: ${(statSync(outfile).size / 1024 / 1024).toFixed(2)} MB`);
