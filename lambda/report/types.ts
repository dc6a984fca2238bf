import { CHECK_CRASHED_MESSAGE_ID } from '../checks/check.js';
import type { ClusterSetup } from '../snapshot/setup.js';
import type { Finding } from '../config/findings.js';
import type { CollectionFailure, CollectionStats, CopyRecordSet } from '../snapshot/snapshot.js';

/**
 * PASS: every evaluated resource passed. FAIL: some finding failed. ERROR: the audit is incomplete:
 * the auditor could not read what it needs (denied, unreachable, throttled after retries, out of
 * time: each a CollectionFailure in `errors`) or a check crashed, whatever else it found. A result
 * a check reports as not evaluated (a value from a ConfigMap, a mode it does not support) is shown
 * with status ERROR but does not make the audit incomplete (see {@link clusterStatus}).
 */
export type ClusterStatus = 'PASS' | 'FAIL' | 'ERROR';

export interface ClusterReport {
  name: string;
  region?: string;
  status: ClusterStatus;
  startedAt: string;
  finishedAt: string;
  /** All results: PASS (what was checked), FAIL and ERROR. */
  findings: Finding[];
  /** Collection failures (also present as ERROR findings), for "audit incomplete" summaries. */
  errors: CollectionFailure[];
  stats: CollectionStats;
  /** How Datadog gets onto the pods (lambda/snapshot/setup.ts); absent when not collected. */
  setup?: ClusterSetup;
  /**
   * Fingerprints of every token and Datadog key copy (lambda/snapshot/copies/record.ts), archived
   * so the next run can tell which key changed. Absent when the cluster holds none.
   */
  copyRecord?: CopyRecordSet;
}

export interface AuditReport {
  runId: string;
  startedAt: string;
  finishedAt: string;
  trigger: 'scheduled' | 'on-demand' | 'cli';
  clusters: ClusterReport[];
}

/** Drift of one cluster's findings against the previous run's report. */
export interface Drift {
  /** FAIL/ERROR findings not failing in the previous run. */
  new: Finding[];
  /** Findings failing in the previous run and not failing now. */
  resolved: Finding[];
  /** Failing both times. */
  unchanged: Finding[];
  /** True when there was no previous report (everything is new). */
  firstRun: boolean;
  /**
   * Failing in the previous run, absent now because their check could not be evaluated this time
   * (collection failed, check crashed, cluster unreachable): neither resolved nor confirmed, so
   * they never count as good news.
   */
  notEvaluated?: Finding[];
  /** MUTED now (an unexpired suppression accepts the risk): never new, never resolved. */
  muted?: Finding[];
}

/**
 * Check ids of the ERROR findings that say a read failed: `audit-collection` (COLLECTION_CHECK_ID,
 * lambda/checks/runner.ts), `audit-cluster` (CLUSTER_UNREACHABLE_CHECK_ID, lambda/run/audit.ts: the
 * cluster unreachable, out of time, no report) and `fleet-discovery` (DISCOVERY_CHECK_ID). Literal
 * here because those modules import this one; test/report/completeness-mechanism.test.ts keeps
 * them equal.
 */
export const READ_FAILURE_CHECK_IDS: ReadonlySet<string> = new Set([
  'audit-collection',
  'audit-cluster',
  'fleet-discovery',
]);

/**
 * True for an ERROR finding that makes the audit incomplete: a read that failed (its failure is
 * also in `errors`) or a check that crashed. Any other ERROR (a check's "not evaluated" about a
 * fact it does not evaluate, the runner's info for data not collected on purpose) is shown, but
 * the audit is complete without it.
 */
export function marksIncomplete(f: Finding): boolean {
  if (f.status !== 'ERROR') return false;
  if (READ_FAILURE_CHECK_IDS.has(f.checkId)) return true;
  return f.messageId === CHECK_CRASHED_MESSAGE_ID && f.resource.kind === 'Check';
}

export function clusterStatus(findings: Finding[], errors: CollectionFailure[]): ClusterStatus {
  if (errors.length > 0 || findings.some(marksIncomplete)) return 'ERROR';
  return findings.some((f) => f.status === 'FAIL') ? 'FAIL' : 'PASS';
}
