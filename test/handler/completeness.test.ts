import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  auditMetrics,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../../lambda/deliver/observability.js';
import { notAudited } from '../../lambda/report/completeness.js';
import { diffReports } from '../../lambda/report/diff.js';
import { clusterReport, fieldReportFindings, finding } from '../report/support.js';
import { harness } from './support.js';

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

const podsRefused = {
  source: 'kubernetes' as const,
  kind: 'pods',
  status: 401,
  code: 'Unauthorized',
  message: 'Kubernetes refused the list of pods: 401 Unauthorized',
};
const unauthorized = (cluster: string) =>
  finding({
    checkId: 'audit-collection',
    cluster,
    status: 'ERROR',
    severity: 'high',
    resource: { kind: 'pods', name: '*' },
    messageId: 'Unauthorized',
    message: `Cluster ${cluster}: could not read Kubernetes pods (HTTP 401 Unauthorized): ${podsRefused.message}`,
  });

describe('notAudited', () => {
  it.each([
    {
      name: 'pods could not be listed (401/403, unreachable)',
      errors: [podsRefused],
      expected: true,
    },
    {
      name: 'one secret GET was refused (incomplete, but audited)',
      errors: [{ ...podsRefused, kind: 'secrets', name: 'x', namespace: 'ns' }],
      expected: false,
    },
    { name: 'nothing failed', errors: [], expected: false },
  ])('$name: $expected', ({ errors, expected }) => {
    expect(notAudited(clusterReport(fieldReportFindings(), { errors }))).toBe(expected);
  });
});

describe('metrics for alarms that follow drift and completeness', () => {
  it('emits new criticals (drift) and AuditIncomplete per cluster', () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const lines = capture(metrics);
    const m = auditMetrics(metrics);
    const report = clusterReport(fieldReportFindings());
    m.recordCluster(report, diffReports(report, report));
    m.recordCluster(report, diffReports(report, undefined));
    const incomplete = clusterReport([...fieldReportFindings(), unauthorized('golang-cluster')], {
      errors: [podsRefused],
    });
    m.recordCluster(incomplete, diffReports(incomplete, incomplete));
    const docs = lines.map((l) => JSON.parse(l)).filter((d) => 'NewCriticalFindings' in d);
    const perCluster = docs.filter((d) => d.cluster === 'golang-cluster');
    expect(
      perCluster.map((d) => [d.CriticalFindings, d.NewCriticalFindings, d.AuditIncomplete]),
    ).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [1, 0, 1],
    ]);
    // The same series without the cluster dimension, for the fleet-wide alarms.
    const fleetWide = docs.filter((d) => d.cluster === undefined);
    expect(fleetWide.map((d) => [d.NewCriticalFindings, d.AuditIncomplete])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
    ]);
  });
});

describe('handler: a cluster that could not be audited', () => {
  const findings = {
    'golang-cluster': fieldReportFindings('golang-cluster'),
    payments: [unauthorized('payments')],
  };

  it('is not a successful audit: AuditsSucceeded is not emitted', async () => {
    const h = harness({ findings });
    // The harness builds reports without errors; give payments the refused pods list.
    const audit = h.deps.audit;
    h.deps.audit = async (...args) => {
      const report = await audit(...args);
      for (const c of report.clusters) if (c.name === 'payments') c.errors = [podsRefused];
      return report;
    };
    await h.handler({});
    expect(h.metrics.succeeded).toBe(0);
    expect(h.logger.records.some((r) => r.message.startsWith('not a successful audit'))).toBe(true);
  });

  it('is reported in every run under notify=drift until it clears', async () => {
    const h = harness({ findings });
    await h.handler({});
    await h.handler({});
    await h.handler({});
    const subjects = h.snsMock
      .calls()
      .map((c) => (c.args[0].input as { Subject?: string }).Subject ?? '')
      .filter((s) => s.includes('payments'));
    expect(subjects).toHaveLength(3);
    expect(subjects.every((s) => s.includes('AUDIT INCOMPLETE'))).toBe(true);
    // The healthy-looking cluster with unchanged findings is sent once (first run) only.
    expect(
      h.snsMock
        .calls()
        .filter((c) =>
          ((c.args[0].input as { Subject?: string }).Subject ?? '').includes('golang-cluster'),
        ),
    ).toHaveLength(1);
  });

  it('still counts a run where every cluster was audited as a success', async () => {
    const h = harness();
    await h.handler({});
    expect(h.metrics.succeeded).toBe(1);
  });
});
