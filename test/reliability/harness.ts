/**
 * Runs the real thing for a fault case: the fixture cluster served by the local test API server,
 * AWS answered by aws-sdk-client-mock from the fixture's aws.json (mutated per case), the real
 * client, collectors, checks and renderers, and the Lambda handler with an in-memory S3 bucket and
 * a mocked SNS client. Every output is recorded on the case for the canary search.
 */
import { join } from 'node:path';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import {
  BatchImportFindingsCommand,
  SecurityHubClient,
  type AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { newRunId, runAudit } from '../../lambda/run/audit.js';
import type { AuditLogger } from '../../lambda/deliver/observability.js';
import { createAwsClients, type AwsClients } from '../../lambda/collect/aws/clients.js';
import { CHECKS } from '../../lambda/checks/index.js';
import { collectCluster, type CollectOptions } from '../../lambda/collect/collect.js';
import { parseConfig, type AuditorConfig, type ClusterConfig } from '../../lambda/config/config.js';
import { auditWith, createHandler, type HandlerResult } from '../../lambda/run/direct.js';
import {
  createKubePort,
  type KubeAccess,
  type RequestTimer,
} from '../../lambda/collect/kube/client.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import {
  auditMetrics,
  createPowertoolsMetrics,
  handlerLogger,
} from '../../lambda/deliver/observability.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME, redactReplacer } from '../../lambda/deliver/observability.js';
import { diffReports } from '../../lambda/report/diff.js';
import { renderEmail, renderSubject } from '../../lambda/report/email.js';
import { renderReport } from '../../lambda/report/index.js';
import { buildPublishInput } from '../../lambda/deliver/publish.js';
import type { AuditReport, ClusterReport } from '../../lambda/report/types.js';
import type { ClusterSnapshot } from '../../lambda/snapshot/snapshot.js';
import {
  loadAwsFixture,
  mockAwsFromFixture,
  type AwsFixture,
  type AwsFixtureMocks,
} from '../support/aws-fixture.js';
import {
  startTestApiServer,
  type RecordedRequest,
  type TestApiServer,
  type TestApiServerOptions,
} from '../../lambda/run/demo/kube-api-server.js';
import { DEFAULT_COLLECTED_AT, FIXTURES_DIR, loadManifests } from '../support/snapshot-builder.js';
import { fakeS3 } from '../report/fake-s3.js';
import type { CaseRecorder } from './book.js';
import { captureProcess } from './capture.js';

export const NOW = new Date(DEFAULT_COLLECTED_AT);
export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:eks-datadog-auditor';
export const BUCKET = 'eks-datadog-auditor-reports';

/**
 * Small budgets so faults resolve in milliseconds, not the production seconds. The request timeout
 * is generous: no case waits for it (a timeout case injects the one it needs, `requestTimer`), and
 * a short one fired on a loaded machine and retried requests the cases count.
 */
export const FAST_KUBE = { pageSize: 500, secretConcurrency: 4, requestTimeoutMs: 20_000 };

export interface ClusterSetup {
  /** Fixture directory under test/fixtures (default `healthy`); also the cluster name. */
  fixture?: string;
  /** Cluster name in the config; the fixture's aws.json is renamed to match. */
  name?: string;
  /** Changes the fixture's manifests before they are served. */
  manifests?: (docs: Raw[]) => Raw[];
  /** Changes a copy of the fixture's aws.json (faults, other secret values). */
  aws?: (fixture: AwsFixture) => void;
  /** Extra fields of this cluster's config entry (tokenSecret, roleArn...). */
  cluster?: Partial<ClusterConfig>;
  server?: Partial<Omit<TestApiServerOptions, 'manifests'>>;
  beforeAudit?: (server: TestApiServer) => void | Promise<void>;
  /** Kubernetes access instead of the server's token (token refresh cases). */
  access?: (server: TestApiServer, clusterName: string) => KubeAccess;
  /** Leave Kubernetes access to the auditor (DescribeCluster + EKS token): no test server. */
  noKubeAccess?: boolean;
  /** The real EKS client (no mock): for the credential chain and SDK retries themselves. */
  realEks?: boolean;
  /** The Kubernetes client's request timer (a timeout on one chosen path: `timeoutOn`). */
  requestTimer?: RequestTimer;
  /** AWS clients for this cluster (instance-level mocks); the fixture's class mocks otherwise. */
  awsClients?: (region: string, roleArn?: string) => AwsClients;
}

export interface AuditOutcome {
  report: AuditReport;
  /** The first (or only) cluster's report. */
  cluster: ClusterReport;
  /** Requests each cluster's test API server saw, by cluster name. */
  requests: Record<string, RecordedRequest[]>;
  connections: Record<string, number>;
  elapsedMs: number;
  /**
   * Every wait the Kubernetes retry loop asked for, in ms, in order (Retry-After, backoff). The
   * harness's sleep records them and waits on no clock, so a case asserts the delay itself.
   */
  kubeWaits: number[];
  /** AWS SDK commands sent (through the mocks), by class name. */
  awsCommands: string[];
}

function loadFixture(fixture: string): { docs: Raw[]; aws: AwsFixture } {
  const dir = join(FIXTURES_DIR, fixture);
  return { docs: loadManifests(dir), aws: loadAwsFixture(dir) };
}

/** aws.json of one fixture, renamed and changed for a case. */
export function awsFixtureFor(setup: ClusterSetup): AwsFixture {
  const fixture = setup.fixture ?? 'healthy';
  const aws = structuredClone(loadFixture(fixture).aws);
  const name = setup.name ?? fixture;
  aws.DescribeCluster.cluster.name = name;
  setup.aws?.(aws);
  return aws;
}

function recordingLogger(c: CaseRecorder): AuditLogger {
  const line = (level: string) => (message: string, extra?: object) =>
    c.record('log', `${level} ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}`);
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

/** Records every rendering a person or subscriber could see of a report. */
export function recordRenderings(c: CaseRecorder, report: AuditReport): void {
  c.record('report', report);
  for (const format of ['table', 'json', 'markdown', 'sarif', 'junit', 'html'] as const) {
    c.record(`render:${format}`, renderReport(report, format, { showPass: true, color: true }));
  }
  c.record(
    'render:asff',
    renderReport(report, 'asff', { asff: { accountId: '123456789012', region: 'eu-west-1' } }),
  );
  for (const cluster of report.clusters) {
    const drift = diffReports(cluster, undefined);
    c.record('email', renderEmail(cluster, drift, { runId: report.runId }));
    c.record('subject', renderSubject(cluster, drift));
    c.record(
      'sns-input',
      buildPublishInput(cluster, drift, { topicArn: TOPIC, runId: report.runId, trigger: 'cli' }),
    );
  }
}

interface Prepared {
  /** SDK commands the AWS mocks answered (class names), filled in by close(). */
  commands: string[];
  /** Waits the Kubernetes retries asked for (ms); none is waited out. */
  kubeWaits: number[];
  config: AuditorConfig;
  collect: (cluster: ClusterConfig, config: AuditorConfig) => Promise<ClusterSnapshot>;
  servers: Map<string, TestApiServer>;
  mocks: AwsFixtureMocks;
  close(): Promise<void>;
}

/**
 * Starts one test API server per cluster and mocks AWS from the first cluster's fixture (class
 * level; a cluster with its own `awsClients` gets instance-level mocks on top).
 */
async function prepare(
  setups: ClusterSetup[],
  configExtra: Record<string, unknown>,
): Promise<Prepared> {
  const servers = new Map<string, TestApiServer>();
  const byName = new Map<string, ClusterSetup>();
  const awsFixtures = setups.map(awsFixtureFor);
  // Several clusters share the class-level mocks: they answer for the first fixture's cluster.
  const mocks = mockAwsFromFixture(awsFixtures[0]!);
  if (setups.some((s) => s.realEks)) mocks.eks.restore();
  try {
    for (const setup of setups) {
      const fixture = setup.fixture ?? 'healthy';
      const name = setup.name ?? fixture;
      byName.set(name, setup);
      if (setup.noKubeAccess) continue;
      const docs = loadFixture(fixture).docs;
      const server = await startTestApiServer({
        manifests: setup.manifests ? setup.manifests(structuredClone(docs)) : docs,
        ...setup.server,
      });
      servers.set(name, server);
      await setup.beforeAudit?.(server);
    }
  } catch (err) {
    mocks.restore();
    await Promise.all([...servers.values()].map((s) => s.close()));
    throw err;
  }
  const config = parseConfig(
    {
      kubernetes: FAST_KUBE,
      ...configExtra,
      clusters: setups.map((s, i) => ({
        name: s.name ?? s.fixture ?? 'healthy',
        region: awsFixtures[i]!.region,
        ...s.cluster,
      })),
    },
    'reliability case',
  );
  const kubeWaits: number[] = [];
  const collect = (cluster: ClusterConfig, cfg: AuditorConfig) => {
    const setup = byName.get(cluster.name)!;
    const server = servers.get(cluster.name);
    const opts: CollectOptions = {
      now: () => NOW,
      kubeRetry: { sleep: async (ms) => void kubeWaits.push(ms) },
      ...(setup.requestTimer
        ? {
            kubePort: (a: KubeAccess, c: AuditorConfig) =>
              createKubePort(a, c.kubernetes, setup.requestTimer),
          }
        : {}),
      awsClients:
        setup.awsClients ??
        ((region, roleArn) => createAwsClients({ region, ...(roleArn ? { roleArn } : {}) })),
      ...(server
        ? {
            kubeAccess: setup.access?.(server, cluster.name) ?? {
              kind: 'token' as const,
              clusterName: cluster.name,
              server: server.url,
              caData: server.caData,
              token: async () => server.token,
            },
          }
        : {}),
    };
    return collectCluster(cluster, cfg, opts);
  };
  const commands: string[] = [];
  return {
    commands,
    kubeWaits,
    config,
    collect,
    servers,
    mocks,
    async close() {
      for (const stub of [mocks.eks, mocks.ec2, mocks.secretsManager, mocks.sts, mocks.nestedSts]) {
        commands.push(...stub.calls().map((call) => commandName(call.args[0])));
      }
      mocks.restore();
      await Promise.all([...servers.values()].map((s) => s.close()));
    },
  };
}

function commandName(command: unknown): string {
  return (command as { constructor?: { name?: string } })?.constructor?.name ?? 'UnknownCommand';
}

/** A whole audit (collect, checks) of one or more clusters, every rendering recorded. */
export async function auditCase(
  c: CaseRecorder,
  setups: ClusterSetup | ClusterSetup[],
  configExtra: Record<string, unknown> = {},
): Promise<AuditOutcome> {
  const list = Array.isArray(setups) ? setups : [setups];
  const logger = recordingLogger(c);
  const p = await prepare(list, configExtra);
  const started = performance.now();
  try {
    const report = await captureProcess(c, () =>
      runAudit(
        p.config,
        p.config.clusters,
        {
          collect: p.collect,
          checks: CHECKS,
          now: () => NOW,
          newRunId: () => newRunId(NOW),
          logger,
        },
        'cli',
      ),
    );
    const elapsedMs = performance.now() - started;
    recordRenderings(c, report);
    await p.close();
    return {
      awsCommands: p.commands,
      report,
      cluster: report.clusters[0]!,
      requests: Object.fromEntries([...p.servers].map(([n, s]) => [n, [...s.requests]])),
      connections: Object.fromEntries([...p.servers].map(([n, s]) => [n, s.connections])),
      elapsedMs,
      kubeWaits: [...p.kubeWaits],
    };
  } catch (err) {
    c.record('thrown', err);
    await p.close();
    throw err;
  }
}

/** The snapshot a real collection of one fixture cluster gives (server, mocks, real client). */
export async function collectSnapshot(setup: ClusterSetup): Promise<ClusterSnapshot> {
  const p = await prepare([setup], {});
  try {
    return await p.collect(p.config.clusters[0]!, p.config);
  } finally {
    await p.close();
  }
}

export interface HandlerOutcome {
  result?: HandlerResult;
  error?: Error;
  published: PublishCommandInput[];
  /** Bucket contents after the run, key -> body. */
  objects: Map<string, string>;
  /** Order of S3 writes and SNS publishes, e.g. `put reports/x/...`, `publish`. */
  sequence: string[];
  /** Requests the clusters' test API servers saw (empty when nothing was audited). */
  requests: RecordedRequest[];
  /** AWS SDK commands sent (through the mocks), by class name: collection, S3 and SNS. */
  awsCommands: string[];
}

export interface HandlerSetup {
  clusters?: ClusterSetup[];
  event?: unknown;
  config?: Record<string, unknown>;
  /** Replaces the configuration loader (config faults). */
  loadConfig?: () => AuditorConfig;
  /** Makes SNS Publish fail with this error. */
  publishError?: Error;
  /** Runs before each S3 Put (another writer, a conflict). */
  beforePut?: (key: string, objects: ReturnType<typeof fakeS3>) => void;
  /** Objects already in the bucket. */
  seed?: (bucket: ReturnType<typeof fakeS3>) => void;
}

/**
 * One Lambda invocation through createHandler with the real audit, the real Powertools logger
 * and metrics (their stdout captured), an in-memory S3 bucket and a mocked SNS client.
 */
export async function handlerCase(c: CaseRecorder, setup: HandlerSetup): Promise<HandlerOutcome> {
  const clusters = setup.clusters ?? [{ fixture: 'field-report' }];
  const p = await prepare(clusters, {
    topicArn: TOPIC,
    archiveBucket: BUCKET,
    notify: 'always',
    ...setup.config,
  });
  const bucket = fakeS3();
  const sequence: string[] = [];
  setup.seed?.(bucket);
  bucket.hooks.beforePut = (input) => {
    sequence.push(`put ${input.Key}`);
    setup.beforePut?.(input.Key!, bucket);
  };
  const sns = new SNSClient({ region: 'eu-west-1' });
  const snsMock = mockClient(sns);
  if (setup.publishError) {
    snsMock.on(PublishCommand).callsFake(() => {
      sequence.push('publish');
      throw setup.publishError;
    });
  } else {
    snsMock.on(PublishCommand).callsFake(() => {
      sequence.push('publish');
      return { MessageId: `msg-${sequence.length}` };
    });
  }
  // Security Hub (when the config enables it) accepts every finding.
  const securityHub = new SecurityHubClient({ region: 'eu-west-1' });
  const securityHubMock = mockClient(securityHub);
  securityHubMock
    .on(BatchImportFindingsCommand)
    .callsFake((input: { Findings: AwsSecurityFinding[] }) => ({
      SuccessCount: input.Findings.length,
      FailedCount: 0,
      FailedFindings: [],
    }));
  const handler = createHandler({
    loadConfig: setup.loadConfig ?? (() => p.config),
    audit: auditWith({ collect: p.collect, checks: CHECKS, now: () => NOW }),
    s3: bucket.s3,
    sns,
    logger: handlerLogger(
      new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: redactReplacer }),
    ),
    metrics: auditMetrics(createPowertoolsMetrics()),
    newRunId: () => newRunId(NOW),
    functionName: 'eks-datadog-auditor',
    region: 'eu-west-1',
    integrations: { securityHub },
  });
  const outcome: HandlerOutcome = {
    published: [],
    objects: new Map(),
    sequence,
    requests: [],
    awsCommands: [],
  };
  try {
    await captureProcess(c, async () => {
      try {
        outcome.result = await handler(setup.event, {
          functionName: 'eks-datadog-auditor',
          awsRequestId: 'req-reliability',
          invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:eks-datadog-auditor',
        });
      } catch (err) {
        outcome.error = err as Error;
      }
    });
  } finally {
    outcome.published = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
    for (const [key, o] of bucket.objects) outcome.objects.set(key, o.body);
    outcome.requests = [...p.servers.values()].flatMap((server) => server.requests);
    for (const stub of [snsMock, bucket.mock, securityHubMock]) {
      outcome.awsCommands.push(...stub.calls().map((call) => commandName(call.args[0])));
    }
    snsMock.restore();
    bucket.mock.restore();
    securityHubMock.restore();
    await p.close();
    outcome.awsCommands.push(...p.commands);
  }
  if (outcome.result) c.record('handler-result', outcome.result);
  if (outcome.error) c.record('thrown', outcome.error);
  for (const input of outcome.published) c.record('sns-input', input);
  for (const [key, body] of outcome.objects) c.record(`s3:${key}`, body);
  return outcome;
}

/** Finding ids by status, for compact assertions. */
export function statusOf(cluster: ClusterReport, checkId: string): string[] {
  return [
    ...new Set(cluster.findings.filter((f) => f.checkId === checkId).map((f) => f.status)),
  ].sort();
}

export function notEvaluated(cluster: ClusterReport): string[] {
  return cluster.findings
    .filter((f) => f.messageId === 'not-evaluated')
    .map((f) => f.checkId)
    .sort();
}

/** Requests the server saw for one path (any query). */
export function hits(requests: RecordedRequest[], path: string): RecordedRequest[] {
  return requests.filter((r) => r.path === path);
}
