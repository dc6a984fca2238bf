/**
 * The audit: for each cluster, collect -> run checks -> report. One cluster's failure becomes an
 * ERROR finding for that cluster; the others still run. Never throws.
 */
import type { Check } from '../checks/check.js';
import { neutraliseQuotedClusterText } from '../checks/quoted-text.js';
import { collectionFailures, runChecks } from '../checks/runner.js';
import type { AuditLogger } from '../deliver/observability.js';
import { CLUSTER_UNREACHABLE_CHECK_ID } from '../checks/check.js';
import { mapLimit } from '../collect/concurrency.js';
import type { AuditorConfig, ClusterConfig } from '../config/config.js';
import { findingId, type Finding } from '../config/findings.js';
import { BudgetExhausted, withinBudget, type TimeBudget } from '../config/budget.js';
import { detectSetup } from '../snapshot/setup.js';
import { clusterStatus, type AuditReport, type ClusterReport } from '../report/types.js';
import type { ClusterSnapshot, CopyRecordSet } from '../snapshot/snapshot.js';
import { applySuppressions } from '../checks/suppressions.js';
import { copyRecord } from '../snapshot/copies/model.js';

export interface AuditDeps {
  collect(cluster: ClusterConfig, config: AuditorConfig): Promise<ClusterSnapshot>;
  checks: readonly Check[];
  now(): Date;
  newRunId(): string;
  logger?: AuditLogger;
  /** The previous run's copy record of a cluster (from the archive); absent: none is used. */
  previousRun?(cluster: ClusterConfig): Promise<CopyRecordSet | undefined>;
  /**
   * When set, runAudit starts no cluster once it is exhausted and stops waiting for one at its
   * end; those clusters get a {@link BUDGET_MESSAGE_ID} ERROR finding. Absent: no limit (CLI).
   */
  budget?: TimeBudget;
}

/** Message id of a cluster whose audit ran out of time (cut off, or never started). */
export const BUDGET_MESSAGE_ID = 'time-budget';

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
    // Taken before the checks: the runner releases the copy models after their last reader.
    const record = copyRecord(snapshot);
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
  const { budget } = deps;
  const reports = budget
    ? await auditAllWithinBudget(config, clusters, deps, budget)
    : await mapLimit(clusters, config.clusterConcurrency, (c) => auditCluster(c, config, deps));
  return { runId, startedAt, finishedAt: deps.now().toISOString(), trigger, clusters: reports };
}

/**
 * One invocation auditing several clusters: each cluster is audited within what is left of the
 * budget; once it is spent no further cluster starts. Every cluster still gets a report, so the
 * run delivers what was done and says, per cluster, where the budget ran out.
 */
async function auditAllWithinBudget(
  config: AuditorConfig,
  clusters: ClusterConfig[],
  deps: AuditDeps,
  budget: TimeBudget,
): Promise<ClusterReport[]> {
  const availableMs = budget.remainingMs();
  let finished = 0;
  let cutOff = false;
  const reports = await mapLimit(clusters, config.clusterConcurrency, async (cluster) => {
    const progress = () => `${finished} of ${clusters.length} clusters audited`;
    if (budget.exhausted()) {
      cutOff = true;
      const err = new BudgetExhausted(
        'the run',
        availableMs,
        `the time budget ran out before its audit started (${progress()} in the ${Math.round(availableMs / 1000)} s available)`,
      );
      return outOfTimeReport(cluster, config, deps, err, { started: false });
    }
    const phase = `collection and checks, with ${progress()}`;
    // What this cluster had when it started (withinBudget's own figure is read after the start).
    const leftMs = budget.remainingMs();
    const startedAt = deps.now().toISOString();
    try {
      const report = await withinBudget(auditCluster(cluster, config, deps), budget, phase);
      finished += 1;
      return report;
    } catch (err) {
      if (!(err instanceof BudgetExhausted)) throw err;
      cutOff = true;
      return outOfTimeReport(cluster, config, deps, new BudgetExhausted(phase, leftMs), {
        started: true,
        startedAt,
      });
    }
  });
  if (cutOff) {
    deps.logger?.error('time budget exhausted; clusters left unaudited', {
      audited: finished,
      unaudited: clusters.length - finished,
      availableMs: Number.isFinite(availableMs) ? availableMs : null,
    });
  }
  return reports;
}

/** The report of a cluster the time budget left unaudited: one ERROR finding saying where. */
export function outOfTimeReport(
  cluster: ClusterConfig,
  config: AuditorConfig,
  deps: Pick<AuditDeps, 'now'>,
  err: BudgetExhausted,
  opts: { started: boolean; startedAt?: string },
): ClusterReport {
  const region = cluster.region ?? config.region;
  const resource = { kind: 'Cluster', name: cluster.name };
  const now = deps.now().toISOString();
  const finding: Finding = {
    id: findingId(CLUSTER_UNREACHABLE_CHECK_ID, cluster.name, resource, BUDGET_MESSAGE_ID),
    checkId: CLUSTER_UNREACHABLE_CHECK_ID,
    cluster: cluster.name,
    severity: 'high',
    status: 'ERROR',
    resource,
    messageId: BUDGET_MESSAGE_ID,
    message: `Cluster ${cluster.name}${region ? ` (${region})` : ''} was not ${opts.started ? 'fully ' : ''}audited: ${err.message}, so no check ran on it.`,
    remediation: opts.started
      ? 'Give the audit function more time (deploy.timeoutSeconds, up to 900) or memory, or lower kubernetes.requestTimeoutMs so one slow API call cannot use the budget; the run log shows which requests were slow.'
      : 'Audit this many clusters through the fleet state machine (one invocation per cluster) rather than one invocation, or give the function more time (deploy.timeoutSeconds, up to 900); an on-demand event with "clusters" re-runs only the ones left out.',
  };
  return {
    name: cluster.name,
    ...(region ? { region } : {}),
    status: 'ERROR',
    startedAt: opts.startedAt ?? now,
    finishedAt: now,
    findings: [finding],
    errors: [
      { source: 'aws', kind: 'cluster', name: cluster.name, code: err.name, message: err.message },
    ],
    stats: {
      kubeListPages: 0,
      kubeGets: 0,
      awsCalls: 0,
      durationMs: opts.started ? err.budgetMs : 0,
    },
  };
}

/** Run ids sort by time and stay unique: `2026-11-24T02-00-00Z-3f9a1c`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  return `${stamp}-${Math.random().toString(16).slice(2, 8)}`;
}
