/**
 * Benchmark helper process: one invocation of the Lambda handler (collect + all checks + drift
 * against the previous report + archive + email/SNS rendering) against the server of
 * server-child.ts. Kubernetes is real HTTP; the AWS collectors are answered by the fixture mocks;
 * S3 is answered at the HTTP layer, so the SDK serialises, checksums and signs the archived
 * report as it would in Lambda; SNS publishing is mocked. Prints one JSON line of figures,
 * including this process's peak RSS.
 *
 * With `seedOut`, the run is dated a day earlier and writes the latest.json it archives there:
 * the previous report of the measured run (`previous`), so drift is computed against a full
 * report of the same size, as in a nightly run.
 */
import { peakRssMb as ownPeakRssMb } from './peak-rss.js';
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { mockClient } from 'aws-sdk-client-mock';
import { newRunId } from '../lambda/run/audit.js';
import { createAwsClients } from '../lambda/collect/aws/clients.js';
import { CHECKS } from '../lambda/checks/index.js';
import { collectCluster } from '../lambda/collect/collect.js';
import { parseConfig } from '../lambda/config/config.js';
import { auditWith, createHandler, type HandlerResult } from '../lambda/run/direct.js';
import type { AuditMetrics, HandlerLogger } from '../lambda/deliver/observability.js';
import type { AuditReport } from '../lambda/report/types.js';
import { loadAwsFixture, mockAwsFromFixture } from '../test/support/aws-fixture.js';
import { BENCH_CLUSTER } from './generate.js';

interface Args {
  url: string;
  caData: string;
  token: string;
  n: number;
  awsDir: string;
  pageSize: number;
  secretConcurrency: number;
  /** latest.json of the previous run, served by the fake S3; absent: a first run. */
  previous?: string;
  /** Seed run: write the latest.json this run archives here. */
  seedOut?: string;
  /** Profiling runs: write a heap snapshot at these marks (see `mark` below) into profileDir. */
  heapSnapshotAt?: string[];
  /** Sample RSS from a worker thread (see below). */
  rssTimeline?: boolean;
  profileDir?: string;
}
const args = JSON.parse(process.argv[2]!) as Args;
const collectedAt = new Date(args.seedOut ? '2026-11-23T02:00:00Z' : '2026-11-24T02:00:00Z');
const calls = { count: 0 };
const aws = mockAwsFromFixture(loadAwsFixture(args.awsDir), { counter: calls });
const sns = mockClient(SNSClient);
sns.on(PublishCommand).callsFake(() => {
  mark('snsPublish');
  return { MessageId: 'bench' };
});

/** A bucket at the HTTP layer: serves the previous latest.json, takes every PUT. */
let archivedBytes = 0;
const s3RequestHandler = {
  async handle(request: HttpRequest) {
    mark(
      `s3 ${request.method} ${request.path.split('.').pop()} ${request.path.includes('latest') ? 'latest' : 'dated'}`,
    );
    const key = decodeURIComponent(request.path.replace(/^\/[^/]+\//, '').replace(/^\//, ''));
    const ok = (headers: Record<string, string>, body: Buffer = Buffer.alloc(0)) => ({
      response: new HttpResponse({ statusCode: 200, headers, body: Readable.from([body]) }),
    });
    if (request.method === 'GET') {
      if (!args.previous || !key.endsWith('latest.json')) {
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${key}</Key></Error>`;
        return {
          response: new HttpResponse({
            statusCode: 404,
            headers: { 'content-type': 'application/xml' },
            body: Readable.from([Buffer.from(xml)]),
          }),
        };
      }
      // In socket-sized chunks, as a response arrives.
      return {
        response: new HttpResponse({
          statusCode: 200,
          headers: { etag: '"previous"', 'content-length': String(statSync(args.previous).size) },
          body: createReadStream(args.previous),
        }),
      };
    }
    // PUT: take the body as a socket would, without keeping a copy (except the seed's latest.json).
    const b = request.body as unknown;
    let bytes = 0;
    if (typeof b === 'string' || b instanceof Uint8Array) {
      bytes = typeof b === 'string' ? Buffer.byteLength(b) : b.length;
      if (args.seedOut && key.endsWith('latest.json')) writeFileSync(args.seedOut, b);
    } else if (b && typeof (b as Readable)[Symbol.asyncIterator] === 'function') {
      const chunks: Buffer[] = [];
      for await (const c of b as Readable) {
        bytes += (c as Buffer).length;
        if (args.seedOut) chunks.push(c as Buffer);
      }
      if (args.seedOut && key.endsWith('latest.json'))
        writeFileSync(args.seedOut, Buffer.concat(chunks));
    }
    archivedBytes = Math.max(archivedBytes, bytes);
    return ok({ etag: `"${key.length}-${bytes}"` });
  },
};

const config = parseConfig(
  {
    clusters: [{ name: BENCH_CLUSTER, region: 'eu-west-1' }],
    archiveBucket: 'bench-archive',
    topicArn: 'arn:aws:sns:eu-west-1:111122223333:bench',
    notify: 'always',
    kubernetes: {
      pageSize: args.pageSize,
      secretConcurrency: args.secretConcurrency,
      requestTimeoutMs: 60000,
    },
  },
  'benchmark',
);
const silent: HandlerLogger = {
  info() {},
  warn() {},
  error() {},
  appendKeys() {},
  removeKeys() {},
};
const noMetrics: AuditMetrics = { recordCluster() {}, recordRunSucceeded() {}, flush() {} };
let report: AuditReport | undefined;
const audit = auditWith({
  collect: async (cluster, cfg) => {
    mark('collectStart');
    const snapshot = await collectCluster(cluster, cfg, {
      now: () => collectedAt,
      awsClients: (region) => ({ ...createAwsClients({ region }), calls }),
      kubeAccess: {
        kind: 'token',
        clusterName: cluster.name,
        server: args.url,
        caData: args.caData,
        token: async () => args.token,
      },
    });
    mark('collectEnd');
    return snapshot;
  },
  checks: CHECKS,
  now: () => collectedAt,
});
const handler = createHandler({
  loadConfig: () => config,
  // The report is alive for the whole invocation anyway; kept for the figures below.
  audit: async (...a) => {
    report = await audit(...a);
    mark('auditEnd');
    return report;
  },
  s3: new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench' },
    requestHandler: s3RequestHandler,
  }),
  sns: new SNSClient({ region: 'eu-west-1' }),
  logger: silent,
  metrics: noMetrics,
  newRunId: () => newRunId(collectedAt),
});

/** Where the wall time went: milliseconds from the start of the invocation. */
const marks: Record<string, number> = {};
/**
 * At each mark (MB), after the mark's work: RSS, the heap in use (what was live, garbage
 * included), the heap V8 has committed, and memory outside it (Buffers).
 */
const memoryAt: Record<
  string,
  { rss: number; heapUsed: number; heapTotal: number; external: number }
> = {};
const mark = (name: string) => {
  if (name in marks) return;
  marks[name] = Math.round(performance.now() - t0);
  const m = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 1048576);
  memoryAt[name] = {
    rss: mb(m.rss),
    heapUsed: mb(m.heapUsed),
    heapTotal: mb(m.heapTotal),
    external: mb(m.external),
  };
  markNames.push(name);
  Atomics.store(markCode, 0, markNames.length - 1);
  if (args.heapSnapshotAt?.includes(name) && args.profileDir) {
    writeHeapSnapshot(join(args.profileDir, `${args.n}-${name}.heapsnapshot`));
  }
};
/**
 * Profiling runs (`rssTimeline`): a worker thread samples the process's RSS every 10 ms, since
 * the checks and the renderers run synchronously and block this thread's timers; the timeline
 * names the last mark before each sample.
 */
const markCode = new Int32Array(new SharedArrayBuffer(4));
const markNames: string[] = ['start'];
const sampler = args.rssTimeline
  ? new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const code = new Int32Array(workerData);
const samples = [];
const t0 = Date.now();
const timer = setInterval(() => {
  const kb = Number(fs.readFileSync('/proc/self/status', 'utf8').match(/^VmRSS:\\s+(\\d+)/m)[1]);
  samples.push([Date.now() - t0, Math.round(kb / 1024), Atomics.load(code, 0)]);
}, 10);
parentPort.on('message', () => { clearInterval(timer); parentPort.postMessage(samples); });`,
      { eval: true, workerData: markCode.buffer },
    )
  : undefined;
const t0 = performance.now();
/** The monotonic clock at t0 in microseconds: the time base of a V8 CPU profile. */
const t0Us = Number(process.hrtime.bigint() / 1000n);
const result: HandlerResult = await handler({}, { functionName: 'bench', awsRequestId: 'bench' });
const wallMs = performance.now() - t0;
/** Per mark: the highest RSS sampled after it and before the next. */
let rssTimeline: Record<string, number> | undefined;
if (sampler) {
  const samples = await new Promise<[number, number, number][]>((resolve) => {
    sampler.once('message', resolve);
    sampler.postMessage('stop');
  });
  await sampler.terminate();
  rssTimeline = {};
  for (const [, mb, code] of samples) {
    const name = markNames[code]!;
    rssTimeline[name] = Math.max(rssTimeline[name] ?? 0, mb);
  }
}
const peakRssMb = ownPeakRssMb();
aws.restore();
sns.restore();
if (!result.ok || !report) throw new Error(`handler failed: ${JSON.stringify(result)}`);

const c = report.clusters[0]!;
const summary = result.clusters[0]!;
const count = (status: string) => c.findings.filter((f) => f.status === status).length;
process.stdout.write(
  JSON.stringify({
    wallMs: Math.round(wallMs),
    collectMs: c.stats.durationMs,
    kubeListPages: c.stats.kubeListPages,
    kubeGets: c.stats.kubeGets,
    awsCalls: calls.count,
    findings: c.findings.length,
    fail: count('FAIL'),
    error: count('ERROR'),
    failingByCheck: Object.fromEntries(
      [...new Set(c.findings.filter((f) => f.status !== 'PASS').map((f) => f.checkId))].map(
        (id) => [id, c.findings.filter((f) => f.checkId === id && f.status !== 'PASS').length],
      ),
    ),
    drift: { new: summary.new, resolved: summary.resolved, firstRun: !args.previous },
    published: result.published,
    archiveBytes: archivedBytes,
    peakRssMb,
    marks: { ...marks, end: Math.round(wallMs) },
    t0Us,
    memoryAt,
    ...(rssTimeline ? { rssTimeline } : {}),
  }) + '\n',
);
process.exit(0);
