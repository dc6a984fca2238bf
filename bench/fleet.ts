/**
 * `npm run bench -- --fleet N [--namespaces M] [--concurrency C] [--latency L]`: one fleet run
 * (N clusters x M namespaces) through the SYNTHESIZED state machine, executed locally by
 * aws-local-stepfunctions, with every Task state bound to one child process per invocation that
 * runs the real fleet handler (fleet-worker.ts, bundled as the Lambda is bundled, with the NODE_OPTIONS,
 * memory-derived heap limits and timeout that the synthesized function carries). The Map runs at
 * most C iterations at once (the definition's MaxConcurrency). Above the default
 * inlineMaxClusters (100) the definition takes its Distributed Map, played by
 * test/support/distributed-map.ts (ItemReader, child executions, ResultWriter; the local executor
 * has none of them), so the finish step reads the ResultWriter's files as deployed.
 *
 * Kubernetes: ONE server process (server-child.ts) serves the generated M-namespace cluster and
 * every audited cluster talks to it (one shared URL); each cluster's AWS side is the bench
 * fixture's responses under that cluster's name. S3 is a directory shared by all processes
 * (fleet-s3.ts). A seed execution dated a day earlier (not measured) writes the previous reports,
 * so the measured run's deliveries diff, archive and publish as a nightly run does (`--seed K`:
 * see FleetBenchOptions.seedClusters).
 *
 * Prints per-step figures (per-cluster handler and process wall time min/median/p95/max, peak RSS
 * per worker) and the execution's total wall time; writes bench/fleet-results.json (not committed).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { StateMachine } from 'aws-local-stepfunctions';
import { build } from 'esbuild';
import { esbuildOptions, LAMBDA_PROCESS_ENV } from '../infra/bundling.js';
import { STATE } from '../infra/fleet.js';
import { runKey, type DeliverResult } from '../lambda/run/fleet/run.js';
import { flat, synth } from '../test/infra/support.js';
import { distributedMapAdapter, withAslTaskTimeouts } from '../test/support/distributed-map.js';
import { dirBucketClient } from './fleet-s3.js';
import type { FleetStep, FleetWorkerRequest, FleetWorkerResponse } from './fleet-worker.js';
import { awsResponses } from './generate.js';

export interface FleetBenchOptions {
  clusters: number;
  namespaces: number;
  concurrency: number;
  /**
   * Clusters the seed execution audits (default: all). With K < N, the seed audits the first K
   * and their latest.json is copied under every other cluster's key, so each measured delivery
   * still reads, parses and diffs a previous report of the same size (its finding ids name
   * another cluster, so the diff sees every failing finding as new and every previous one as
   * resolved: no less work than a real night). Halves the cost of a 1,000-cluster run.
   */
  seedClusters?: number;
  latencyMs: number;
  pageSize: number;
  secretConcurrency: number;
  /** NODE_OPTIONS for every worker instead of each function's own. */
  nodeOptions?: string;
  /** Scratch directory of this benchmark run. */
  work: string;
  tsx: string;
}

const BUCKET = 'bench-archive';
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:bench';
const SEED_AT = '2026-11-23T02:00:00Z';
const MEASURED_AT = '2026-11-24T02:00:00Z';

/** What the stack deploys for one Task state's function, read from the synthesized template. */
export interface FunctionSpec {
  logicalId: string;
  memoryMb: number;
  timeoutS: number;
  nodeOptions: string;
  processEnv: Record<string, string>;
  architecture: string;
}

interface Invocation {
  step: FleetStep;
  cluster?: string;
  handlerMs: number;
  /** Spawn to exit: the handler plus a cold start (process start, bundle import, clients). */
  processMs: number;
  /** CPU time of the worker process (start-up + handler), independent of the machine's load. */
  cpuMs: number;
  peakRssMb: number;
  error?: string;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** min/median/p95/max of the figures that exist (a crashed worker has no handler time or RSS). */
export function distribution(values: readonly number[]) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? NaN,
    median: percentile(s, 50),
    p95: percentile(s, 95),
    max: s[s.length - 1] ?? NaN,
    sum: s.reduce((a, b) => a + b, 0),
  };
}

async function startServer(o: FleetBenchOptions) {
  const child = spawn(
    o.tsx,
    ['bench/server-child.ts', String(o.namespaces), String(o.latencyMs), o.work],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve) => lines.once('line', resolve));
  const info = JSON.parse(first) as { url: string; caData: string; token: string; objects: number };
  return {
    info,
    stop: () => {
      child.stdin.write('exit\n');
      child.stdin.end();
    },
  };
}

/** The state machine and the Task states' functions, from the stack synthesized for `raw`. */
function synthesize(raw: Record<string, unknown>) {
  const s = synth(raw);
  const [sm] = Object.values(s.template.findResources('AWS::StepFunctions::StateMachine'));
  const text = String(flat(sm!.Properties.DefinitionString))
    .replace(/\{(\w+)\.Arn\}/g, 'arn:aws:lambda:eu-west-1:123456789012:function:$1')
    .replace(new RegExp(`\\{${s.id(s.stack.archive)}\\}`, 'g'), BUCKET);
  const definition = JSON.parse(text) as {
    States: Record<string, Record<string, unknown>>;
  };
  const functions = s.template.findResources('AWS::Lambda::Function');
  const spec = (logicalId: string): FunctionSpec => {
    const p = functions[logicalId]!.Properties as {
      MemorySize: number;
      Timeout: number;
      Architectures?: string[];
      Environment?: { Variables?: Record<string, unknown> };
    };
    return {
      logicalId,
      memoryMb: p.MemorySize,
      timeoutS: p.Timeout,
      nodeOptions: String(p.Environment?.Variables?.NODE_OPTIONS ?? ''),
      // The function's other process settings (infra/bundling.ts), as the template carries them.
      processEnv: Object.fromEntries(
        Object.keys(LAMBDA_PROCESS_ENV)
          .filter((k) => p.Environment?.Variables?.[k] !== undefined)
          .map((k) => [k, String(p.Environment!.Variables![k])]),
      ),
      architecture: p.Architectures?.[0] ?? 'x86_64',
    };
  };
  const resourceOf = (state: Record<string, unknown> | undefined, name: string): string => {
    const m = String(state?.Resource ?? '').match(/function:(\w+)$/);
    if (!m) throw new Error(`state "${name}" of the synthesized definition is not a Lambda task`);
    return m[1]!;
  };
  const mapStates = (definition.States[STATE.inlineMap]!.ItemProcessor as typeof definition).States;
  return {
    definition,
    functions: {
      discover: spec(resourceOf(definition.States[STATE.discover], STATE.discover)),
      audit: spec(resourceOf(mapStates[STATE.audit], STATE.audit)),
      'deliver-cluster': spec(resourceOf(mapStates[STATE.deliverCluster], STATE.deliverCluster)),
      finish: spec(resourceOf(definition.States[STATE.deliver], STATE.deliver)),
    } satisfies Record<FleetStep, FunctionSpec>,
  };
}

function runWorker(
  bundle: string,
  request: FleetWorkerRequest,
  nodeOptions: string,
  processEnv: Record<string, string>,
): Promise<{ response: FleetWorkerResponse; processMs: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle], {
      env: { ...process.env, ...processEnv, NODE_OPTIONS: nodeOptions },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const processMs = Math.round(performance.now() - t0);
      const last = stdout.trim().split('\n').pop();
      if (code !== 0 || !last) {
        // The process died (e.g. out of heap): what Lambda reports as Runtime.ExitError.
        const err = new Error(`${request.step} worker exited with ${code}: ${stderr.slice(-1500)}`);
        err.name = 'Runtime.ExitError';
        reject(err);
        return;
      }
      resolve({ response: JSON.parse(last) as FleetWorkerResponse, processMs });
    });
    child.stdin.end(JSON.stringify(request));
  });
}

export async function runFleetBench(o: FleetBenchOptions): Promise<void> {
  const names = Array.from({ length: o.clusters }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
  const clusters = names.map((name) => ({ name, region: 'eu-west-1' }));
  const raw = {
    clusters,
    notify: 'always',
    // Above the default inlineMaxClusters the run takes the Distributed Map, as deployed.
    fleet: { maxConcurrency: o.concurrency },
    kubernetes: {
      pageSize: o.pageSize,
      secretConcurrency: o.secretConcurrency,
      requestTimeoutMs: 60000,
    },
  };
  // The definition and the functions do not depend on how many clusters are listed (only the
  // stack's per-cluster access entries do, and 1,000 of them exceed CloudFormation's 500
  // resources per stack until issue 22 item 1 lands): synthesized for the first ten.
  const { definition, functions } = synthesize({ ...raw, clusters: clusters.slice(0, 10) });

  const configFile = join(o.work, 'fleet-config.json');
  writeFileSync(configFile, JSON.stringify({ ...raw, archiveBucket: BUCKET, topicArn: TOPIC }));
  const awsRoot = join(o.work, 'fleet-aws');
  for (const name of names) {
    mkdirSync(join(awsRoot, name), { recursive: true });
    writeFileSync(join(awsRoot, name, 'aws.json'), JSON.stringify(awsResponses(name)));
  }
  const bucketDir = join(o.work, 'fleet-bucket');
  mkdirSync(bucketDir, { recursive: true });
  const bundle = join(o.work, 'fleet-worker.mjs');
  await build({
    ...esbuildOptions(bundle),
    entryPoints: ['bench/fleet-worker.ts'],
    metafile: false,
  });

  const server = await startServer(o);
  console.error(
    `bench fleet: ${o.clusters} clusters x ${o.namespaces} namespaces (${server.info.objects} objects each, one shared API server at ${o.latencyMs} ms latency), MaxConcurrency ${o.concurrency}, ${cpus().length} CPUs, node ${process.version}`,
  );
  for (const [step, f] of Object.entries(functions)) {
    console.error(
      `bench fleet: ${step} = ${f.logicalId}: ${f.memoryMb} MB ${f.architecture}, timeout ${f.timeoutS} s, NODE_OPTIONS '${o.nodeOptions ?? f.nodeOptions}', ${JSON.stringify(f.processEnv)}`,
    );
  }

  const execute = async (collectedAt: string, input: Record<string, unknown> = {}) => {
    const invocations: Invocation[] = [];
    const task =
      (step: FleetStep) =>
      async (input: unknown): Promise<unknown> => {
        const f = functions[step];
        const cluster =
          step === 'audit' || step === 'deliver-cluster'
            ? (input as { cluster: { name: string } }).cluster.name
            : undefined;
        const started = performance.now();
        const { response, processMs } = await runWorker(
          bundle,
          {
            step,
            input,
            configFile,
            bucket: BUCKET,
            bucketDir,
            server: server.info,
            awsRoot,
            collectedAt,
            timeoutMs: f.timeoutS * 1000,
          },
          o.nodeOptions ?? f.nodeOptions,
          f.processEnv,
        ).catch((err: Error) => {
          // The process died (out of heap, crash): recorded, then failed as Lambda would.
          invocations.push({
            step,
            ...(cluster ? { cluster } : {}),
            handlerMs: NaN,
            processMs: Math.round(performance.now() - started),
            cpuMs: NaN,
            peakRssMb: NaN,
            error: `${err.name}: ${err.message}`,
          });
          throw err;
        });
        invocations.push({
          step,
          ...(cluster ? { cluster } : {}),
          handlerMs: response.handlerMs,
          processMs,
          cpuMs: response.cpuMs,
          peakRssMb: response.peakRssMb,
          ...(response.error ? { error: `${response.error.name}: ${response.error.message}` } : {}),
        });
        if (response.error) {
          throw Object.assign(new Error(response.error.message), { name: response.error.name });
        }
        return response.result;
      };
    // The Distributed Map's ItemReader, child executions and ResultWriter are played by the
    // test adapter (aws-local-stepfunctions has none of them); its children's states run in
    // the interpreter and every Task is a worker process as above.
    const distributed = distributedMapAdapter(
      withAslTaskTimeouts(definition),
      STATE.distributedMap,
      {
        s3: dirBucketClient(bucketDir, BUCKET),
        childHandlers: {
          [STATE.auditFromS3]: task('audit'),
          [STATE.deliverClusterFromS3]: task('deliver-cluster'),
        },
      },
    );
    const t0 = performance.now();
    const execution = new StateMachine(distributed.definition as never).run(input as never, {
      overrides: {
        taskResourceLocalHandlers: {
          [STATE.discover]: task('discover') as never,
          [STATE.audit]: task('audit') as never,
          [STATE.deliverCluster]: task('deliver-cluster') as never,
          [STATE.distributedMap]: distributed.handler as never,
          [STATE.deliver]: task('finish') as never,
        },
      },
    });
    const result = (await execution.result) as unknown as DeliverResult;
    const path = distributed.runs.length ? 'Distributed Map (S3 list, ResultWriter)' : 'inline Map';
    return { result, wallMs: Math.round(performance.now() - t0), invocations, path };
  };

  try {
    const seedCount = Math.min(o.seedClusters ?? names.length, names.length);
    const seed = await execute(
      SEED_AT,
      seedCount < names.length ? { clusters: names.slice(0, seedCount) } : {},
    );
    for (const [i, name] of names.entries()) {
      if (i < seedCount) continue;
      const from = join(
        bucketDir,
        encodeURIComponent(`reports/${names[i % seedCount]}/latest.json`),
      );
      writeFileSync(
        join(bucketDir, encodeURIComponent(`reports/${name}/latest.json`)),
        readFileSync(from),
      );
    }
    console.error(
      `bench fleet: seed run (not measured) ${seed.wallMs} ms over ${seedCount} clusters${seedCount < names.length ? `, its latest.json copied to the other ${names.length - seedCount}` : ''}`,
    );
    const run = await execute(MEASURED_AT);
    report(o, server.info.objects, functions, run, findingsOf(bucketDir, run.result.runId, names));
  } finally {
    server.stop();
  }
}

/** Findings per status, and the checks with ERROR findings, over the run's cluster reports. */
function findingsOf(bucketDir: string, runId: string, names: string[]) {
  const byStatus: Record<string, number> = {};
  const errorsByCheck: Record<string, number> = {};
  for (const name of names) {
    const file = join(
      bucketDir,
      encodeURIComponent(runKey(runId, `clusters/eu-west-1/${name}.json`)),
    );
    if (!existsSync(file)) {
      // Its audit-cluster invocation failed: deliver reported it as a no-report ERROR.
      byStatus['(no report)'] = (byStatus['(no report)'] ?? 0) + 1;
      continue;
    }
    const report = JSON.parse(readFileSync(file, 'utf8')) as {
      findings: { status: string; checkId: string; messageId?: string }[];
    };
    for (const f of report.findings) {
      byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
      if (f.status === 'ERROR') {
        const id = `${f.checkId}${f.messageId ? `/${f.messageId}` : ''}`;
        errorsByCheck[id] = (errorsByCheck[id] ?? 0) + 1;
      }
    }
  }
  return { byStatus, errorsByCheck };
}

function report(
  o: FleetBenchOptions,
  objects: number,
  functions: Record<FleetStep, FunctionSpec>,
  run: { result: DeliverResult; wallMs: number; invocations: Invocation[]; path: string },
  findings: ReturnType<typeof findingsOf>,
): void {
  const pad = (v: unknown, w: number) => String(v).padStart(w);
  const steps: FleetStep[] = ['discover', 'audit', 'deliver-cluster', 'finish'];
  const rows = steps.map((step) => {
    const inv = run.invocations.filter((i) => i.step === step);
    return {
      step,
      function: functions[step],
      invocations: inv.length,
      errors: inv.filter((i) => i.error).length,
      handlerMs: distribution(inv.map((i) => i.handlerMs)),
      processMs: distribution(inv.map((i) => i.processMs)),
      cpuMs: distribution(inv.map((i) => i.cpuMs)),
      peakRssMb: distribution(inv.map((i) => i.peakRssMb)),
    };
  });
  const dist = (d: ReturnType<typeof distribution>) =>
    `${pad(d.min, 6)} ${pad(d.median, 6)} ${pad(d.p95, 6)} ${pad(d.max, 6)}`;
  const header = `${'step'.padEnd(15)} ${pad('n', 5)} ${pad('mem MB', 6)} | handler ms: ${pad('min', 6)} ${pad('median', 6)} ${pad('p95', 6)} ${pad('max', 6)} | process ms: ${pad('min', 6)} ${pad('median', 6)} ${pad('p95', 6)} ${pad('max', 6)} | CPU ms: ${pad('median', 6)} ${pad('max', 6)} | peak RSS MB: ${pad('min', 4)} ${pad('max', 4)}`;
  const lines = [
    `fleet: ${o.clusters} clusters x ${o.namespaces} namespaces (${objects} objects per cluster), MaxConcurrency ${o.concurrency}, latency ${o.latencyMs} ms, ${cpus().length} CPUs, ${run.path}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
    header,
    '-'.repeat(header.length),
  ];
  for (const r of rows) {
    lines.push(
      `${(r.step === 'audit' ? 'audit-cluster' : r.step).padEnd(15)} ${pad(r.invocations, 5)} ${pad(r.function.memoryMb, 6)} | handler ms: ${dist(r.handlerMs)} | process ms: ${dist(r.processMs)} | CPU ms: ${pad(r.cpuMs.median, 6)} ${pad(r.cpuMs.max, 6)} | peak RSS MB: ${pad(r.peakRssMb.min, 4)} ${pad(r.peakRssMb.max, 4)}`,
    );
  }
  const audit = rows[1]!;
  lines.push(
    `total wall (execution start to deliver result): ${run.wallMs} ms; audit-cluster process time summed ${audit.processMs.sum} ms (parallelism achieved ${(audit.processMs.sum / run.wallMs).toFixed(1)}); function errors ${rows.reduce((a, r) => a + r.errors, 0)}`,
    `delivered: ${run.result.clusters} clusters ${JSON.stringify(run.result.statuses)}, ${run.result.published} published, ${run.result.warnings} warnings; findings ${JSON.stringify(findings.byStatus)}, ERROR by check ${JSON.stringify(findings.errorsByCheck)}`,
  );
  for (const i of run.invocations.filter((x) => x.error).slice(0, 5)) {
    lines.push(`error: ${i.step}${i.cluster ? ` ${i.cluster}` : ''}: ${i.error!.slice(0, 400)}`);
  }
  console.log(lines.join('\n'));
  const statusOf = (i: Invocation) => (i.error ? 'function error' : 'ok');
  writeFileSync(
    join(process.cwd(), 'bench', 'fleet-results.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        options: { ...o, work: undefined, tsx: undefined },
        objectsPerCluster: objects,
        wallMs: run.wallMs,
        path: run.path,
        loadavg: loadavg(),
        steps: rows,
        result: run.result,
        findings,
        invocations: run.invocations.map((i) => ({ ...i, status: statusOf(i) })),
      },
      null,
      2,
    ) + '\n',
  );
}
