import {
  findingHash,
  findingId,
  severityRank,
  type CheckResult,
  type Finding,
  type ResourceRef,
  type Severity,
} from '../config/findings.js';
import { collectedAt, type ClusterSnapshot, type CollectionFailure } from '../snapshot/snapshot.js';
import { awsRemediation, type FailurePlace } from './aws-remediation.js';
import { CHECK_CRASHED_MESSAGE_ID, COLLECTION_CHECK_ID, type Check } from './check.js';
import { AFFECTED_SAMPLE, identityOf } from './identity.js';
import { SNAPSHOT_MODELS, type SnapshotModel } from '../snapshot/models.js';
import { PassResults } from './pass-results.js';
// Registers the RBAC index (the runner releases models; it does not read them).
import '../snapshot/rbac/evaluator.js';

/** Every failed collection in the snapshot, Kubernetes and AWS, including secret GETs. */
export function collectionFailures(snapshot: ClusterSnapshot): CollectionFailure[] {
  const failures: CollectionFailure[] = [];
  for (const side of [snapshot.kube, snapshot.aws] as unknown as Record<string, unknown>[]) {
    for (const value of Object.values(side)) {
      const c = value as { status?: string; error?: CollectionFailure };
      if (c && c.status === 'error' && c.error) failures.push(c.error);
    }
  }
  for (const lookup of snapshot.kube.secrets) {
    if (lookup.result.status === 'error') failures.push(lookup.result.error);
  }
  return failures;
}

function failureFinding(cluster: string, f: CollectionFailure, region?: string): Finding {
  const resource = {
    kind: f.kind,
    ...(f.namespace ? { namespace: f.namespace } : {}),
    name: f.name ?? '*',
  };
  const status = f.status ? ` (HTTP ${f.status} ${f.code})` : ` (${f.code})`;
  return {
    id: findingId(COLLECTION_CHECK_ID, cluster, resource, f.code),
    checkId: COLLECTION_CHECK_ID,
    cluster,
    severity: 'high',
    status: 'ERROR',
    resource,
    messageId: f.code,
    message: `Cluster ${cluster}: could not read ${f.source === 'aws' ? '' : 'Kubernetes '}${f.kind}${
      f.name ? ` ${f.namespace ? `${f.namespace}/` : ''}${f.name}` : ''
    }${status}: ${f.message}`,
    remediation: remediationFor(f, { cluster, ...(region ? { region } : {}) }),
  };
}

function remediationFor(f: CollectionFailure, place: FailurePlace): string {
  if (f.source === 'aws') return awsRemediation(f, place);
  if (f.status === 403 || f.code === 'Forbidden') {
    const verb = f.name ? 'get' : 'list';
    return `Grant the auditor's group "${verb}" on ${f.kind}: apply infra/kubernetes/auditor-rbac.yaml (eks-datadog-auditor print-rbac) and re-run.`;
  }
  if (f.status === 401 || f.code === 'Unauthorized') {
    return `The API server of cluster ${place.cluster} rejected the auditor's credentials: add an access entry (or aws-auth mapping) for the auditor's IAM role in that cluster, and check that the token is fresh.`;
  }
  if (f.code === 'Network' || f.code === 'Timeout') {
    return `The API server of cluster ${place.cluster} did not answer the auditor: with a private endpoint, run the auditor in the cluster's VPC with a security group the cluster security group admits on 443; with a public endpoint, allow the auditor's egress addresses in publicAccessCidrs.`;
  }
  if (f.code === 'TooManyRequests') {
    return `The API server of cluster ${place.cluster} throttled the auditor (429): lower kubernetes.pageSize or secretConcurrency, or re-run later.`;
  }
  if (f.code === 'NotFound') {
    return `The API server of cluster ${place.cluster} does not serve ${f.kind}: check the cluster's Kubernetes version and the CRDs the auditor expects.`;
  }
  return `Reading ${f.kind} from cluster ${place.cluster} failed with ${f.code}: re-run; if it persists, check the API server's health and the auditor's network path to it.`;
}

/**
 * Check messages are built by concatenation, which V8 keeps as trees of 32-byte nodes until the
 * string is read: at N=5000 the findings held 1.3 million of them (41 MB) for 14 MB of text.
 * Reading a character flattens a string in place, and the GC then drops the tree.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/**
 * One ResourceRef object per resource for the whole run. About ten checks report on each
 * namespace-level resource: at N=5000 the findings held 85,000 refs (3.9 MB) for a few thousand
 * resources. The first ref a check returns for a resource becomes everyone's.
 */
class ResourceRefs {
  private readonly byKind = new Map<string, Map<string | undefined, Map<string, ResourceRef>>>();

  share(ref: ResourceRef): ResourceRef {
    let byNamespace = this.byKind.get(ref.kind);
    if (!byNamespace) this.byKind.set(ref.kind, (byNamespace = new Map()));
    let byName = byNamespace.get(ref.namespace);
    if (!byName) byNamespace.set(ref.namespace, (byName = new Map()));
    const seen = byName.get(ref.name);
    if (seen) return seen;
    byName.set(ref.name, ref);
    return ref;
  }
}

/**
 * One check's results as findings: PASS results go to the check's compact store
 * (lambda/checks/pass-results.ts), the others become plain findings; replicas of one workload are
 * merged as they come (see {@link merge}). Message ids repeat across results: one string each.
 */
class CheckFindings {
  readonly findings: Finding[] = [];
  private readonly byHash = new Map<string, Finding>();
  private readonly passes: PassResults;

  constructor(
    private readonly check: Check,
    private readonly cluster: string,
    private readonly messageIds: Map<string, string>,
    private readonly refs: ResourceRefs,
  ) {
    this.passes = new PassResults(check.id);
  }

  add(r: CheckResult, snapshot?: ClusterSnapshot): void {
    const { check, cluster } = this;
    // A result about a pod is filed under its workload (lambda/checks/identity.ts).
    const identity = snapshot
      ? identityOf(r.resource, snapshot)
      : { resource: r.resource, pod: undefined };
    const resource = this.refs.share(identity.resource);
    const { pod } = identity;
    let messageId = this.messageIds.get(r.messageId);
    if (messageId === undefined) this.messageIds.set((messageId = flat(r.messageId)), messageId);
    const hash = findingHash(check.id, cluster, resource, messageId);
    const first = this.byHash.get(hash);
    if (first) {
      merge(first, pod, r.severity ?? check.severity);
      return;
    }
    const severity = r.severity ?? check.severity;
    const affected = pod !== undefined ? { count: 1, names: [pod] } : undefined;
    const finding: Finding =
      r.status === 'PASS'
        ? this.passes.add({
            checkId: check.id,
            cluster,
            severity,
            resource,
            messageId,
            message: r.message,
            hash,
            ...(affected ? { affected } : {}),
          })
        : {
            id: flat(`${check.id}:${hash}`),
            checkId: check.id,
            cluster,
            severity,
            status: r.status,
            resource,
            messageId,
            message: flat(r.message),
            remediation: flat(r.remediation),
            ...(affected ? { affected } : {}),
          };
    this.byHash.set(hash, finding);
    this.findings.push(finding);
  }
}

/**
 * Two results with one identity would collide downstream; the first is kept, which is the most
 * severe by order. Replicas of one workload share an identity: they become the first replica's
 * finding with every affected pod counted (names sorted, a few kept), at the highest severity.
 */
function merge(first: Finding, pod: string | undefined, severity: Severity): void {
  if (!first.affected || pod === undefined) return;
  const names = [...first.affected.names, pod].sort();
  first.affected = { count: first.affected.count + 1, names: names.slice(0, AFFECTED_SAMPLE) };
  if (severityRank(severity) > severityRank(first.severity)) first.severity = severity;
}

/**
 * Runs every check over the snapshot. A check whose required data failed to collect yields one
 * ERROR "not evaluated" finding; a check that throws yields one ERROR finding. Collection failures
 * become ERROR findings under {@link COLLECTION_CHECK_ID}. Never throws.
 */
export function runChecks(snapshot: ClusterSnapshot, checks: readonly Check[]): Finding[] {
  const cluster = snapshot.cluster.name;
  const region = snapshot.cluster.region;
  const failures: Finding[] = collectionFailures(snapshot).map((f) =>
    failureFinding(cluster, f, region),
  );
  // Results are kept per check and joined in the declared order, whatever the run order.
  const byCheck: Finding[][] = checks.map(() => []);
  const messageIds = new Map<string, string>();
  const refs = new ResourceRefs();
  const { order, releaseAfter } = runPlan(checks);
  for (const [step, index] of order.entries()) {
    for (const model of releaseAfter.get(step - 1) ?? []) model.release(snapshot);
    const check = checks[index]!;
    const results = new CheckFindings(check, cluster, messageIds, refs);
    byCheck[index] = results.findings;
    /** A result about the check itself: it could not say anything about the cluster. */
    const checkError = (
      messageId: string,
      severity: Severity,
      message: string,
      remediation: string,
    ): void =>
      results.add({
        status: 'ERROR',
        severity,
        resource: { kind: 'Check', name: check.id },
        messageId,
        message,
        remediation,
      });

    const missing = check.requires.filter((key) => collectedAt(snapshot, key).status === 'error');
    if (missing.length > 0) {
      checkError(
        'not-evaluated',
        check.severity,
        `Not evaluated: ${check.title} needs ${missing.join(', ')}, which could not be collected on cluster ${cluster}.`,
        'Fix the collection errors reported under audit-collection, then re-run.',
      );
      continue;
    }
    // Not-installed AWS data means the AWS side was not collected at all (--no-aws): say so once
    // per check, as info, instead of judging Fargate or security groups against nothing.
    const skipped = check.requires.filter(
      (key) => key.startsWith('aws.') && collectedAt(snapshot, key).status === 'not-installed',
    );
    if (skipped.length > 0) {
      const why = collectedAt(snapshot, skipped[0]!) as { detail?: string };
      checkError(
        'not-evaluated',
        'info',
        `Not evaluated: ${check.title} needs ${skipped.join(', ')}, which was not collected on cluster ${cluster} (${why.detail ?? 'AWS side not collected'}).`,
        'Run the audit with AWS credentials (without --no-aws) to evaluate it.',
      );
      continue;
    }
    try {
      for (const r of check.run(snapshot)) results.add(r, snapshot);
    } catch (err) {
      checkError(
        CHECK_CRASHED_MESSAGE_ID,
        check.severity,
        `Check ${check.id} failed on cluster ${cluster}: ${(err as Error).message ?? String(err)}`,
        'This is a bug in the auditor: report it with the snapshot (digests only) attached.',
      );
    }
  }
  for (const model of SNAPSHOT_MODELS) model.release(snapshot);
  // Ids start with the check id: results of different checks never collide.
  return dedupe(failures).concat(...byCheck);
}

/**
 * The order the checks run in: the readers of each snapshot model next to each other (grouped
 * under the first model they declare), then the checks that read none, each group in declared
 * order; and after which step each model is released (see lambda/snapshot/models.ts).
 */
export function runPlan(checks: readonly Check[]): {
  order: number[];
  releaseAfter: Map<number, SnapshotModel<unknown>[]>;
} {
  const reads = (check: Check, model: SnapshotModel<unknown>) =>
    check.models?.includes(model) ?? false;
  const group = (check: Check) => {
    const g = SNAPSHOT_MODELS.findIndex((m) => reads(check, m));
    return g < 0 ? SNAPSHOT_MODELS.length : g;
  };
  const order = checks.map((_, i) => i).sort((a, b) => group(checks[a]!) - group(checks[b]!));
  const releaseAfter = new Map<number, SnapshotModel<unknown>[]>();
  for (const model of SNAPSHOT_MODELS) {
    const last = order.findLastIndex((i) => reads(checks[i]!, model));
    if (last < 0) continue;
    releaseAfter.set(last, [...(releaseAfter.get(last) ?? []), model]);
  }
  return { order, releaseAfter };
}

/**
 * Two results with one identity would collide downstream; keep the first, which is the most
 * severe by order. Replicas of one workload share an identity: they become the first replica's
 * finding with every affected pod counted (names sorted, a few kept), at the highest severity.
 */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  const out: Finding[] = [];
  for (const f of findings) {
    const first = seen.get(f.id);
    if (!first) {
      seen.set(f.id, f);
      out.push(f);
      continue;
    }
    if (first.affected && f.affected) {
      const names = [...first.affected.names, ...f.affected.names].sort();
      first.affected = {
        count: first.affected.count + f.affected.count,
        names: names.slice(0, AFFECTED_SAMPLE),
      };
      if (severityRank(f.severity) > severityRank(first.severity)) first.severity = f.severity;
    }
  }
  return out;
}
