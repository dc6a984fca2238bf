// `npm run build` (and `npm pack` through prepack): compiles lambda/ to dist/lambda/ with tsc
// (tsconfig.build.json) and copies the demo's fixture clusters (the test/fixtures/ directories
// with an aws.json: manifests and AWS answers only) to dist/fixtures/, where the shipped
// `audit --demo` finds them. Plain JavaScript, so building needs no TypeScript loader.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const fixtures = join(root, 'test/fixtures');
let copied = 0;
for (const name of readdirSync(fixtures)) {
  const dir = join(fixtures, name);
  if (!existsSync(join(dir, 'aws.json'))) continue;
  const target = join(dist, 'fixtures', name);
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(dir)) {
    if (file === 'aws.json' || file.endsWith('.yaml') || file.endsWith('.yml')) {
      cpSync(join(dir, file), join(target, file));
    }
  }
  copied += 1;
}
console.error(`build: dist/lambda compiled, ${copied} demo fixtures in dist/fixtures`);
