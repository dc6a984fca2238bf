/**
 * Structured logs and CloudWatch metrics (EMF) for the Lambda, through Powertools. The handler
 * talks to the small interfaces below so tests can record what would be logged or measured.
 *
 * What is logged: run id, cluster, counts, archive keys, error names and messages. What is never
 * logged: snapshots, findings' full text, events as received, anything named like a secret.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SEVERITIES } from '../config/findings.js';
import { incomplete } from '../report/completeness.js';
import { failingCounts } from '../report/summary.js';
import type { ClusterReport, Drift } from '../report/types.js';

/** Where the audit logs: Powertools' Logger in the function, the console in the CLI. */
export interface AuditLogger {
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

export const SERVICE_NAME = 'eks-datadog-auditor';
export const METRICS_NAMESPACE = 'EksDatadogAuditor';

/**
 * Metric names (namespace {@link METRICS_NAMESPACE}). Dimensions: `service` + `cluster`, and
 * `service` + `cluster` + `severity` for FindingsBySeverity. Alarms must use the same sets.
 */
export const METRIC = {
  /** Failing (FAIL or ERROR) findings, per cluster and severity. */
  FindingsBySeverity: 'FindingsBySeverity',
  /** Failing findings that were not failing in the previous run. */
  NewFindings: 'NewFindings',
  /** Collect + check time of one cluster. */
  AuditDurationMs: 'AuditDurationMs',
  /** ERROR findings: data that could not be collected or checks that could not run. */
  AuditErrors: 'AuditErrors',
  /** Failing findings of severity critical. */
  CriticalFindings: 'CriticalFindings',
  /**
   * Critical findings failing now and not in the previous run (all critical ones on a first run
   * or when drift is unknown): the criticals alarm watches this, so it fires on change, not nightly.
   */
  NewCriticalFindings: 'NewCriticalFindings',
  /** 1 when the cluster's audit is incomplete (status ERROR), else 0; per cluster. */
  AuditIncomplete: 'AuditIncomplete',
  /**
   * 1 per run that archived and published and audited every cluster (a cluster whose
   * Kubernetes side could not be read at all does not count, lambda/report/completeness.ts),
   * with only the `service` dimension: the stack's no-successful-audit alarm watches it.
   */
  AuditsSucceeded: 'AuditsSucceeded',
} as const;

/** The logger the handler uses: the audit's logger plus keys that ride on every line. */
export interface HandlerLogger extends AuditLogger {
  appendKeys(keys: Record<string, unknown>): void;
  removeKeys(keys: string[]): void;
}

export interface AuditMetrics {
  /** Emits the per-cluster metrics at once (one EMF document per dimension set). */
  recordCluster(report: ClusterReport, drift: Drift | undefined): void;
  /** Counts a run that archived and published; not for dry runs. */
  recordRunSucceeded(): void;
  /** Flushes anything still buffered; call before the invocation returns or throws. */
  flush(): void;
}

/** Keys whose string values never reach a log line, whatever a caller passes by mistake. */
const REDACTED_KEYS = new Set(
  [
    'token',
    'password',
    'secret',
    'secretvalue',
    'secretstring',
    'secretbinary',
    'apikey',
    'appkey',
    'value',
    'data',
    'stringdata',
    'authorization',
    'snapshot',
  ].map((k) => k.toLowerCase()),
);

export function redactReplacer(key: string, value: unknown): unknown {
  if (key && REDACTED_KEYS.has(key.toLowerCase().replace(/[-_]/g, '')) && value !== undefined) {
    return '[redacted]';
  }
  return value;
}

export function createPowertoolsLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: redactReplacer });
}

/** Adapts a Powertools Logger to {@link HandlerLogger}. */
export function handlerLogger(logger: Logger = createPowertoolsLogger()): HandlerLogger {
  const attrs = (extra?: object) => (extra ?? {}) as Record<string, unknown>;
  return {
    info: (m, e) => logger.info(m, attrs(e)),
    warn: (m, e) => logger.warn(m, attrs(e)),
    error: (m, e) => logger.error(m, attrs(e)),
    appendKeys: (keys) => logger.appendKeys(keys),
    removeKeys: (keys) => logger.removeKeys(keys),
  };
}

export function createPowertoolsMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
}

function durationMs(report: ClusterReport): number {
  const ms = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : 0;
}

/** {@link AuditMetrics} over Powertools: EMF on stdout, picked up by CloudWatch. */
export function auditMetrics(metrics: Metrics = createPowertoolsMetrics()): AuditMetrics {
  return {
    recordCluster(report, drift) {
      const counts = failingCounts(report.findings);
      const newCriticals = drift
        ? drift.new.filter((f) => f.severity === 'critical').length
        : counts.critical;
      const incompleteNow = incomplete(report) ? 1 : 0;
      metrics.addDimensions({ cluster: report.name });
      metrics.addMetric(METRIC.NewFindings, MetricUnit.Count, drift?.new.length ?? 0);
      metrics.addMetric(METRIC.AuditDurationMs, MetricUnit.Milliseconds, durationMs(report));
      metrics.addMetric(
        METRIC.AuditErrors,
        MetricUnit.Count,
        report.findings.filter((f) => f.status === 'ERROR').length,
      );
      metrics.addMetric(METRIC.CriticalFindings, MetricUnit.Count, counts.critical);
      metrics.addMetric(METRIC.NewCriticalFindings, MetricUnit.Count, newCriticals);
      metrics.addMetric(METRIC.AuditIncomplete, MetricUnit.Count, incompleteNow);
      metrics.publishStoredMetrics();
      // The same two again with the default dimension only: a fleet has one alarm over all
      // clusters (an alarm per cluster does not fit a stack of hundreds of clusters).
      metrics.addMetric(METRIC.NewCriticalFindings, MetricUnit.Count, newCriticals);
      metrics.addMetric(METRIC.AuditIncomplete, MetricUnit.Count, incompleteNow);
      metrics.publishStoredMetrics();
      // One document per severity: EMF gives all metrics of a document the same dimensions.
      for (const severity of SEVERITIES) {
        metrics.addDimensions({ cluster: report.name, severity });
        metrics.addMetric(METRIC.FindingsBySeverity, MetricUnit.Count, counts[severity]);
        metrics.publishStoredMetrics();
      }
    },
    recordRunSucceeded() {
      // Default dimensions only (service): one series for the whole function.
      metrics.addMetric(METRIC.AuditsSucceeded, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    },
    flush() {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}

/** Error name and message for a log line; never the object itself (it may carry a request). */
export function errorFields(err: unknown): { errorName: string; errorMessage: string } {
  const e = err as { name?: string; message?: string };
  return {
    errorName: typeof e?.name === 'string' ? e.name : 'Error',
    errorMessage: typeof e?.message === 'string' ? e.message : String(err),
  };
}
