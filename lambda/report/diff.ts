/**
 * Drift of one cluster against its previous run, by finding id (stable across runs: check id,
 * cluster, resource and message id, hashed). Failing means FAIL or ERROR.
 */
import type { Finding } from '../config/findings.js';
import { isFailing, sortFindings } from './summary.js';
import type { ClusterReport, Drift } from './types.js';

/** Message ids the runner uses for "this check did not run", whatever it found before. */
const NOT_RUN_MESSAGE_IDS = new Set(['not-evaluated', 'check-crashed']);

/**
 * Check ids whose earlier findings say nothing about now: the check has a not-evaluated or
 * crashed marker in this run. When nothing at all was evaluated (no PASS or FAIL finding, as when
 * the cluster was unreachable), every check counts as not run.
 */
function checksNotRun(current: ClusterReport): ((checkId: string) => boolean) | 'all' {
  const evaluatedSomething = current.findings.some(
    (f) => f.status === 'PASS' || f.status === 'FAIL',
  );
  if (!evaluatedSomething) return 'all';
  const notRun = new Set(
    current.findings
      .filter((f) => f.status === 'ERROR' && NOT_RUN_MESSAGE_IDS.has(f.messageId))
      .map((f) => f.checkId),
  );
  return (checkId) => notRun.has(checkId);
}

export function diffReports(current: ClusterReport, previous: ClusterReport | undefined): Drift {
  const failingNow = current.findings.filter(isFailing);
  // Muted is neither new nor resolved: the finding is still there, its risk accepted.
  const mutedNow = current.findings.filter((f) => f.status === 'MUTED');
  if (!previous) {
    return {
      new: sortFindings(failingNow),
      resolved: [],
      unchanged: [],
      firstRun: true,
      notEvaluated: [],
      muted: sortFindings(mutedNow),
    };
  }
  const failingBefore = new Map(previous.findings.filter(isFailing).map((f) => [f.id, f] as const));
  const failingNowIds = new Set(failingNow.map((f) => f.id));
  // Only whether a previously failing id is still present matters: no set of every id.
  const presentNow = new Set<string>();
  for (const f of current.findings) {
    const id = f.id;
    if (failingBefore.has(id)) presentNow.add(id);
  }
  const notRun = checksNotRun(current);

  // Reports written before findings were filed under workloads keyed pod findings on the pod.
  const mutedIds = new Set(mutedNow.map((f) => f.id));
  const legacy = legacyMatches(failingBefore, [...failingNow, ...mutedNow], failingNowIds);

  const added: Finding[] = [];
  const unchanged: Finding[] = [];
  for (const f of failingNow) {
    (failingBefore.has(f.id) || legacy.matchedNow.has(f.id) ? unchanged : added).push(f);
  }

  const resolved: Finding[] = [];
  const notEvaluated: Finding[] = [];
  for (const [id, f] of failingBefore) {
    if (failingNowIds.has(id) || mutedIds.has(id) || legacy.matchedBefore.has(id)) continue;
    // A finding that is now PASS was evaluated and is fixed; one that vanished is fixed only if
    // its check ran (the resource was deleted or changed), not when the check could not run.
    const stillUnknown = !presentNow.has(id) && (notRun === 'all' || notRun(f.checkId));
    (stillUnknown ? notEvaluated : resolved).push(f);
  }
  return {
    new: sortFindings(added),
    resolved: sortFindings(resolved),
    unchanged: sortFindings(unchanged),
    firstRun: false,
    notEvaluated: sortFindings(notEvaluated),
    muted: sortFindings(mutedNow),
  };
}

const WORKLOAD_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
]);

/**
 * Upgrade path from pod-keyed ids: a previous failing finding about a Pod that no current finding
 * carries the id of is the same finding as a current one about a workload when check and namespace
 * agree and the pod is named after the workload (`<workload>-...`, as every
 * controller names its pods). Message ids must agree when the old report has them. The longest such workload name wins (`app-worker` over `app`).
 */
function legacyMatches(
  failingBefore: Map<string, Finding>,
  failingNow: readonly Finding[],
  failingNowIds: ReadonlySet<string>,
): { matchedBefore: Set<string>; matchedNow: Set<string> } {
  const matchedBefore = new Set<string>();
  const matchedNow = new Set<string>();
  const byKey = new Map<string, Finding[]>();
  for (const f of failingNow) {
    if (!WORKLOAD_KINDS.has(f.resource.kind)) continue;
    const key = legacyKey(f);
    const list = byKey.get(key);
    if (list) list.push(f);
    else byKey.set(key, [f]);
  }
  if (byKey.size === 0) return { matchedBefore, matchedNow };
  for (const [id, before] of failingBefore) {
    if (before.resource.kind !== 'Pod' || failingNowIds.has(id)) continue;
    let best: Finding | undefined;
    for (const now of byKey.get(legacyKey(before)) ?? []) {
      // A `--format json` baseline carries no message ids: check and workload must do.
      if (before.messageId && before.messageId !== now.messageId) continue;
      if (!before.resource.name.startsWith(`${now.resource.name}-`)) continue;
      if (!best || now.resource.name.length > best.resource.name.length) best = now;
    }
    if (best) {
      matchedBefore.add(id);
      matchedNow.add(best.id);
    }
  }
  return { matchedBefore, matchedNow };
}

function legacyKey(f: Finding): string {
  return `${f.checkId}\u0000${f.resource.namespace ?? ''}`;
}

/** Whether the drift is news under the `drift` notify policy. */
export function hasDrift(drift: Drift): boolean {
  return drift.new.length > 0 || drift.resolved.length > 0;
}
