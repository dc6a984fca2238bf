/**
 * `npm run bench -- --baseline <git-rev> [--repeat R]`: this working tree against another build,
 * back to back on the same synthetic clusters. The baseline is checked out into a temporary git
 * worktree (sharing this node_modules), its own bench/audit-child.ts bundled with its own
 * esbuild options and run with its own function's NODE_OPTIONS; the API server and the AWS
 * answers are this tree's, so both builds audit the same cluster. Each build diffs against a
 * previous report it wrote itself (one seed run per build and size, not measured). Per size and
 * latency the builds run alternately, R times each (A B, B A, A B, ...), and the table gives the
 * medians and their ratios (this / baseline): wall time and the audit process's peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

export interface Build {
  /** `this` or the baseline's revision. */
  name: string;
  bundle: string;
  nodeOptions: string;
  /** The function's other process settings (glibc's arenas); none before round 3. */
  processEnv: Readonly<Record<string, string>>;
}

export interface CompareDeps {
  sizes: number[];
  latencies: number[];
  repeat: number;
  work: string;
  current: Build;
  startServer(
    n: number,
    latencyMs: number,
  ): Promise<{
    info: Record<string, unknown>;
    stats(): Promise<unknown>;
    stop(): void;
  }>;
  childArgs(server: Record<string, unknown>, n: number): Record<string, unknown>;
  runAuditChild(
    build: Build,
    args: object,
  ): { wallMs: number; peakRssMb: number; findings: number };
}

interface BundlingModule {
  esbuildOptions(outfile: string): BuildOptions;
  LAMBDA_NODE_OPTIONS: string;
  LAMBDA_PROCESS_ENV?: Readonly<Record<string, string>>;
}

/** Checks `rev` out beside the scratch files and bundles its audit child as that build would. */
export async function baselineBuild(rev: string, work: string): Promise<Build> {
  const sha = execFileSync('git', ['rev-parse', '--short', `${rev}^{commit}`], {
    encoding: 'utf8',
  }).trim();
  const dir = join(work, `baseline-${sha}`);
  execFileSync('git', ['worktree', 'add', '--detach', '--force', dir, sha], { stdio: 'ignore' });
  if (!existsSync(join(dir, 'node_modules'))) {
    symlinkSync(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'), 'dir');
  }
  const bundling = (await import(
    pathToFileURL(join(dir, 'infra', 'bundling.ts')).href
  )) as BundlingModule;
  const outdir = join(work, `bundle-${sha}`);
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, 'audit-child.mjs');
  await build({
    ...bundling.esbuildOptions(outfile),
    entryPoints: [join(dir, 'bench', 'audit-child.ts')],
    absWorkingDir: dir,
    metafile: false,
  });
  return {
    name: sha,
    bundle: outfile,
    nodeOptions: bundling.LAMBDA_NODE_OPTIONS,
    processEnv: bundling.LAMBDA_PROCESS_ENV ?? {},
  };
}

/** Removes the baseline's worktree (its files are under the scratch folder, removed anyway). */
export function removeBaseline(work: string, build: Build | undefined): void {
  if (!build) return;
  try {
    execFileSync('git', ['worktree', 'remove', '--force', join(work, `baseline-${build.name}`)], {
      stdio: 'ignore',
    });
  } catch {
    // Already gone.
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function compareBuilds(
  deps: CompareDeps,
  baseline: Build,
): Promise<{ rows: Record<string, unknown>[]; table: string }> {
  const builds = [baseline, deps.current];
  const rows: Record<string, unknown>[] = [];
  const summary: string[] = [];
  const pad = (v: unknown, w: number) => String(v).padStart(w);
  const header = `${pad('N', 6)} ${pad('lat', 4)} ${pad(`wall ${baseline.name}`, 13)} ${pad('wall this', 10)} ${pad('ratio', 6)} ${pad(`RSS ${baseline.name}`, 12)} ${pad('RSS this', 9)} ${pad('ratio', 6)} ${pad('findings', 15)}  runs (wall ms/RSS MB, in order)`;
  summary.push(header, '-'.repeat(header.length));
  for (const latencyMs of deps.latencies) {
    for (const n of deps.sizes) {
      const server = await deps.startServer(n, latencyMs);
      try {
        const args = deps.childArgs(server.info, n);
        const previous = new Map<string, string>();
        for (const b of builds) {
          const seedOut = join(deps.work, `previous-${b.name}-${n}-${latencyMs}.json`);
          deps.runAuditChild(b, { ...args, seedOut });
          previous.set(b.name, seedOut);
        }
        await server.stats();
        const runs = new Map<string, { wallMs: number; peakRssMb: number; findings: unknown }[]>(
          builds.map((b) => [b.name, []]),
        );
        const order: string[] = [];
        for (let r = 0; r < deps.repeat; r++) {
          for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
            const figures = deps.runAuditChild(b, { ...args, previous: previous.get(b.name) });
            await server.stats();
            runs.get(b.name)!.push(figures as never);
            rows.push({ build: b.name, namespaces: n, latencyMs, repetition: r, ...figures });
            order.push(
              `${b.name === baseline.name ? 'B' : 'T'} ${figures.wallMs}/${figures.peakRssMb}`,
            );
            console.error(
              `bench: ${b.name} N=${n} latency=${latencyMs}ms wall=${figures.wallMs}ms rss=${figures.peakRssMb}MB`,
            );
          }
        }
        const [base, ours] = builds.map((b) => runs.get(b.name)!);
        const wall = [median(base!.map((x) => x.wallMs)), median(ours!.map((x) => x.wallMs))];
        const rss = [median(base!.map((x) => x.peakRssMb)), median(ours!.map((x) => x.peakRssMb))];
        summary.push(
          `${pad(n, 6)} ${pad(latencyMs, 4)} ${pad(wall[0], 13)} ${pad(wall[1], 10)} ${pad((wall[1]! / wall[0]!).toFixed(2), 6)} ${pad(rss[0], 12)} ${pad(rss[1], 9)} ${pad((rss[1]! / rss[0]!).toFixed(2), 6)} ${pad(`${base![0]!.findings}/${ours![0]!.findings}`, 15)}  ${order.join(', ')}`,
        );
      } finally {
        server.stop();
      }
    }
  }
  return { rows, table: summary.join('\n') };
}
