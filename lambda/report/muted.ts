/**
 * Text shared by every renderer for muted findings (accepted risks) and for findings that stand
 * for several pods of one workload.
 */
import { describeAffected } from '../checks/identity.js';
import type { Finding } from '../config/findings.js';
import { sortFindings } from './summary.js';
import type { ClusterReport } from './types.js';

/** MUTED findings of a cluster, in display order. */
export function mutedFindings(report: Pick<ClusterReport, 'findings'>): Finding[] {
  return sortFindings(report.findings.filter((f) => f.status === 'MUTED'));
}

/** `until 2027-01-31, owner platform-team (config): migrating to ESO, OPS-1234`. */
export function suppressionNote(f: Finding): string {
  const s = f.suppression;
  if (!s) return 'muted';
  return `until ${s.expires}${s.owner ? `, owner ${s.owner}` : ''} (${
    s.source === 'config' ? 'config suppressions' : 'annotation eks-datadog-auditor/suppress'
  }): ${s.reason}`;
}

/** `2 pods: a, b` when a finding stands for more than one pod, else undefined. */
export function affectedNote(f: Finding): string | undefined {
  return f.affected && f.affected.count > 1 ? describeAffected(f.affected) : undefined;
}
