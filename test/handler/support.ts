/** Handler test wiring: in-memory S3, mocked SNS, recording logger and metrics, a stub audit. */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig, type AuditorConfig, type ClusterConfig } from '../../lambda/config/config.js';
import type { Finding } from '../../lambda/config/findings.js';
import { createHandler, type HandlerDeps } from '../../lambda/run/direct.js';
import type { AuditMetrics, HandlerLogger } from '../../lambda/deliver/observability.js';
import type { AuditReport, ClusterReport, Drift } from '../../lambda/report/types.js';
import { fakeS3 } from '../report/fake-s3.js';
import { clusterReport, fieldReportFindings, FINISHED, STARTED } from '../report/support.js';

export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:eks-datadog-auditor';
export const BUCKET = 'audit-bucket';

export function testConfig(overrides: Record<string, unknown> = {}): AuditorConfig {
  return parseConfig(
    {
      clusters: [
        { name: 'golang-cluster', region: 'eu-west-1' },
        { name: 'payments', region: 'eu-west-1' },
      ],
      topicArn: TOPIC,
      archiveBucket: BUCKET,
      ...overrides,
    },
    'test',
  );
}

export interface LogRecord {
  level: 'info' | 'warn' | 'error';
  message: string;
  keys: Record<string, unknown>;
  extra?: object;
}

/** Records every line with the keys appended at that moment, like Powertools would print them. */
export function recordingLogger(): HandlerLogger & { records: LogRecord[] } {
  const keys: Record<string, unknown> = {};
  const records: LogRecord[] = [];
  const log = (level: LogRecord['level']) => (message: string, extra?: object) =>
    records.push({ level, message, keys: { ...keys }, ...(extra ? { extra } : {}) });
  return {
    records,
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    appendKeys: (k) => Object.assign(keys, k),
    removeKeys: (names) => names.forEach((n) => delete keys[n]),
  };
}

export function recordingMetrics(): AuditMetrics & {
  clusters: { name: string; drift: Drift | undefined }[];
  flushes: number;
  succeeded: number;
} {
  const recorded = {
    clusters: [] as { name: string; drift: Drift | undefined }[],
    flushes: 0,
    succeeded: 0,
    recordRunSucceeded() {
      recorded.succeeded += 1;
    },
    recordCluster(report: ClusterReport, drift: Drift | undefined) {
      recorded.clusters.push({ name: report.name, drift });
    },
    flush() {
      recorded.flushes += 1;
    },
  };
  return recorded;
}

/**
 * Wires a handler whose audit returns hand-made findings per cluster (default: the field
 * report's for golang-cluster, passes only for payments).
 */
export function harness(
  opts: {
    config?: AuditorConfig;
    findings?: Record<string, Finding[]>;
    runIds?: string[];
  } = {},
) {
  const config = opts.config ?? testConfig();
  const bucket = fakeS3();
  const sns = new SNSClient({ region: 'eu-west-1' });
  const snsMock = mockClient(sns);
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  const logger = recordingLogger();
  const metrics = recordingMetrics();
  const findings: Record<string, Finding[]> = opts.findings ?? {
    'golang-cluster': fieldReportFindings('golang-cluster'),
    payments: fieldReportFindings('payments').filter((f) => f.status === 'PASS'),
  };
  const audits: { clusters: string[]; trigger: string; runId: string }[] = [];
  const runIds = [
    ...(opts.runIds ?? [
      '2026-11-24T02-00-00Z-aaaaaa',
      '2026-11-25T02-00-00Z-bbbbbb',
      '2026-11-26T02-00-00Z-cccccc',
    ]),
  ];
  let runIndex = 0;

  const audit: HandlerDeps['audit'] = async (_config, clusters: ClusterConfig[], trigger, ctx) => {
    audits.push({ clusters: clusters.map((c) => c.name), trigger, runId: ctx.runId });
    ctx.logger.info('audit started', { clusters: clusters.map((c) => c.name) });
    const day = String(24 + runIndex - 1).padStart(2, '0');
    const startedAt = STARTED.replace('-24T', `-${day}T`);
    const report: AuditReport = {
      runId: ctx.runId,
      startedAt,
      finishedAt: FINISHED,
      trigger,
      clusters: clusters.map((c) =>
        clusterReport(findings[c.name] ?? [], { name: c.name, region: c.region ?? '', startedAt }),
      ),
    };
    return report;
  };

  const deps: HandlerDeps = {
    loadConfig: () => config,
    audit,
    s3: bucket.s3,
    sns,
    logger,
    metrics,
    newRunId: () => runIds[runIndex++] ?? `run-${runIndex}`,
    functionName: 'eks-datadog-auditor',
    region: 'eu-west-1',
  };
  return {
    handler: createHandler(deps),
    deps,
    config,
    bucket,
    sns,
    snsMock,
    logger,
    metrics,
    findings,
    audits,
  };
}
