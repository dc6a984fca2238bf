/**
 * Whether a cluster was audited at all. An audit whose Kubernetes side could not be read (every
 * request refused with 401/403, the endpoint unreachable) says nothing about the agents, however
 * many AWS-only checks passed: it must not count as a successful audit, or a function whose role
 * was never mapped into the cluster would never trip the no-successful-audit alarm.
 */
import { CLUSTER_UNREACHABLE_CHECK_ID } from '../checks/check.js';
import type { ClusterReport } from './types.js';

/**
 * True when the cluster could not be audited: the audit failed as a whole, or pods could not be
 * listed (every check about agents, tokens and wiring starts from them).
 */
export function notAudited(report: Pick<ClusterReport, 'findings' | 'errors'>): boolean {
  return (
    report.findings.some(
      (f) => f.checkId === CLUSTER_UNREACHABLE_CHECK_ID && f.status === 'ERROR',
    ) || report.errors.some((e) => e.source === 'kubernetes' && e.kind === 'pods' && !e.name)
  );
}

/**
 * An incomplete audit (status ERROR, see clusterStatus): the auditor could not read what it needs
 * or a check crashed. A result the auditor does not evaluate is shown but never makes it so.
 */
export function incomplete(report: Pick<ClusterReport, 'status'>): boolean {
  return report.status === 'ERROR';
}
