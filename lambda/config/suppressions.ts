/**
 * Suppressions: accepting a known risk with a reason and an expiry (Prowler's mutelist,
 * kubescape's exceptions). A FAIL finding matched by an unexpired suppression becomes MUTED: it
 * keeps its severity and id, is reported in its own section, never alerts and never counts for
 * --fail-on or the criticals metric. ERROR findings are never muted: they say the auditor could
 * not look, which no accepted risk covers.
 *
 * Two sources, same rules:
 *  - `suppressions` in the config file: `{ check, cluster?, namespace?, kind?, name?, reason,
 *    expires, owner? }`; every matching field may be a glob (`*` any run of characters, `?` one);
 *  - the annotation `eks-datadog-auditor/suppress` on the Kubernetes object a finding is filed
 *    under (for a pod's finding: its Deployment, StatefulSet, DaemonSet, ...; see
 *    lambda/checks/identity.ts), one suppression per line:
 *      `<check-id>; reason=<why>; expires=YYYY-MM-DD[; owner=<who>]`
 *    (the reason may not contain `;`).
 *
 * `expires` is the last day (UTC) the suppression mutes, at most a year after the run date.
 * Per cluster, an expired suppression stops muting and adds an info finding naming it; one that
 * muted nothing adds an info finding (stale: the problem is gone or the pattern is wrong). Scope a
 * config suppression meant for one cluster with `cluster`, or it is stale in the others.
 */
import { z } from 'zod';
import { globRegExp } from './glob.js';

export const SUPPRESS_ANNOTATION = 'eks-datadog-auditor/suppress';
/** The check id under which expired, stale and invalid suppressions are reported. */
export const SUPPRESSIONS_CHECK_ID = 'audit-suppressions';
/** How far ahead an expiry may be: a suppression must be looked at again within a year. */
export const MAX_SUPPRESSION_DAYS = 366;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD (the last day it mutes)')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && validDay(d), {
    message: 'must be a real calendar date YYYY-MM-DD',
  });

function validDay(d: string): boolean {
  return new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d;
}

const field = z.string().trim().min(1);

export const suppressionSchema = z
  .object({
    /** Check id, or a glob over check ids. */
    check: field,
    cluster: field.optional(),
    namespace: field.optional(),
    kind: field.optional(),
    /** Resource name, or a glob (`datadog-*`). */
    name: field.optional(),
    reason: z.string().trim().min(1, 'say why the risk is accepted'),
    expires: isoDate,
    owner: field.optional(),
  })
  .strict();

export type SuppressionRule = z.infer<typeof suppressionSchema>;

/** Day (YYYY-MM-DD, UTC) of a run time. */
export function runDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Why an expiry is refused on this run date, or undefined when it is acceptable. */
export function expiryProblem(expires: string, now: Date): string | undefined {
  const ahead = daysBetween(runDay(now), expires);
  return ahead > MAX_SUPPRESSION_DAYS
    ? `expires ${expires} is more than a year after today (${runDay(now)}): review accepted risks at least yearly, so pick a date until ${addDays(runDay(now), MAX_SUPPRESSION_DAYS)}`
    : undefined;
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Problems with configured suppressions beyond their shape: expiry more than a year after the run
 * date, a check pattern that names no known check. One line per problem, `suppressions[i]: ...`.
 */
export function suppressionProblems(
  rules: readonly SuppressionRule[],
  opts: { now: Date; checkIds: readonly string[] },
): string[] {
  const problems: string[] = [];
  rules.forEach((r, i) => {
    const expiry = expiryProblem(r.expires, opts.now);
    if (expiry) problems.push(`suppressions[${i}].expires: ${expiry}`);
    const check = globRegExp(r.check);
    if (!opts.checkIds.some((id) => check.test(id))) {
      problems.push(
        `suppressions[${i}].check: "${r.check}" matches no check id; run \`eks-datadog-auditor checks\` or see the README's checks table`,
      );
    }
  });
  return problems;
}
