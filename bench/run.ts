/**
 * `npm run bench`: one Lambda handler invocation (collect + all checks + drift against the
 * previous report + archive + email/SNS rendering, S3 faked at the HTTP layer, SNS mocked) against
 * synthetic clusters of growing size, each in a fresh process against a local test API server in
 * another process, at 0 ms and 20 ms per-request latency; a kubectl loop doing the token check
 * alone as the baseline; and the Lambda bundle's size and cold import time. Per size, a seed run
 * dated a day earlier writes the previous report first (not measured). Prints one table and
 * writes bench/results.json (not committed).
 *
 *   npm run bench -- [--sizes 10,100,1000,5000] [--latency 0,20] [--secret-concurrency N]
 *                    [--page-size N] [--skip-baseline] [--skip-bundle] [--node-options '...']
 *
 * With `--baseline <git-rev> [--repeat R]`, this tree against that build, back to back, R runs
 * each, alternating (bench/compare.ts); medians and ratios. (`--skip-baseline` is about the
 * kubectl loop, not this.)
 *
 * With `--fleet N [--namespaces M] [--concurrency C] [--seed K]`, a fleet run through the local state
 * machine executor instead (bench/fleet.ts; `--latency` then takes one value, the first).
 *
 * With `--timings`, the time goals that tests no longer assert (bench/timings.ts) instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { esbuildOptions, LAMBDA_NODE_OPTIONS, LAMBDA_PROCESS_ENV } from '../infra/bundling.js';
import { KUBE_KINDS } from '../lambda/collect/kube/kinds.js';
import type { Build } from './compare.js';
import { awsResponses, BENCH_CLUSTER, BENCH_TOKEN } from './generate.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,100,1000,5000' },
    latency: { type: 'string', default: '0,20' },
    'secret-concurrency': { type: 'string', default: '' },
    'page-size': { type: 'string', default: '500' },
    'skip-baseline': { type: 'boolean', default: false },
    'skip-bundle': { type: 'boolean', default: false },
    /** NODE_OPTIONS of the audit child instead of the function's (e.g. '' for V8's defaults). */
    'node-options': { type: 'string' },
    /**
     * Profiling: with --profile-dir, the measured audit runs write a V8 CPU profile there
     * (--cpu-prof) and/or heap snapshots at the named marks of bench/audit-child.ts
     * (--heap-snapshot-at collectEnd,auditEnd); the audit bundle and its source map are copied
     * there to read them. Profiled runs are slower: never compare their figures.
     */
    'profile-dir': { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'heap-snapshot-at': { type: 'string', default: '' },
    /** The highest RSS per phase of the measured runs, sampled by a worker thread every 10 ms. */
    'rss-timeline': { type: 'boolean', default: false },
    /** Compare against this git revision, back to back (bench/compare.ts). */
    baseline: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    /** Fleet mode (bench/fleet.ts): clusters, namespaces per cluster, the Map's MaxConcurrency. */
    fleet: { type: 'string' },
    namespaces: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '10' },
    /** Timing goals moved out of the tests (bench/timings.ts). */
    timings: { type: 'boolean', default: false },
    /** Fleet mode: clusters the seed execution audits (default all; see bench/fleet.ts). */
    seed: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const latencies = values.latency.split(',').map(Number);
const pageSize = Number(values['page-size']);
const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
// Inside the project, so bundles can still require() what the test mocks load at run time.
mkdirSync(join(process.cwd(), 'node_modules', '.cache'), { recursive: true });
const work = mkdtempSync(join(process.cwd(), 'node_modules', '.cache', 'bench-'));

/** The default secret GET concurrency, unless overridden on the command line. */
async function defaultSecretConcurrency(): Promise<number> {
  if (values['secret-concurrency']) return Number(values['secret-concurrency']);
  const { auditorConfigSchema } = await import('../lambda/config/config.js');
  return auditorConfigSchema.parse({ clusters: [{ name: 'x' }] }).kubernetes.secretConcurrency;
}

interface ServerHandle {
  info: {
    url: string;
    caData: string;
    token: string;
    kubeconfig: string;
    objects: number;
    objectsByResource: Record<string, number>;
  };
  stats(): Promise<{
    listPages: number;
    gets: number;
    reviews: number;
    discovery: number;
    total: number;
    byPath: Record<string, number>;
  }>;
  stop(): void;
}

async function startServer(n: number, latencyMs: number): Promise<ServerHandle> {
  const child = spawn(tsx, ['bench/server-child.ts', String(n), String(latencyMs), work], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const queue: ((line: string) => void)[] = [];
  lines.on('line', (line) => queue.shift()?.(line));
  const next = () => new Promise<string>((resolve) => queue.push(resolve));
  const info = JSON.parse(await next());
  return {
    info,
    stats: async () => {
      child.stdin.write('stats\n');
      return JSON.parse(await next());
    },
    stop: () => {
      child.stdin.write('exit\n');
      child.stdin.end();
    },
  };
}

interface AuditFigures {
  wallMs: number;
  collectMs: number;
  kubeListPages: number;
  kubeGets: number;
  awsCalls: number;
  findings: number;
  fail: number;
  error: number;
  failingByCheck: Record<string, number>;
  drift: { new: number; resolved: number; firstRun: boolean };
  published: number;
  archiveBytes: number;
  peakRssMb: number;
}

/**
 * The audit process runs as an esbuild bundle on plain node, built with the Lambda's options
 * (minified, same plugins, source map) and run with the Lambda's NODE_OPTIONS: under tsx its RSS would mostly be the TypeScript loader's, and an
 * unminified bundle keeps twice its size in source text on the heap.
 */
async function bundleAuditChild(): Promise<string> {
  const outfile = join(work, 'audit-child.mjs');
  await build({
    ...esbuildOptions(outfile),
    entryPoints: ['bench/audit-child.ts'],
    metafile: false,
  });
  return outfile;
}

const childNodeOptions = values['node-options'] ?? LAMBDA_NODE_OPTIONS;

const profileDir = values['profile-dir'];
if (profileDir) mkdirSync(profileDir, { recursive: true });

function runAuditChild(
  bundle: string,
  args: object,
  measured = false,
  nodeOptions = childNodeOptions,
  processEnv: Readonly<Record<string, string>> = LAMBDA_PROCESS_ENV,
): AuditFigures {
  const profile =
    measured && profileDir
      ? {
          flags: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
          args: { profileDir, heapSnapshotAt: values['heap-snapshot-at'].split(',') },
        }
      : { flags: [], args: {} };
  if (measured && values['rss-timeline']) Object.assign(profile.args, { rssTimeline: true });
  const out = spawnSync(
    process.execPath,
    [...profile.flags, bundle, JSON.stringify({ ...args, ...profile.args })],
    {
      encoding: 'utf8',
      // The function's process settings (infra/bundling.ts), as Lambda starts it.
      env: { ...process.env, ...processEnv, NODE_OPTIONS: nodeOptions },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (out.status !== 0)
    throw new Error(`audit process failed (${out.status}): ${out.stderr.slice(-2000)}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!);
}

/** What a user would script by hand for the token check alone, one kubectl call per namespace. */
function kubectlBaseline(
  kubeconfig: string,
): { wallMs: number; mismatches: number } | { skipped: string } {
  if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status !== 0) {
    return { skipped: 'kubectl not found on PATH' };
  }
  const script = `
set -u
expected=$(printf %s "$SM_TOKEN" | sha256sum | cut -d' ' -f1)
mismatches=0
for ns in $(kubectl get namespaces -o jsonpath='{.items[*].metadata.name}'); do
  case "$ns" in app-*) ;; *) continue ;; esac
  got=$(kubectl -n "$ns" get secret datadog-token -o jsonpath='{.data.token}' 2>/dev/null | base64 -d | sha256sum | cut -d' ' -f1)
  [ "$got" = "$expected" ] || mismatches=$((mismatches+1))
done
echo "$mismatches"
`;
  const t0 = performance.now();
  const out = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfig, SM_TOKEN: BENCH_TOKEN },
  });
  const wallMs = performance.now() - t0;
  if (out.status !== 0) return { skipped: `kubectl loop failed: ${out.stderr.slice(-300)}` };
  return { wallMs: Math.round(wallMs), mismatches: Number(out.stdout.trim()) };
}

async function bundleFigures(): Promise<{
  bytes: number;
  coldImportMs: number[];
  medianMs: number;
  topInputs: [string, number][];
}> {
  const outfile = join(work, 'bundle', 'index.mjs');
  mkdirSync(join(work, 'bundle'), { recursive: true });
  const result = await build(esbuildOptions(outfile));
  const bytes = statSync(outfile).size;
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(
    result.metafile!.outputs[outfile.replace(process.cwd() + '/', '')]?.inputs ?? {},
  )) {
    const pkg = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? '(own code)';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  const probe = `
const t0 = performance.now();
process.env.AUDITOR_CONFIG = JSON.stringify({ region: 'eu-west-1', clusters: [{ name: 'c' }] });
process.env.AWS_REGION = 'eu-west-1';
const mod = await import(${JSON.stringify(outfile)});
if (typeof mod.handler !== 'function') throw new Error('bundle exports no handler');
process.stdout.write(String(performance.now() - t0));
`;
  const coldImportMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      encoding: 'utf8',
      env: { ...process.env, ...LAMBDA_PROCESS_ENV, NODE_OPTIONS: LAMBDA_NODE_OPTIONS },
    });
    if (out.status !== 0) throw new Error(`bundle import failed: ${out.stderr.slice(-1000)}`);
    coldImportMs.push(Math.round(Number(out.stdout)));
  }
  const sorted = [...coldImportMs].sort((a, b) => a - b);
  return {
    bytes,
    coldImportMs,
    medianMs: sorted[2]!,
    topInputs: [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8),
  };
}

const pad = (v: unknown, w: number) => String(v).padStart(w);

/**
 * The list pages the goal allows: ceil(objects / page size) per listed kind, at least one (an
 * empty list is still one request), plus one 404 per fallback version of a CRD group the cluster
 * does not serve at all.
 */
function expectedListPages(objectsByResource: Record<string, number>): number {
  let pages = 0;
  for (const kind of KUBE_KINDS.filter((k) => k.verbs.includes('list'))) {
    const objects = objectsByResource[`${kind.group}/${kind.resource}`] ?? 0;
    pages += Math.max(1, Math.ceil(objects / pageSize));
    const groupServed = Object.keys(objectsByResource).some((k) => k.startsWith(`${kind.group}/`));
    if (kind.group && !groupServed) pages += kind.fallbackVersions?.length ?? 0;
  }
  return pages;
}

async function main(): Promise<void> {
  if (values.timings) {
    const { runTimingsBench } = await import('./timings.js');
    if (!(await runTimingsBench())) process.exitCode = 1;
    return;
  }
  const secretConcurrency = await defaultSecretConcurrency();
  if (values.fleet) {
    const { runFleetBench } = await import('./fleet.js');
    await runFleetBench({
      clusters: Number(values.fleet),
      namespaces: Number(values.namespaces),
      concurrency: Number(values.concurrency),
      ...(values.seed !== undefined ? { seedClusters: Number(values.seed) } : {}),
      latencyMs: latencies[0] ?? 0,
      pageSize,
      secretConcurrency,
      ...(values['node-options'] !== undefined ? { nodeOptions: values['node-options'] } : {}),
      work,
      tsx,
    });
    return;
  }
  const awsDir = join(work, 'aws');
  mkdirSync(awsDir, { recursive: true });
  writeFileSync(join(awsDir, 'aws.json'), JSON.stringify(awsResponses(BENCH_CLUSTER)));

  const auditBundle = await bundleAuditChild();
  if (profileDir) {
    copyFileSync(auditBundle, join(profileDir, 'audit-child.mjs'));
    copyFileSync(`${auditBundle}.map`, join(profileDir, 'audit-child.mjs.map'));
  }
  if (values.baseline) {
    await compare(values.baseline, auditBundle, awsDir, secretConcurrency);
    return;
  }
  const rows: Record<string, unknown>[] = [];
  const baselines: Record<string, unknown>[] = [];
  console.error(
    `bench: page size ${pageSize}, secret GET concurrency ${secretConcurrency}, NODE_OPTIONS '${childNodeOptions}', ${JSON.stringify(LAMBDA_PROCESS_ENV)}, node ${process.version}`,
  );
  /** latest.json of a run one day earlier, per N: the previous report the measured run diffs. */
  const previous = new Map<number, string>();
  for (const latencyMs of latencies) {
    for (const n of sizes) {
      const server = await startServer(n, latencyMs);
      try {
        const childArgs = { ...server.info, n, awsDir, pageSize, secretConcurrency };
        if (!previous.has(n)) {
          const seedOut = join(work, `previous-${n}.json`);
          runAuditChild(auditBundle, { ...childArgs, seedOut });
          previous.set(n, seedOut);
          await server.stats(); // the seed run's requests are not counted
        }
        const figures = runAuditChild(
          auditBundle,
          { ...childArgs, previous: previous.get(n) },
          true,
        );
        const requests = await server.stats();
        const row = {
          namespaces: n,
          latencyMs,
          objects: server.info.objects,
          ...figures,
          serverListPages: requests.listPages,
          expectedListPages: expectedListPages(server.info.objectsByResource),
          serverGets: requests.gets,
          serverAccessReviews: requests.reviews,
          serverDiscovery: requests.discovery,
          listPagesByPath: requests.byPath,
          requestsPerNamespace: Number((requests.total / n).toFixed(2)),
        };
        rows.push(row);
        console.error(
          `bench: N=${n} latency=${latencyMs}ms wall=${figures.wallMs}ms rss=${figures.peakRssMb}MB`,
        );
        if (n === 100 && !values['skip-baseline']) {
          const base = kubectlBaseline(server.info.kubeconfig);
          baselines.push({
            namespaces: n,
            latencyMs,
            ...base,
            oursMs: figures.wallMs,
            ratio: 'wallMs' in base ? Number((base.wallMs / figures.wallMs).toFixed(1)) : null,
          });
        }
      } finally {
        server.stop();
      }
    }
  }
  const bundle = values['skip-bundle'] ? undefined : await bundleFigures();

  const header = `${pad('N', 6)} ${pad('lat', 4)} ${pad('wall ms', 8)} ${pad('list pages', 10)} ${pad('(goal)', 6)} ${pad('GETs', 6)} ${pad('SARs', 5)} ${pad('AWS', 4)} ${pad('RSS MB', 7)} ${pad('archive MB', 10)} ${pad('findings', 8)} ${pad('FAIL', 5)} ${pad('req/ns', 7)}`;
  const lines = [header, '-'.repeat(header.length)];
  for (const r of rows) {
    lines.push(
      `${pad(r.namespaces, 6)} ${pad(r.latencyMs, 4)} ${pad(r.wallMs, 8)} ${pad(r.serverListPages, 10)} ${pad(r.expectedListPages, 6)} ${pad(r.serverGets, 6)} ${pad(r.serverAccessReviews, 5)} ${pad(r.awsCalls, 4)} ${pad(r.peakRssMb, 7)} ${pad((Number(r.archiveBytes) / 1048576).toFixed(1), 10)} ${pad(r.findings, 8)} ${pad(r.fail, 5)} ${pad(r.requestsPerNamespace, 7)}`,
    );
  }
  for (const b of baselines) {
    lines.push(
      'wallMs' in b
        ? `kubectl loop, token check only, N=${b.namespaces} at ${b.latencyMs} ms: ${b.wallMs} ms vs ours ${b.oursMs} ms (full audit): ${b.ratio}x`
        : `kubectl baseline skipped: ${b.skipped}`,
    );
  }
  if (bundle) {
    lines.push(
      `bundle: ${(bundle.bytes / 1024 / 1024).toFixed(2)} MB minified; cold import + handler construction median ${bundle.medianMs} ms (runs: ${bundle.coldImportMs.join(', ')})`,
      `bundle by package: ${bundle.topInputs.map(([p, b]) => `${p} ${(b / 1024).toFixed(0)} KB`).join(', ')}`,
    );
  }
  console.log(lines.join('\n'));
  writeFileSync(
    join(process.cwd(), 'bench', 'results.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        pageSize,
        secretConcurrency,
        nodeOptions: childNodeOptions,
        rows,
        baselines,
        bundle,
      },
      null,
      2,
    ) + '\n',
  );
}

/** `--baseline REV`: this build against REV's, alternately on the same servers. */
async function compare(
  rev: string,
  auditBundle: string,
  awsDir: string,
  secretConcurrency: number,
): Promise<void> {
  const { baselineBuild, compareBuilds, removeBaseline } = await import('./compare.js');
  let baseline: Build | undefined;
  try {
    baseline = await baselineBuild(rev, work);
    const current: Build = {
      name: 'this',
      bundle: auditBundle,
      nodeOptions: childNodeOptions,
      processEnv: LAMBDA_PROCESS_ENV,
    };
    console.error(
      `bench: ${baseline.name} (NODE_OPTIONS '${baseline.nodeOptions}', ${JSON.stringify(baseline.processEnv)}) against this tree (NODE_OPTIONS '${childNodeOptions}', ${JSON.stringify(LAMBDA_PROCESS_ENV)}), ${values.repeat} runs each, node ${process.version}`,
    );
    const { rows, table } = await compareBuilds(
      {
        sizes,
        latencies,
        repeat: Number(values.repeat),
        work,
        current,
        startServer,
        childArgs: (info, n) => ({ ...info, n, awsDir, pageSize, secretConcurrency }),
        runAuditChild: (b, args) =>
          runAuditChild(b.bundle, args, false, b.nodeOptions, b.processEnv),
      },
      baseline,
    );
    console.log(table);
    writeFileSync(
      join(process.cwd(), 'bench', 'results.json'),
      JSON.stringify(
        { at: new Date().toISOString(), node: process.version, baseline: rev, rows, table },
        null,
        2,
      ) + '\n',
    );
  } finally {
    removeBaseline(work, baseline);
  }
}

try {
  await main();
} finally {
  // Bundles, kubeconfigs and previous reports (35 MB at N=5000): scratch for this run only. A
  // failed fleet run may leave workers writing into it: retried, and never hiding main's error.
  try {
    rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
  } catch (err) {
    console.error(`bench: scratch ${work} not removed: ${(err as Error).message}`);
  }
}
