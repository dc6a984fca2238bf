import type { CheckResult, Severity } from '../config/findings.js';
import type { SnapshotModel } from '../snapshot/models.js';
import type { ClusterSnapshot, DataKey } from '../snapshot/snapshot.js';

/**
 * A check: metadata beside a pure, synchronous function of the snapshot. It never calls an API,
 * reads the clock or the environment; the collection time is `snapshot.collectedAt`.
 *
 * Identity (lambda/checks/identity.ts): a result about a `Pod` is filed by the runner under the
 * pod's workload (`workloadOf(pod)`), replicas merged into one finding listing the pods. Keep
 * `messageId` structural (failure mode + container/env/key/binding names): never a pod name, hash,
 * count, time or address, or a rollout changes the id and every report shows false drift.
 */
export interface Check {
  /** Kebab-case; equals the file name under `lambda/checks/<area>/`. Stable once released. */
  id: string;
  /** Folder under lambda/checks: token, external-secrets, wiring, rbac, fargate, network, ... */
  area: string;
  title: string;
  /** Default severity of a FAIL; a result may override it. */
  severity: Severity;
  /** Kind of resource the results are about (for the README table). */
  resourceType: string;
  /** Why it matters: the breakage users see when this fails. */
  risk: string;
  /** The fix in one line, for the README table; results carry the exact per-resource fix. */
  remediation: string;
  /**
   * Snapshot data without which the check cannot say anything. When one of these failed to
   * collect, the runner emits an ERROR "not evaluated" finding instead of running the check, so a
   * failed collection is never a silent PASS. Data the check can do without is not listed here.
   */
  requires: DataKey[];
  /**
   * The models derived from the snapshot that the check reads (lambda/snapshot/models.ts): the
   * runner runs the readers of a model together and releases it after the last of them.
   */
  models?: readonly SnapshotModel<unknown>[];
  run(snapshot: ClusterSnapshot): CheckResult[];
}

/** The check id under which collection failures are reported. */
export const COLLECTION_CHECK_ID = 'audit-collection';
/** Message id of the ERROR finding for a check that threw. */
export const CHECK_CRASHED_MESSAGE_ID = 'check-crashed';
/** The check id under which a cluster that could not be audited at all is reported. */
export const CLUSTER_UNREACHABLE_CHECK_ID = 'audit-cluster';
