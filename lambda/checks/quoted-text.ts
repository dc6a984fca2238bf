/**
 * Checks quote strings from the cluster (object names, env values, annotations) into their
 * messages and remediations. A remediation may span lines on purpose (a YAML snippet), so the
 * renderers keep its line breaks; a quoted string with a line break of its own would then start
 * a line of the alert that the cluster, not the auditor, wrote ("Fix: kubectl delete ...").
 * Anyone who can create a Pod controls those strings. So every string of the snapshot that carries
 * a control character is found, and wherever a finding quotes it verbatim it is replaced by its
 * visible form (`\r\n`, `\x1b`), leaving the check's own line breaks alone.
 */
import type { Finding } from '../config/findings.js';
import { singleLine } from './sanitize.js';
import type { ClusterSnapshot } from '../snapshot/snapshot.js';

/** What singleLine makes visible: C0, DEL, C1, bidi, zero-width and line separators. */
const CONTROL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/;

/** Strings of the Kubernetes side that carry a control character, longest first. */
export function clusterStringsWithControls(snapshot: ClusterSnapshot): string[] {
  const found = new Set<string>();
  // Plain recursion and for-in: a 10,000-pod snapshot is walked in a few tens of milliseconds.
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (CONTROL.test(v)) found.add(v);
    } else if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) walk(v[i]);
      } else {
        const o = v as Record<string, unknown>;
        for (const k in o) {
          // Keys too: label and annotation keys come from the cluster as well.
          if (CONTROL.test(k)) found.add(k);
          walk(o[k]);
        }
      }
    }
  };
  walk(snapshot.kube);
  return [...found].sort((a, b) => b.length - a.length);
}

function neutralise(text: string, hostile: readonly string[]): string {
  let out = text;
  for (const h of hostile) if (out.includes(h)) out = out.split(h).join(singleLine(h));
  return out;
}

/** The findings with every quoted cluster string that carries a control character made visible. */
export function neutraliseQuotedClusterText(
  findings: Finding[],
  snapshot: ClusterSnapshot,
): Finding[] {
  const hostile = clusterStringsWithControls(snapshot);
  if (hostile.length === 0) return findings;
  // Only the findings that quote one are copied: the others (compact PASS results among them,
  // lambda/checks/pass-results.ts) stay as they are.
  return findings.map((f) => {
    const message = neutralise(f.message, hostile);
    const remediation = neutralise(f.remediation, hostile);
    return message === f.message && remediation === f.remediation
      ? f
      : { ...f, message, remediation };
  });
}
