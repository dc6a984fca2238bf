import { hash } from 'node:crypto';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * PASS: evaluated and fine. FAIL: evaluated and broken. ERROR: could not be evaluated.
 * MUTED: evaluated and broken, but an unexpired suppression with a reason accepts the risk: it keeps
 * its severity, is reported in its own section, never alerts and never counts for --fail-on.
 */
export const FINDING_STATUSES = ['PASS', 'FAIL', 'ERROR', 'MUTED'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** Why a finding is MUTED: the suppression that matched it. */
export interface Suppression {
  reason: string;
  /** ISO date (YYYY-MM-DD) after which the suppression stops muting. */
  expires: string;
  owner?: string;
  /** `config` (the suppressions list) or `annotation` (eks-datadog-auditor/suppress on the object). */
  source: 'config' | 'annotation';
}

/**
 * The pods behind a finding filed under their workload (see lambda/checks/identity.ts): replicas
 * with the same problem are one finding. Not part of the id: a rollout changes the names only.
 */
export interface AffectedPods {
  count: number;
  /** A few pod names, sorted. */
  names: string[];
}

export interface ResourceRef {
  /** Kubernetes kind (`Pod`, `Secret`, `ClusterRole`) or AWS type (`SecurityGroup`, `FargateProfile`). */
  kind: string;
  namespace?: string;
  name: string;
}

/** What a check returns: a finding before the runner gives it cluster and identity. */
export interface CheckResult {
  status: FindingStatus;
  /** Defaults to the check's severity. PASS results keep it: it says how much the pass matters. */
  severity?: Severity;
  resource: ResourceRef;
  /**
   * Stable id of the failure mode (`mismatch`, `missing-key`), part of the finding id. Two results of
   * one check on one resource must differ in messageId.
   */
  messageId: string;
  message: string;
  /** What to change, naming the exact object and field. Empty for PASS. */
  remediation: string;
}

export interface Finding {
  /** Stable across runs: hash of check id, cluster, resource and message id; no values, no times. */
  id: string;
  checkId: string;
  cluster: string;
  severity: Severity;
  status: FindingStatus;
  resource: ResourceRef;
  messageId: string;
  message: string;
  remediation: string;
  /** Present when status is MUTED. */
  suppression?: Suppression;
  /** Present when the finding is about the pods of a workload. */
  affected?: AffectedPods;
}

export function findingId(
  checkId: string,
  cluster: string,
  resource: ResourceRef,
  messageId: string,
): string {
  return `${checkId}:${findingHash(checkId, cluster, resource, messageId)}`;
}

/** The 16 hex characters of a finding's id after `checkId:`. */
export function findingHash(
  checkId: string,
  cluster: string,
  resource: ResourceRef,
  messageId: string,
): string {
  const key = [
    checkId,
    cluster,
    resource.kind,
    resource.namespace ?? '',
    resource.name,
    messageId,
  ].join('\u0000');
  // One-shot: no Hash object per result (90,000 of them at 5,000 namespaces).
  return hash('sha256', key, 'hex').slice(0, 16);
}

export function severityRank(s: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(s);
}

/** True when `s` is at or above `threshold` (critical > high > medium > low > info). */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return severityRank(s) >= severityRank(threshold);
}

export function resourceLabel(r: ResourceRef): string {
  return r.namespace ? `${r.namespace}/${r.kind}/${r.name}` : `${r.kind}/${r.name}`;
}
