/**
 * Reads a V8 CPU profile of the bundled audit process (`npm run bench -- --profile-dir D
 * --cpu-prof`) and prints where the time went, mapped back to the sources through the bundle's
 * source map: self time per source file and per function, and total (inclusive) time of the
 * functions of the auditor's own code.
 *
 *   npx tsx bench/cpu-profile.ts D/CPU.*.cpuprofile D/audit-child.mjs.map [--top 40]
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '40' },
    /** bench/results.json: CPU and GC time per phase of its first row's marks. */
    results: { type: 'string' },
  },
});
const [profilePath, mapPath] = positionals;
if (!profilePath || !mapPath) {
  console.error('usage: tsx bench/cpu-profile.ts <profile.cpuprofile> <bundle.mjs.map> [--top N]');
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
const map = new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMapPayload);

/** Where a frame comes from: `file:line name`, with the original file and name when mapped. */
function place(node: ProfileNode): { file: string; fn: string } {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame;
  if (functionName === '(gc)') return { file: '(gc)', fn: '(gc)' };
  if (!url.endsWith('audit-child.mjs')) {
    return { file: url || '(native)', fn: functionName || '(anonymous)' };
  }
  const entry = map.findEntry(lineNumber, columnNumber) as {
    originalSource?: string;
    originalLine?: number;
    name?: string;
  };
  if (!entry.originalSource) return { file: '(bundle)', fn: functionName };
  const file = entry.originalSource.replace(/^.*?(node_modules\/|lambda\/|bench\/|test\/)/, '$1');
  return {
    file,
    fn: `${entry.name ?? functionName ?? '(anonymous)'} ${file}:${(entry.originalLine ?? 0) + 1}`,
  };
}

const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
/**
 * Samples in the garbage collector have no stack; they are charged to the stack of the sample
 * before them (what was allocating when the collection started), under a `(gc)` leaf.
 */
const gcNode = profile.nodes.find((n) => n.callFrame.functionName === '(garbage collector)');
const gcUnder = new Map<number, number>();
let nextId = Math.max(...profile.nodes.map((n) => n.id)) + 1;
const selfUs = new Map<number, number>();
let previous: number | undefined;
profile.samples.forEach((sampled, i) => {
  let id = sampled;
  if (gcNode && sampled === gcNode.id && previous !== undefined) {
    let leaf = gcUnder.get(previous);
    if (leaf === undefined) {
      leaf = nextId++;
      gcUnder.set(previous, leaf);
      const node: ProfileNode = {
        id: leaf,
        callFrame: { ...gcNode.callFrame, functionName: '(gc)' },
      };
      profile.nodes.push(node);
      parentOf.set(leaf, previous);
    }
    id = leaf;
  } else previous = sampled;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

const places = new Map(profile.nodes.map((n) => [n.id, place(n)]));
const selfByFile = new Map<string, number>();
const selfByFn = new Map<string, number>();
/** Inclusive time per function: each sample counts once per distinct function on its stack. */
const inclusiveByFn = new Map<string, number>();
for (const [id, us] of selfUs) {
  const p = places.get(id)!;
  selfByFile.set(p.file, (selfByFile.get(p.file) ?? 0) + us);
  selfByFn.set(p.fn, (selfByFn.get(p.fn) ?? 0) + us);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const fn = places.get(at)!.fn;
    if (seen.has(fn)) continue;
    seen.add(fn);
    inclusiveByFn.set(fn, (inclusiveByFn.get(fn) ?? 0) + us);
  }
}

const ms = (us: number) =>
  `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
const print = (
  title: string,
  m: Map<string, number>,
  filter: (k: string) => boolean = () => true,
) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    console.log(`${ms(us)}  ${k}`);
  }
};
console.log(`total sampled ${(totalUs / 1000).toFixed(0)} ms`);
print('self time by source file', selfByFile);
print('self time by function', selfByFn);
print('inclusive time, own code (lambda/)', inclusiveByFn, (k) => k.includes(' lambda/'));

if (values.results) {
  const row = (
    JSON.parse(readFileSync(values.results, 'utf8')) as {
      rows: { marks: Record<string, number>; t0Us: number }[];
    }
  ).rows[0]!;
  const phases = Object.entries(row.marks).sort((a, b) => a[1] - b[1]);
  const idle = profile.nodes.find((n) => n.callFrame.functionName === '(idle)')?.id;
  const perPhase = new Map<string, { cpu: number; gc: number }>();
  let at = profile.startTime - row.t0Us;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const ms = at / 1000;
    const phase = [...phases].reverse().find(([, t]) => t <= ms)?.[0] ?? 'before';
    const p = perPhase.get(phase) ?? { cpu: 0, gc: 0 };
    const us = profile.timeDeltas[i] ?? 0;
    if (id !== idle) p.cpu += us;
    if (id === gcNode?.id) p.gc += us;
    perPhase.set(phase, p);
  });
  console.log('\nCPU and GC per phase (phase = from this mark to the next)');
  for (const [name, t] of [['before', 0] as const, ...phases]) {
    const p = perPhase.get(name);
    if (p)
      console.log(
        `${String(t).padStart(7)} ms  ${name.padEnd(22)} cpu ${(p.cpu / 1000).toFixed(0).padStart(6)} ms  gc ${(p.gc / 1000).toFixed(0).padStart(6)} ms`,
      );
  }
}
