/**
 * The audit: for each cluster, collect -> run checks -> report. One cluster's failure becomes an
 * ERROR finding for that cluster; the others still run. Never throws.
 */
import type { Check } from './checks/check.js';
import { neutraliseQuotedClusterText } from './checks/quoted-text.js';
import { collectionFailures, runChecks } from './checks/runner.js';
import { mapLimit } from './concurrency.js';
import type { AuditorConfig, ClusterConfig } from './config.js';
import { findingId, type Finding } from './findings.js';
import { detectSetup } from './checks/setup-detection.js';
import { clusterStatus, type AuditReport, type ClusterReport } from './report/types.js';
import type { ClusterSnapshot, CopyRecordSet } from './snapshot.js';
import { copyRecord } from './checks/token/copy-record.js';
import { applySuppressions } from './suppressions.js';

export interface AuditLogger {
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

export interface AuditDeps {
  collect(cluster: ClusterConfig, config: AuditorConfig): Promise<ClusterSnapshot>;
  checks: readonly Check[];
  now(): Date;
  newRunId(): string;
  logger?: AuditLogger;
  /** The previous run's copy record of a cluster (from the archive); absent: none is used. */
  previousRun?(cluster: ClusterConfig): Promise<CopyRecordSet | undefined>;
}

/** The check id under which a cluster that could not be audited at all is reported. */
export const CLUSTER_UNREACHABLE_CHECK_ID = 'audit-cluster';

export async function auditCluster(
  cluster: ClusterConfig,
  config: AuditorConfig,
  deps: AuditDeps,
): Promise<ClusterReport> {
  const startedAt = deps.now().toISOString();
  const region = cluster.region ?? config.region;
  try {
    const collected = await deps.collect(cluster, config);
    // What the previous run saw travels in the snapshot, so the checks stay pure.
    const previousRun = await deps.previousRun?.(cluster).catch(() => undefined);
    const snapshot: ClusterSnapshot = previousRun ? { ...collected, previousRun } : collected;
    // Cluster-controlled strings quoted into remediations must not add lines of their own.
    const checked = applySuppressions(runChecks(snapshot, deps.checks), {
      cluster: cluster.name,
      rules: config.suppressions ?? [],
      snapshot,
      now: deps.now(),
    });
    const findings = neutraliseQuotedClusterText(checked, snapshot);
    const errors = collectionFailures(snapshot);
    const report: ClusterReport = {
      name: cluster.name,
      ...(region ? { region } : {}),
      status: clusterStatus(findings, errors),
      startedAt,
      finishedAt: deps.now().toISOString(),
      findings,
      errors,
      stats: snapshot.stats,
      setup: detectSetup(snapshot),
    };
    const record = copyRecord(snapshot);
    if (record.copies.length > 0) report.copyRecord = record;
    deps.logger?.info('cluster audited', {
      cluster: cluster.name,
      status: report.status,
      failed: findings.filter((f) => f.status === 'FAIL').length,
      errors: errors.length,
    });
    return report;
  } catch (err) {
    const message = errorMessage(err);
    deps.logger?.error('cluster audit failed', { cluster: cluster.name, error: message });
    const resource = { kind: 'Cluster', name: cluster.name };
    const finding: Finding = {
      id: findingId(CLUSTER_UNREACHABLE_CHECK_ID, cluster.name, resource, 'unreachable'),
      checkId: CLUSTER_UNREACHABLE_CHECK_ID,
      cluster: cluster.name,
      severity: 'critical',
      status: 'ERROR',
      resource,
      messageId: 'unreachable',
      message: `Cluster ${cluster.name}${region ? ` (${region})` : ''} could not be audited: ${message}`,
      remediation:
        'Check that the cluster exists in that region, that the auditor role may call eks:DescribeCluster (and, for a cluster with a roleArn, may assume that role) and has an access entry (or aws-auth mapping) in the cluster, and that the API endpoint is reachable from where the audit runs.',
    };
    return {
      name: cluster.name,
      ...(region ? { region } : {}),
      status: 'ERROR',
      startedAt,
      finishedAt: deps.now().toISOString(),
      findings: [finding],
      errors: [
        {
          source: 'aws',
          kind: 'cluster',
          name: cluster.name,
          code: (err as { code?: string })?.code ?? (err as Error)?.name ?? 'Error',
          message,
        },
      ],
      stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
    };
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export async function runAudit(
  config: AuditorConfig,
  clusters: ClusterConfig[],
  deps: AuditDeps,
  trigger: AuditReport['trigger'],
): Promise<AuditReport> {
  const runId = deps.newRunId();
  const startedAt = deps.now().toISOString();
  deps.logger?.info('audit started', { runId, trigger, clusters: clusters.map((c) => c.name) });
  const reports = await mapLimit(clusters, config.clusterConcurrency, (c) =>
    auditCluster(c, config, deps),
  );
  return { runId, startedAt, finishedAt: deps.now().toISOString(), trigger, clusters: reports };
}

/** Run ids sort by time and stay unique: `2026-11-24T02-00-00Z-3f9a1c`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  return `${stamp}-${Math.random().toString(16).slice(2, 8)}`;
}
