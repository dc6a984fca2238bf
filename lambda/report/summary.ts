/** Counting and ordering findings: shared by every renderer, the publisher and the handler. */
import { SEVERITIES, severityRank, type Finding, type Severity } from '../config/findings.js';
import type { ClusterReport } from './types.js';

export type SeverityCounts = Record<Severity, number>;

/** FAIL and ERROR both need a human: an ERROR is a check that could not say PASS. */
export function isFailing(f: Pick<Finding, 'status'>): boolean {
  return f.status === 'FAIL' || f.status === 'ERROR';
}

export function emptyCounts(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
}

interface Tally {
  length: number;
  failing: readonly Finding[];
  passed: number;
}

/**
 * One pass over a report's findings, kept per array: the email of a 5,000-namespace cluster is
 * rendered a dozen times while its size is fitted to SNS, each render asking for the counts
 * several times over 90,000 results. Findings are not changed in place once a report is built
 * (suppression makes new ones); the length guards against an array that grew.
 */
const tallies = new WeakMap<readonly Finding[], Tally>();

function tally(findings: readonly Finding[]): Tally {
  const seen = tallies.get(findings);
  if (seen && seen.length === findings.length) return seen;
  const failing: Finding[] = [];
  let passed = 0;
  for (const f of findings) {
    if (isFailing(f)) failing.push(f);
    else if (f.status === 'PASS') passed += 1;
  }
  const out = { length: findings.length, failing, passed };
  tallies.set(findings, out);
  return out;
}

/** The failing findings (FAIL or ERROR), in report order. */
export function failingFindings(findings: readonly Finding[]): readonly Finding[] {
  return tally(findings).failing;
}

/** Failing findings (FAIL or ERROR) per severity. */
export function failingCounts(findings: readonly Finding[]): SeverityCounts {
  const counts = emptyCounts();
  for (const f of failingFindings(findings)) counts[f.severity] += 1;
  return counts;
}

/** Highest severity among failing findings, or undefined when nothing fails. */
export function maxFailingSeverity(findings: readonly Finding[]): Severity | undefined {
  const failing = failingFindings(findings);
  return SEVERITIES.find((s) => failing.some((f) => f.severity === s));
}

/** `2 critical, 1 high`; empty string when all counts are zero. */
export function describeCounts(counts: SeverityCounts): string {
  return SEVERITIES.filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');
}

const STATUS_ORDER: Record<Finding['status'], number> = { FAIL: 0, ERROR: 1, MUTED: 2, PASS: 3 };

/**
 * Display order: failing before passing, then by severity (critical first), FAIL before ERROR at
 * the same severity, then by resource and check so output is stable across runs.
 */
export function compareFindings(a: Finding, b: Finding): number {
  const failA = isFailing(a) ? 0 : 1;
  const failB = isFailing(b) ? 0 : 1;
  return (
    failA - failB ||
    severityRank(b.severity) - severityRank(a.severity) ||
    STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
    cmp(a.resource.namespace ?? '', b.resource.namespace ?? '') ||
    cmp(a.resource.kind, b.resource.kind) ||
    cmp(a.resource.name, b.resource.name) ||
    cmp(a.checkId, b.checkId) ||
    cmp(a.id, b.id)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}

export function passedCount(report: ClusterReport): number {
  return tally(report.findings).passed;
}
