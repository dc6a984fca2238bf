/**
 * Reporting for the CLI: the same renderers as the Lambda, and `--baseline FILE` drift against a
 * previous JSON report (a `--format json` document or an archived report from S3).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config/config.js';
import { FINDING_STATUSES, SEVERITIES, type Finding } from '../config/findings.js';
import { diffReports } from './diff.js';
import { renderHtml } from './render-html.js';
import { renderJson } from './render-json.js';
import { renderJunit } from './render-junit.js';
import { renderAsff, type AsffContext } from './render-asff.js';
import { renderMarkdown } from './render-markdown.js';
import { renderSarif } from './render-sarif.js';
import { renderTable } from './render-table.js';
import { clusterStatus, type AuditReport, type ClusterReport, type Drift } from './types.js';

export { diffReports, hasDrift } from './diff.js';
export { renderEmail, renderSubject, verdict, type EmailContext } from './email.js';
export { renderJson, toJsonReport, type JsonReport } from './render-json.js';
export { renderMarkdown } from './render-markdown.js';
export { renderAsff, type AsffContext } from './render-asff.js';
export { renderTable, type TableOptions } from './render-table.js';
export { renderSarif, toSarif, type SarifLog } from './render-sarif.js';
export { renderJunit } from './render-junit.js';
export { renderHtml } from './render-html.js';
export type { AuditReport, ClusterReport, Drift } from './types.js';

export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Every `--format`; one name per line so formats added on other branches merge cleanly. */
export const REPORT_FORMATS = [
  'table',
  'json',
  'markdown',
  'sarif',
  'junit',
  'html',
  'asff',
] as const;

export interface RenderOptions {
  /** Table only: SGR colours. */
  color?: boolean;
  /** Table and markdown: list PASS results too. */
  showPass?: boolean;
  /** Table only: total width (default 120). */
  width?: number;
  /** Drift per cluster name, from {@link diffAgainstBaseline}. */
  drift?: Record<string, Drift>;
  /** SARIF and HTML: the README check links point into (default: the project's README). */
  docsUrl?: string;
  /** ASFF only: the account and Security Hub region the findings belong to. */
  asff?: AsffContext;
}

export function renderReport(
  report: AuditReport,
  format: ReportFormat,
  opts: RenderOptions = {},
): string {
  switch (format) {
    case 'json':
      return renderJson(report, opts.drift);
    case 'markdown':
      return renderMarkdown(report, opts.drift, { showPass: opts.showPass ?? false });
    case 'table':
      return renderTable(report, opts);
    case 'sarif':
      return renderSarif(report, opts.drift, opts.docsUrl ? { docsUrl: opts.docsUrl } : {});
    case 'junit':
      return renderJunit(report, opts.drift);
    case 'html':
      return renderHtml(report, opts.drift, opts.docsUrl ? { docsUrl: opts.docsUrl } : {});
    case 'asff':
      if (!opts.asff) throw new ConfigError('ASFF needs the AWS account id and region');
      return renderAsff(report, opts.asff, opts.drift);
  }
}

// ---------------------------------------------------------------------------------------------
// Baselines
// ---------------------------------------------------------------------------------------------

const findingSchema = z
  .object({
    id: z.string().min(1),
    checkId: z.string(),
    severity: z.enum(SEVERITIES),
    status: z.enum(FINDING_STATUSES),
    resource: z
      .object({
        kind: z.string(),
        namespace: z.string().nullable().optional(),
        name: z.string(),
      })
      .loose(),
    messageId: z.string().optional(),
    message: z.string().default(''),
    remediation: z.string().default(''),
  })
  .loose();

const clusterSchema = z
  .object({
    name: z.string().min(1),
    region: z.string().optional(),
    status: z.enum(['PASS', 'FAIL', 'ERROR']).optional(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    findings: z.array(findingSchema),
    errors: z.array(z.any()).default([]),
  })
  .loose();

const reportSchema = z
  .object({
    runId: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    trigger: z.enum(['scheduled', 'on-demand', 'cli']).optional(),
    clusters: z.array(clusterSchema),
  })
  .loose();

/** An archived report from S3 is one cluster with the run id beside it. */
const archivedSchema = clusterSchema.extend({ runId: z.string(), startedAt: z.string() });

type ParsedCluster = z.infer<typeof clusterSchema>;

function toClusterReport(c: ParsedCluster, fallbackStart: string): ClusterReport {
  const findings: Finding[] = c.findings.map((f) => ({
    id: f.id,
    checkId: f.checkId,
    cluster: c.name,
    severity: f.severity,
    status: f.status,
    resource: {
      kind: f.resource.kind,
      ...(f.resource.namespace ? { namespace: f.resource.namespace } : {}),
      name: f.resource.name,
    },
    messageId: f.messageId ?? '',
    message: f.message,
    remediation: f.remediation,
  }));
  const errors = c.errors as ClusterReport['errors'];
  return {
    name: c.name,
    ...(c.region ? { region: c.region } : {}),
    status: c.status ?? clusterStatus(findings, errors),
    startedAt: c.startedAt ?? fallbackStart,
    finishedAt: c.finishedAt ?? c.startedAt ?? fallbackStart,
    findings,
    errors,
    stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
  };
}

/** Parses a baseline document (already JSON-decoded); `origin` names it in errors. */
export function parseBaseline(value: unknown, origin: string): AuditReport {
  const asReport = reportSchema.safeParse(value);
  if (asReport.success) {
    const r = asReport.data;
    return {
      runId: r.runId,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt ?? r.startedAt,
      trigger: r.trigger ?? 'cli',
      clusters: r.clusters.map((c) => toClusterReport(c, r.startedAt)),
    };
  }
  const asArchived = archivedSchema.safeParse(value);
  if (asArchived.success) {
    const a = asArchived.data;
    return {
      runId: a.runId,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt ?? a.startedAt,
      trigger: 'cli',
      clusters: [toClusterReport(a, a.startedAt)],
    };
  }
  const first = asReport.error.issues[0];
  const where = first?.path.length ? first.path.join('.') : '(top level)';
  throw new ConfigError(
    `Baseline ${origin} is not an eks-datadog-auditor JSON report (${where}: ${first?.message ?? 'unexpected shape'}). Use a file written by --format json or an archived report from the S3 bucket.`,
  );
}

/** Reads a previous report: a `--format json` document, or one archived cluster report from S3. */
export function loadBaseline(file: string): AuditReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read baseline ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Baseline ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseBaseline(value, file);
}

/**
 * Drift per cluster of `report` against `baseline`, matched by name (and region when both name
 * one). A cluster missing from the baseline is a first run.
 */
export function diffAgainstBaseline(
  report: AuditReport,
  baseline: AuditReport,
): Record<string, Drift> {
  const drift: Record<string, Drift> = {};
  for (const cluster of report.clusters) {
    const previous =
      baseline.clusters.find(
        (b) => b.name === cluster.name && b.region && cluster.region && b.region === cluster.region,
      ) ?? baseline.clusters.find((b) => b.name === cluster.name);
    drift[cluster.name] = diffReports(cluster, previous);
  }
  return drift;
}
