/**
 * Fleet benchmark helper process: ONE Lambda invocation of one step of the fleet state machine
 * (discover, audit one cluster, deliver one cluster, or finish the run), through the real fleet handlers
 * (lambda/run/fleet/handlers.ts). Bundled with the Lambda's esbuild options and run with the
 * function's NODE_OPTIONS, so its peak RSS is what that function would use. Kubernetes is real
 * HTTP to the server of server-child.ts; the AWS collectors are answered by the fixture mocks of
 * the cluster being audited; S3 is the shared directory bucket of fleet-s3.ts; SNS is mocked.
 *
 * Reads one JSON request on stdin (the step's input can exceed an argv string), prints one JSON
 * line: the handler's result or its error, the handler's wall time and this process's peak RSS.
 */
import { peakRssMb } from './peak-rss.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { newRunId } from '../lambda/run/audit.js';
import { createAwsClients } from '../lambda/collect/aws/clients.js';
import { CHECKS } from '../lambda/checks/index.js';
import { collectCluster } from '../lambda/collect/collect.js';
import { parseConfig } from '../lambda/config/config.js';
import { createFleetHandlers } from '../lambda/run/fleet/handlers.js';
import type { ClusterTask, DeliverClusterTask, FinishInput } from '../lambda/run/fleet/run.js';
import type { AuditMetrics, HandlerLogger } from '../lambda/deliver/observability.js';
import { loadAwsFixture, mockAwsFromFixture } from '../test/support/aws-fixture.js';
import { dirBucketClient, type DirBucketStats } from './fleet-s3.js';

export type FleetStep = 'discover' | 'audit' | 'deliver-cluster' | 'finish';

export interface FleetWorkerRequest {
  step: FleetStep;
  input: unknown;
  /** The function's configuration (what it would load from SSM), as JSON. */
  configFile: string;
  bucket: string;
  bucketDir: string;
  server: { url: string; caData: string; token: string };
  /** aws.json of cluster `name` lives in `<awsRoot>/<name>/`. */
  awsRoot: string;
  /** The collection time of this run (the generated cluster's timestamps are relative to it). */
  collectedAt: string;
  /** The function's timeout: what getRemainingTimeInMillis starts from. */
  timeoutMs: number;
}

export interface FleetWorkerResponse {
  result?: unknown;
  error?: { name: string; message: string };
  handlerMs: number;
  /** CPU time (user + system) of the whole process, start-up included: load-independent. */
  cpuMs: number;
  peakRssMb: number;
  awsCalls: number;
  s3: DirBucketStats;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const req = JSON.parse(await readStdin()) as FleetWorkerRequest;
const collectedAt = new Date(req.collectedAt);
const config = parseConfig(JSON.parse(readFileSync(req.configFile, 'utf8')), req.configFile);
const calls = { count: 0 };
if (req.step === 'audit') {
  const name = (req.input as ClusterTask).cluster.name;
  mockAwsFromFixture(loadAwsFixture(join(req.awsRoot, name)), { counter: calls });
}
mockClient(SNSClient).on(PublishCommand).resolves({ MessageId: 'bench' });
const s3Stats: DirBucketStats = { gets: 0, puts: 0, bytesPut: 0 };
const silent: HandlerLogger = {
  info() {},
  warn() {},
  error() {},
  appendKeys() {},
  removeKeys() {},
};
const noMetrics: AuditMetrics = { recordCluster() {}, recordRunSucceeded() {}, flush() {} };
const handlers = createFleetHandlers({
  loadConfig: () => config,
  s3: dirBucketClient(req.bucketDir, req.bucket, s3Stats),
  sns: new SNSClient({ region: 'eu-west-1' }),
  logger: silent,
  metrics: noMetrics,
  newRunId: () => newRunId(collectedAt),
  functionName: `bench-${req.step}`,
  region: 'eu-west-1',
  audit: {
    checks: CHECKS,
    now: () => collectedAt,
    collect: (cluster, cfg) =>
      collectCluster(cluster, cfg, {
        now: () => collectedAt,
        awsClients: (region) => ({ ...createAwsClients({ region }), calls }),
        kubeAccess: {
          kind: 'token',
          clusterName: cluster.name,
          server: req.server.url,
          caData: req.server.caData,
          token: async () => req.server.token,
        },
      }),
  },
});

const t0 = performance.now();
const deadline = Date.now() + req.timeoutMs;
const context = {
  functionName: `bench-${req.step}`,
  awsRequestId: `bench-${process.pid}`,
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
const out: Omit<FleetWorkerResponse, 'handlerMs' | 'cpuMs' | 'peakRssMb' | 'awsCalls' | 's3'> = {};
try {
  out.result =
    req.step === 'discover'
      ? await handlers.discover(req.input, context)
      : req.step === 'audit'
        ? await handlers.auditCluster(req.input as ClusterTask, context)
        : req.step === 'deliver-cluster'
          ? await handlers.deliverCluster(req.input as DeliverClusterTask, context)
          : await handlers.finish(req.input as FinishInput, context);
} catch (err) {
  // A Lambda function error: Step Functions sees its errorType as the error name.
  out.error = { name: (err as Error).name, message: (err as Error).message };
}
const response: FleetWorkerResponse = {
  ...out,
  handlerMs: Math.round(performance.now() - t0),
  cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
  peakRssMb: peakRssMb(),
  awsCalls: calls.count,
  s3: s3Stats,
};
process.stdout.write(JSON.stringify(response) + '\n');
process.exit(0);
