import type { ClusterSetup } from '../checks/setup-detection.js';
import type { Finding } from '../findings.js';
import type { CollectionFailure, CollectionStats, CopyRecordSet } from '../snapshot.js';

/**
 * PASS: every evaluated resource passed. FAIL: some finding failed. ERROR: the audit is incomplete
 * (a collection failed or a check could not be evaluated), whatever else it found.
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
  /** How Datadog gets onto the pods (lambda/checks/setup-detection.ts); absent when not collected. */
  setup?: ClusterSetup;
  /**
   * Fingerprints of every token and Datadog key copy (lambda/copies/record.ts), archived
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

export function clusterStatus(findings: Finding[], errors: CollectionFailure[]): ClusterStatus {
  if (errors.length > 0 || findings.some((f) => f.status === 'ERROR')) return 'ERROR';
  return findings.some((f) => f.status === 'FAIL') ? 'FAIL' : 'PASS';
}
