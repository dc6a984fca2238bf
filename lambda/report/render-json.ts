/**
 * The JSON report: the CLI's `--format json` document and the base of the SNS machine message.
 * Shape (issue 2): `{ runId, startedAt, clusters: [{ name, status, findings: [{ id, checkId,
 * severity, status, resource: { kind, namespace, name }, message, remediation }], errors }] }`,
 * plus optional extras (finishedAt, trigger, region, counts, drift).
 */
import type { ClusterSetup } from '../snapshot/setup.js';
import type { AffectedPods, Finding, Severity, Suppression } from '../config/findings.js';
import type { CollectionFailure } from '../snapshot/snapshot.js';
import { failingCounts, sortFindings } from './summary.js';
import type { AuditReport, ClusterReport, Drift } from './types.js';

export interface JsonFinding {
  id: string;
  checkId: string;
  severity: Severity;
  status: Finding['status'];
  resource: { kind: string; namespace: string | null; name: string };
  message: string;
  remediation: string;
  /** MUTED only: the suppression that accepts the risk. */
  suppression?: Suppression;
  /** A workload's finding: how many of its pods, and a few names. */
  affected?: AffectedPods;
}

export interface JsonDrift {
  firstRun: boolean;
  /** Ids of findings failing now and not before (they are in `findings`). */
  new: string[];
  /** Failing before, not now; as they were in the previous run. */
  resolved: JsonFinding[];
  /** Ids failing both times. */
  unchanged: string[];
  /** Ids failing before whose check could not run now. */
  notEvaluated: string[];
  /** Ids MUTED now: neither new nor resolved. */
  muted?: string[];
}

export interface JsonCluster {
  name: string;
  status: ClusterReport['status'];
  findings: JsonFinding[];
  errors: CollectionFailure[];
  region?: string;
  /** Failing findings (FAIL or ERROR) per severity. */
  counts: Record<Severity, number>;
  /** MUTED findings (accepted risks), not in `counts`. */
  muted?: number;
  drift?: JsonDrift;
  /** How Datadog gets onto the pods: `{ kinds: [{ kind, detail }], clusterAgent?, summary }`. */
  setup?: ClusterSetup;
}

export interface JsonReport {
  runId: string;
  startedAt: string;
  clusters: JsonCluster[];
  finishedAt: string;
  trigger: AuditReport['trigger'];
}

export function jsonFinding(f: Finding): JsonFinding {
  return {
    id: f.id,
    checkId: f.checkId,
    severity: f.severity,
    status: f.status,
    resource: {
      kind: f.resource.kind,
      namespace: f.resource.namespace ?? null,
      name: f.resource.name,
    },
    message: f.message,
    remediation: f.remediation,
    ...(f.suppression ? { suppression: f.suppression } : {}),
    ...(f.affected ? { affected: f.affected } : {}),
  };
}

export function jsonDrift(drift: Drift): JsonDrift {
  return {
    firstRun: drift.firstRun,
    new: drift.new.map((f) => f.id),
    resolved: drift.resolved.map(jsonFinding),
    unchanged: drift.unchanged.map((f) => f.id),
    notEvaluated: (drift.notEvaluated ?? []).map((f) => f.id),
    ...(drift.muted?.length ? { muted: drift.muted.map((f) => f.id) } : {}),
  };
}

export function jsonCluster(cluster: ClusterReport, drift?: Drift): JsonCluster {
  return {
    name: cluster.name,
    status: cluster.status,
    findings: sortFindings(cluster.findings).map(jsonFinding),
    errors: cluster.errors,
    ...(cluster.region ? { region: cluster.region } : {}),
    counts: failingCounts(cluster.findings),
    ...mutedCount(cluster),
    ...(drift ? { drift: jsonDrift(drift) } : {}),
    ...(cluster.setup ? { setup: cluster.setup } : {}),
  };
}

function mutedCount(cluster: ClusterReport): { muted?: number } {
  const muted = cluster.findings.filter((f) => f.status === 'MUTED').length;
  return muted ? { muted } : {};
}

export function toJsonReport(report: AuditReport, drift?: Record<string, Drift>): JsonReport {
  return {
    runId: report.runId,
    startedAt: report.startedAt,
    clusters: report.clusters.map((c) => jsonCluster(c, drift?.[c.name])),
    finishedAt: report.finishedAt,
    trigger: report.trigger,
  };
}

/**
 * JSON.stringify escapes C0 controls but passes DEL, C1 controls and bidi/zero-width characters
 * through; a terminal showing the JSON may act on them. Escaping them keeps the data identical
 * for a parser and inert for a reader.
 */
export function safeJsonStringify(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** One JSON document, pretty-printed, with a trailing newline. */
export function renderJson(report: AuditReport, drift?: Record<string, Drift>): string {
  return safeJsonStringify(toJsonReport(report, drift), 2) + '\n';
}
