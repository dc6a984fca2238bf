/**
 * Summarises a V8 heap snapshot of the audit process (`npm run bench -- --profile-dir D
 * --heap-snapshot-at collectEnd,auditEnd`): live bytes by kind of object, plain objects told
 * apart by their property names (a Finding, a ResourceRef, a pod's meta), so the summary says
 * which of the auditor's own structures hold the heap. Only reachable objects are counted.
 *
 *   node --max-old-space-size=4096 node_modules/.bin/tsx bench/heap-snapshot.ts D/N-auditEnd.heapsnapshot [--top 40]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' } },
});
const top = Number(values.top);
const snap = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Snapshot;
const { meta } = snap.snapshot;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nType = meta.node_fields.indexOf('type');
const nName = meta.node_fields.indexOf('name');
const nSize = meta.node_fields.indexOf('self_size');
const nEdges = meta.node_fields.indexOf('edge_count');
const eType = meta.edge_fields.indexOf('type');
const eName = meta.edge_fields.indexOf('name_or_index');
const eTo = meta.edge_fields.indexOf('to_node');
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const { nodes, edges, strings } = snap;
const count = nodes.length / NF;

const firstEdge = new Uint32Array(count + 1);
for (let i = 0, e = 0; i < count; i++) {
  firstEdge[i] = e;
  e += nodes[i * NF + nEdges]! * EF;
}
firstEdge[count] = edges.length;

// Reachable from the root (node 0), not through weak edges.
const reachable = new Uint8Array(count);
const stack = [0];
reachable[0] = 1;
while (stack.length) {
  const i = stack.pop()!;
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += EF) {
    if (edgeTypes[edges[e + eType]!] === 'weak') continue;
    const to = edges[e + eTo]! / NF;
    if (!reachable[to]) {
      reachable[to] = 1;
      stack.push(to);
    }
  }
}

/** For a string: the property name of one edge that refers to it (`message`, `id`, `name`). */
const referredAs = new Int32Array(count).fill(-1);
for (let i = 0; i < count; i++) {
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += EF) {
    const kind = edgeTypes[edges[e + eType]!];
    const to = edges[e + eTo]! / NF;
    if (referredAs[to] !== -1) continue;
    if (kind === 'property') referredAs[to] = edges[e + eName]!;
    else if (kind === 'element') referredAs[to] = -2;
  }
}

function label(i: number): string {
  const type = nodeTypes[nodes[i * NF + nType]!]!;
  const name = strings[nodes[i * NF + nName]!]!;
  if (type === 'object' && (name === 'Object' || name === 'Array')) {
    const props: string[] = [];
    for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += EF) {
      if (edgeTypes[edges[e + eType]!] === 'property') props.push(strings[edges[e + eName]!]!);
    }
    const shown = props.filter((p) => !p.startsWith('__proto__') && p !== 'map').slice(0, 8);
    return `${name}{${shown.join(',')}}`;
  }
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
    const r = referredAs[i]!;
    return `${type} as ${r === -2 ? '[element]' : r === -1 ? '(internal)' : strings[r]}`;
  }
  if (type === 'array' || type === 'hidden' || type === 'code')
    return `${type} ${name.slice(0, 40)}`;
  return `${type} ${name.slice(0, 60)}`;
}

const bytes = new Map<string, number>();
const objects = new Map<string, number>();
let total = 0;
for (let i = 0; i < count; i++) {
  if (!reachable[i]) continue;
  const size = nodes[i * NF + nSize]!;
  total += size;
  const l = label(i);
  bytes.set(l, (bytes.get(l) ?? 0) + size);
  objects.set(l, (objects.get(l) ?? 0) + 1);
}
console.log(
  `reachable: ${(total / 1048576).toFixed(1)} MB in ${reachable.reduce((a, b) => a + b, 0)} nodes`,
);
for (const [l, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(
    `${(b / 1048576).toFixed(2).padStart(7)} MB ${String(objects.get(l)).padStart(8)}  ${l}`,
  );
}
