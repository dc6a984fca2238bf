import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  auditMetrics,
  handlerLogger,
  METRICS_NAMESPACE,
  redactReplacer,
  SERVICE_NAME,
} from '../../lambda/deliver/observability.js';
import { diffReports } from '../../lambda/report/diff.js';
import { clusterReport, fieldReportFindings, finding } from '../report/support.js';

/** Powertools writes through a private Console; swap it for one that records. */
function capture(target: object): string[] {
  const lines: string[] = [];
  const sink = (text: string) => lines.push(text);
  (target as unknown as { console: Record<string, (t: string) => void> }).console = {
    log: sink,
    info: sink,
    warn: sink,
    error: sink,
    debug: sink,
    trace: sink,
  };
  return lines;
}

describe('auditMetrics', () => {
  it('emits EMF per cluster: findings per severity, new findings, duration, errors, criticals', () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const lines = capture(metrics);
    const report = clusterReport([
      ...fieldReportFindings(),
      finding({ checkId: 'x', status: 'ERROR', severity: 'medium', messageId: 'not-evaluated' }),
    ]);
    auditMetrics(metrics).recordCluster(report, diffReports(report, undefined));

    const docs = lines.map((l) => JSON.parse(l));
    const main = docs.find((d) => 'NewFindings' in d);
    expect(main).toMatchObject({
      cluster: 'golang-cluster',
      service: SERVICE_NAME,
      NewFindings: 3,
      AuditDurationMs: 7500,
      AuditErrors: 1,
      CriticalFindings: 1,
    });
    expect(main._aws.CloudWatchMetrics[0].Namespace).toBe(METRICS_NAMESPACE);
    expect(main._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'cluster']]);

    const bySeverity = docs.filter((d) => 'FindingsBySeverity' in d);
    expect(bySeverity.map((d) => [d.severity, d.FindingsBySeverity])).toEqual([
      ['critical', 1],
      ['high', 1],
      ['medium', 1],
      ['low', 0],
      ['info', 0],
    ]);
    expect(bySeverity[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([
      ['service', 'cluster', 'severity'],
    ]);
  });

  it('counts a successful run under the service dimension alone, as the no-successful-audit alarm watches it', () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const lines = capture(metrics);
    const m = auditMetrics(metrics);
    m.recordCluster(clusterReport(fieldReportFindings()), undefined);
    m.recordRunSucceeded();
    const doc = lines.map((l) => JSON.parse(l)).find((d) => 'AuditsSucceeded' in d);
    expect(doc).toMatchObject({ service: SERVICE_NAME, AuditsSucceeded: 1 });
    expect(doc.cluster).toBeUndefined();
    expect(doc._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  });

  it('counts no new findings without drift and flushes nothing when nothing is stored', () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const lines = capture(metrics);
    const m = auditMetrics(metrics);
    m.recordCluster(clusterReport(fieldReportFindings()), undefined);
    const count = lines.length;
    m.flush();
    expect(lines).toHaveLength(count);
    expect(JSON.parse(lines[0]!).NewFindings).toBe(0);
  });
});

describe('handlerLogger', () => {
  it('writes structured lines with the service, appended keys, and redacts secret-like keys', () => {
    const logger = new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: redactReplacer });
    const lines = capture(logger);
    const log = handlerLogger(logger);
    log.appendKeys({ runId: 'run-1' });
    log.appendKeys({ cluster: 'golang-cluster' });
    log.info('cluster reported', {
      status: 'FAIL',
      token: 'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b',
    });
    log.removeKeys(['cluster']);
    log.warn('run finished');

    const [first, second] = lines.map((l) => JSON.parse(l));
    expect(first).toMatchObject({
      level: 'INFO',
      message: 'cluster reported',
      service: SERVICE_NAME,
      runId: 'run-1',
      cluster: 'golang-cluster',
      status: 'FAIL',
      token: '[redacted]',
    });
    expect(second).toMatchObject({ level: 'WARN', runId: 'run-1' });
    expect(second.cluster).toBeUndefined();
    expect(lines.join('\n')).not.toContain('CANARY');
  });
});
