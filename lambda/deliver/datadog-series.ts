/**
 * The metric series sent to Datadog, apart from the client (lambda/deliver/datadog.ts), which is
 * large and loaded only when Datadog is configured: the deliver loop computes each cluster's series
 * while that cluster's report is in memory and lets the report go.
 */
import type { MetricSeries } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/models/MetricSeries.js';
import type { Finding } from '../config/findings.js';
import { singleLine } from '../checks/sanitize.js';
import type { AuditReport, Drift } from '../report/types.js';

export const FINDINGS_METRIC = 'eks_datadog_auditor.findings';
export const DURATION_METRIC = 'eks_datadog_auditor.run.duration';
export const SOURCE_TAG = 'source:eks-datadog-auditor';
/** MetricIntakeType of the v2 series intake: 3 is a gauge. */
const GAUGE = 3;

export function tag(key: string, value: string): string {
  return `${key}:${singleLine(value).replace(/[\s,]+/g, '_')}`;
}

export function seconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/**
 * One gauge point per (cluster, check, severity, status) present now, and a zero for the
 * combinations that failed last run and are gone, so a fixed finding's series drops to 0 instead
 * of stopping at its last value.
 */
export function findingSeries(
  report: AuditReport,
  drift: Record<string, Drift>,
  extraTags: readonly string[],
): MetricSeries[] {
  const series: MetricSeries[] = [];
  for (const cluster of report.clusters) {
    const counts = new Map<string, { f: Finding; n: number }>();
    const key = (f: Finding) => `${f.checkId}\u0000${f.severity}\u0000${f.status}`;
    for (const f of cluster.findings) {
      const entry = counts.get(key(f));
      if (entry) entry.n += 1;
      else counts.set(key(f), { f, n: 1 });
    }
    for (const f of drift[cluster.name]?.resolved ?? []) {
      if (!counts.has(key(f))) counts.set(key(f), { f, n: 0 });
    }
    const timestamp = seconds(cluster.finishedAt);
    for (const { f, n } of counts.values()) {
      series.push({
        metric: FINDINGS_METRIC,
        type: GAUGE,
        points: [{ timestamp, value: n }],
        tags: [
          tag('cluster', cluster.name),
          ...(cluster.region ? [tag('region', cluster.region)] : []),
          tag('check', f.checkId),
          tag('severity', f.severity),
          tag('status', f.status.toLowerCase()),
          SOURCE_TAG,
          ...extraTags,
        ],
      });
    }
  }
  return series;
}

export function durationSeries(report: AuditReport, extraTags: readonly string[]): MetricSeries {
  const ms = Math.max(0, Date.parse(report.finishedAt) - Date.parse(report.startedAt));
  return {
    metric: DURATION_METRIC,
    type: GAUGE,
    unit: 'second',
    points: [{ timestamp: seconds(report.finishedAt), value: ms / 1000 }],
    tags: [tag('trigger', report.trigger), SOURCE_TAG, ...extraTags],
  };
}
