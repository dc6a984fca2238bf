/**
 * SARIF 2.1.0 (`--format sarif`), for pipelines and code-scanning dashboards: one run per cluster,
 * one rule per check (with its fix and a link to its README row), one result per evaluated
 * resource. Validated in tests against the OASIS schema (test/data/sarif-schema-2.1.0.json).
 *
 * SARIF 3.27.9/3.27.10: a level other than "none" requires kind "fail". So FAIL and MUTED are
 * `fail` results with a level from the severity; PASS is `pass` and a check that could not be
 * evaluated is `open` (both level "none"). An incomplete audit must still stop a pipeline, so it
 * also makes the run's invocation unsuccessful with an error notification per missing evidence.
 */
import { CHECKS } from '../checks/index.js';
import type { Check } from '../checks/check.js';
import type { Finding, Severity } from '../config/findings.js';
import { checkHelpUri, DEFAULT_DOCS_URL, TOOL_NAME, TOOL_VERSION } from './links.js';
import { safeJsonStringify } from './render-json.js';
import { sortFindings } from './summary.js';
import type { AuditReport, ClusterReport, Drift } from './types.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

export type SarifLevel = 'error' | 'warning' | 'note' | 'none';

export function sarifLevel(severity: Severity): Exclude<SarifLevel, 'none'> {
  switch (severity) {
    case 'critical':
    case 'high':
      return 'error';
    case 'medium':
      return 'warning';
    case 'low':
    case 'info':
      return 'note';
  }
}

/** GitHub code scanning ranks alerts by `security-severity` (0-10) in the rule's properties. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

export interface SarifOptions {
  /** README (or its mirror) that check links point into; default {@link DEFAULT_DOCS_URL}. */
  docsUrl?: string;
  /** Registered checks; default the auditor's registry. */
  checks?: readonly Check[];
}

interface SarifMessage {
  text: string;
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: SarifMessage;
  fullDescription: SarifMessage;
  help: SarifMessage;
  helpUri: string;
  defaultConfiguration: { level: SarifLevel };
  properties: Record<string, unknown>;
}

interface SarifLogicalLocation {
  name: string;
  fullyQualifiedName: string;
  kind: string;
  properties?: Record<string, unknown>;
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  kind: 'fail' | 'pass' | 'open';
  level: SarifLevel;
  message: SarifMessage;
  locations: { logicalLocations: SarifLogicalLocation[] }[];
  partialFingerprints: Record<string, string>;
  baselineState?: 'new' | 'unchanged';
  suppressions?: {
    kind: 'external';
    state: 'accepted';
    justification: string;
    properties: Record<string, unknown>;
  }[];
  properties: Record<string, unknown>;
}

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: unknown[];
}

/** PascalCase of a kebab-case id: SARIF wants rule names that read like identifiers. */
function ruleName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

function ruleFor(check: Check, docsUrl: string): SarifRule {
  return {
    id: check.id,
    name: ruleName(check.id),
    shortDescription: { text: check.title },
    fullDescription: { text: check.risk },
    help: { text: `${check.remediation}\n\nSee ${checkHelpUri(check.id, docsUrl)}` },
    helpUri: checkHelpUri(check.id, docsUrl),
    defaultConfiguration: { level: sarifLevel(check.severity) },
    properties: {
      tags: ['eks', 'datadog', check.area],
      'security-severity': SECURITY_SEVERITY[check.severity],
      severity: check.severity,
      resourceType: check.resourceType,
    },
  };
}

/** Findings of a check id outside the registry (the runner's `audit-collection`). */
function fallbackRule(checkId: string, severity: Severity, docsUrl: string): SarifRule {
  return {
    id: checkId,
    name: ruleName(checkId),
    shortDescription: { text: `${checkId}: the auditor could not collect or evaluate something` },
    fullDescription: {
      text: 'Evidence the checks need was not collected, so the audit is incomplete: related checks did not run.',
    },
    help: {
      text: `Fix the cause named in each result (permissions, reachability), then re-run the audit.\n\nSee ${docsUrl.replace(/#.*$/, '')}#what-it-checks`,
    },
    helpUri: `${docsUrl.replace(/#.*$/, '')}#what-it-checks`,
    defaultConfiguration: { level: sarifLevel(severity) },
    properties: {
      tags: ['eks', 'datadog', 'audit'],
      'security-severity': SECURITY_SEVERITY[severity],
    },
  };
}

/**
 * The path to the object, outermost first: cluster, namespace (when there is one), object. The
 * object's fullyQualifiedName is `cluster/namespace/Kind/name`, unique within a report.
 */
function logicalLocations(f: Finding, cluster: string): SarifLogicalLocation[] {
  const { kind, namespace, name } = f.resource;
  const out: SarifLogicalLocation[] = [
    { name: cluster, fullyQualifiedName: cluster, kind: 'module', properties: { role: 'cluster' } },
  ];
  let parent = cluster;
  if (namespace) {
    parent = `${cluster}/${namespace}`;
    out.push({ name: namespace, fullyQualifiedName: parent, kind: 'namespace' });
  }
  out.push({
    name,
    fullyQualifiedName: `${parent}/${kind}/${name}`,
    kind: 'resource',
    properties: { kubernetesKind: kind },
  });
  return out;
}

function resultFor(
  f: Finding,
  cluster: string,
  ruleIndex: number,
  driftState: Map<string, 'new' | 'unchanged'>,
): SarifResult {
  const failing = f.status === 'FAIL' || f.status === 'MUTED';
  const kind = failing ? 'fail' : f.status === 'PASS' ? 'pass' : 'open';
  const state = driftState.get(f.id);
  const remediation = f.remediation.trim();
  return {
    ruleId: f.checkId,
    ruleIndex,
    kind,
    level: failing ? sarifLevel(f.severity) : 'none',
    message: {
      text: f.status === 'FAIL' && remediation ? `${f.message}\n\nFix: ${remediation}` : f.message,
    },
    locations: [{ logicalLocations: logicalLocations(f, cluster) }],
    partialFingerprints: { 'findingId/v1': f.id },
    ...(state ? { baselineState: state } : {}),
    ...(f.status === 'MUTED' && f.suppression
      ? {
          suppressions: [
            {
              kind: 'external' as const,
              state: 'accepted' as const,
              justification: f.suppression.reason,
              properties: {
                expires: f.suppression.expires,
                source: f.suppression.source,
                ...(f.suppression.owner ? { owner: f.suppression.owner } : {}),
              },
            },
          ],
        }
      : {}),
    properties: {
      findingId: f.id,
      status: f.status,
      severity: f.severity,
      messageId: f.messageId,
      ...(remediation ? { remediation } : {}),
    },
  };
}

function runFor(
  report: AuditReport,
  cluster: ClusterReport,
  drift: Drift | undefined,
  checks: readonly Check[],
  docsUrl: string,
): unknown {
  const rules: SarifRule[] = checks.map((c) => ruleFor(c, docsUrl));
  const index = new Map(rules.map((r, i) => [r.id, i] as const));
  const findings = sortFindings(cluster.findings);
  for (const f of findings) {
    if (!index.has(f.checkId)) {
      index.set(f.checkId, rules.length);
      rules.push(fallbackRule(f.checkId, f.severity, docsUrl));
    }
  }
  const driftState = new Map<string, 'new' | 'unchanged'>();
  if (drift && !drift.firstRun) {
    for (const f of drift.new) driftState.set(f.id, 'new');
    for (const f of drift.unchanged) driftState.set(f.id, 'unchanged');
  }
  const notEvaluated = findings.filter((f) => f.status === 'ERROR');
  const notifications = [
    ...cluster.errors.map((e) => ({
      level: 'error' as const,
      message: { text: e.message },
    })),
    ...notEvaluated.map((f) => ({
      level: 'error' as const,
      message: { text: `${f.checkId}: ${f.message}` },
      associatedRule: { id: f.checkId, index: index.get(f.checkId)! },
    })),
  ];
  return {
    tool: {
      driver: {
        name: TOOL_NAME,
        version: TOOL_VERSION,
        semanticVersion: TOOL_VERSION,
        informationUri: docsUrl.replace(/#.*$/, ''),
        rules,
      },
    },
    automationDetails: {
      id: `${TOOL_NAME}/${cluster.name}${cluster.region ? `.${cluster.region}` : ''}/${report.runId}`,
    },
    invocations: [
      {
        executionSuccessful: cluster.status !== 'ERROR',
        startTimeUtc: cluster.startedAt,
        endTimeUtc: cluster.finishedAt,
        ...(notifications.length ? { toolExecutionNotifications: notifications } : {}),
      },
    ],
    results: findings.map((f) => resultFor(f, cluster.name, index.get(f.checkId)!, driftState)),
    properties: {
      cluster: cluster.name,
      ...(cluster.region ? { region: cluster.region } : {}),
      status: cluster.status,
      runId: report.runId,
      trigger: report.trigger,
      ...(drift ? { resolved: drift.resolved.map((f) => f.id), firstRun: drift.firstRun } : {}),
    },
  };
}

export function toSarif(
  report: AuditReport,
  drift?: Record<string, Drift>,
  opts: SarifOptions = {},
): SarifLog {
  const docsUrl = opts.docsUrl ?? DEFAULT_DOCS_URL;
  const checks = opts.checks ?? CHECKS;
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: report.clusters.map((c) => runFor(report, c, drift?.[c.name], checks, docsUrl)),
  };
}

/** The SARIF log as one JSON document (invisible and control characters escaped). */
export function renderSarif(
  report: AuditReport,
  drift?: Record<string, Drift>,
  opts: SarifOptions = {},
): string {
  return safeJsonStringify(toSarif(report, drift, opts), 2) + '\n';
}
