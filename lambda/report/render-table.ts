/**
 * Terminal table: one section per cluster, failing findings first by severity, each followed by
 * its fix. PASS rows are hidden unless asked for, but always counted.
 */
import { resourceLabel, type Finding, type Severity } from '../config/findings.js';
import { displayWidth, padToWidth, singleLine, textBlocks, wrapWords } from '../checks/sanitize.js';
import {
  describeCounts,
  emptyCounts,
  failingCounts,
  isFailing,
  passedCount,
  sortFindings,
  type SeverityCounts,
} from './summary.js';
import { affectedNote, mutedFindings, suppressionNote } from './muted.js';
import type { AuditReport, ClusterReport, Drift } from './types.js';

export interface TableOptions {
  /** SGR colours; the caller decides (TTY, NO_COLOR, FORCE_COLOR). Default false. */
  color?: boolean;
  /** List PASS rows too. Default false (they are counted in the summary either way). */
  showPass?: boolean;
  /** Total width in columns. Default 120. */
  width?: number;
  /** Drift per cluster name (CLI `--baseline`): marks new findings and lists resolved ones. */
  drift?: Record<string, Drift>;
}

const SGR = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  boldRed: '\u001b[1;31m',
} as const;

const SEVERITY_COLOR: Record<Severity, string> = {
  critical: SGR.boldRed,
  high: SGR.red,
  medium: SGR.yellow,
  low: SGR.cyan,
  info: SGR.dim,
};

const STATUS_COLOR: Record<Finding['status'] | ClusterReport['status'], string> = {
  FAIL: SGR.red,
  ERROR: SGR.yellow,
  PASS: SGR.green,
  MUTED: SGR.dim,
};

/** Column widths that never go below these, however narrow the terminal. */
const MIN_MESSAGE = 24;
const INDENT = '  ';

export function renderTable(report: AuditReport, opts: TableOptions = {}): string {
  const width = Math.max(60, opts.width ?? 120);
  const paint = (code: string, text: string) => (opts.color ? `${code}${text}${SGR.reset}` : text);
  const out: string[] = [];
  out.push(
    paint(SGR.bold, `eks-datadog-auditor run ${singleLine(report.runId)}`) +
      ` (${singleLine(report.trigger)}, started ${singleLine(report.startedAt)})`,
  );

  const total = emptyCounts();
  let passed = 0;
  for (const cluster of report.clusters) {
    const drift = opts.drift?.[cluster.name];
    out.push('', ...renderCluster(cluster, drift, width, opts, paint));
    const counts = failingCounts(cluster.findings);
    for (const s of Object.keys(total) as Severity[]) total[s] += counts[s];
    passed += passedCount(cluster);
  }
  out.push('', summaryLine(report, total, passed, opts));
  return out.join('\n') + '\n';
}

function renderCluster(
  cluster: ClusterReport,
  drift: Drift | undefined,
  width: number,
  opts: TableOptions,
  paint: (code: string, text: string) => string,
): string[] {
  const lines: string[] = [];
  const counts = failingCounts(cluster.findings);
  const passed = passedCount(cluster);
  const name =
    singleLine(cluster.name) + (cluster.region ? ` (${singleLine(cluster.region)})` : '');
  const failing = describeCounts(counts);
  lines.push(
    `${paint(SGR.bold, name)}  ${paint(STATUS_COLOR[cluster.status], cluster.status)}  ` +
      `${failing ? `failing: ${failing}` : 'nothing failing'}; ${passed} passed` +
      (drift ? `; ${driftNote(drift)}` : ''),
  );
  if (cluster.setup) lines.push(`${INDENT}Setup: ${singleLine(cluster.setup.summary)}`);
  if (cluster.status === 'ERROR') {
    lines.push(
      paint(
        SGR.yellow,
        `${INDENT}AUDIT INCOMPLETE: some data could not be collected or checked (see ERROR rows).`,
      ),
    );
  }

  const rows = sortFindings(cluster.findings).filter(
    (f) => (opts.showPass && f.status === 'PASS') || isFailing(f),
  );
  if (rows.length === 0) {
    lines.push(`${INDENT}All ${passed} evaluated results passed.`);
    lines.push(...mutedSection(cluster, width, paint));
    return lines;
  }

  const newIds = new Set(drift?.new.map((f) => f.id));
  const labels = rows.map((f) => singleLine(resourceLabel(f.resource)));
  const checks = rows.map((f) => singleLine(f.checkId));
  const marker = drift ? 2 : 0;
  const sevW = 8;
  const statW = 6;
  const fixed = INDENT.length + marker + sevW + 1 + statW + 1;
  const checkW = clamp(
    Math.max(5, ...checks.map(displayWidth)),
    5,
    Math.floor((width - fixed) * 0.4),
  );
  const resW = Math.max(8, width - fixed - checkW - 1);
  // Message and fix get the full width under the finding's first line: they are the long parts.
  const pad = ' '.repeat(fixed);
  const textW = Math.max(MIN_MESSAGE, width - fixed);

  lines.push(
    INDENT +
      (drift ? '  ' : '') +
      [
        padToWidth('SEVERITY', sevW),
        padToWidth('STATUS', statW),
        padToWidth('CHECK', checkW),
        'RESOURCE',
      ].join(' '),
  );

  rows.forEach((f, i) => {
    const checkCell = wrapWords(checks[i]!, checkW);
    const resCell = wrapWords(labels[i]!, resW);
    const height = Math.max(resCell.length, checkCell.length);
    for (let line = 0; line < height; line++) {
      const first = line === 0;
      const mark = drift ? (first && newIds.has(f.id) ? '+ ' : '  ') : '';
      const sev = first
        ? paint(SEVERITY_COLOR[f.severity], padToWidth(f.severity, sevW))
        : ' '.repeat(sevW);
      const stat = first
        ? paint(STATUS_COLOR[f.status], padToWidth(f.status, statW))
        : ' '.repeat(statW);
      lines.push(
        (
          INDENT +
          mark +
          [sev, stat, padToWidth(checkCell[line] ?? '', checkW), resCell[line] ?? ''].join(' ')
        ).trimEnd(),
      );
    }
    for (const l of wrapWords(singleLine(f.message), textW)) lines.push(`${pad}${l}`.trimEnd());
    const note = affectedNote(f);
    if (note) {
      for (const l of wrapWords(`pods: ${singleLine(note)}`, textW)) lines.push(`${pad}${l}`);
    }
    if (isFailing(f) && f.remediation.trim()) {
      const fix = wrapParagraphs(f.remediation, textW - 5);
      fix.forEach((l, n) =>
        lines.push(`${pad}${n === 0 ? paint(SGR.dim, 'fix:') : '    '} ${l}`.trimEnd()),
      );
    }
  });

  if (drift && drift.resolved.length > 0) {
    lines.push(`${INDENT}Resolved since the baseline (${drift.resolved.length}):`);
    for (const f of drift.resolved) {
      const text = `${f.severity} ${resourceLabel(f.resource)} [${f.checkId}]: ${f.message}`;
      for (const [n, l] of wrapWords(singleLine(text), width - 6).entries()) {
        lines.push(`${INDENT}${n === 0 ? '- ' : '  '}${l}`);
      }
    }
  }
  lines.push(...mutedSection(cluster, width, paint));
  return lines;
}

/** Accepted risks, after everything that needs a human: severity kept, never counted as failing. */
function mutedSection(
  cluster: ClusterReport,
  width: number,
  paint: (code: string, text: string) => string,
): string[] {
  const muted = mutedFindings(cluster);
  if (muted.length === 0) return [];
  const lines = [
    paint(SGR.dim, `${INDENT}MUTED (${muted.length}): accepted risks, not counted as failing`),
  ];
  for (const f of muted) {
    const text = `${f.severity} ${resourceLabel(f.resource)} [${f.checkId}]: ${f.message} Muted ${suppressionNote(f)}`;
    for (const [n, l] of wrapWords(singleLine(text), width - 6).entries()) {
      lines.push(`${INDENT}${n === 0 ? '- ' : '  '}${l}`);
    }
  }
  return lines;
}

/** Prose is word-wrapped; code blocks (YAML, commands) are kept as they are. */
export function wrapParagraphs(text: string, width: number): string[] {
  const out: string[] = [];
  for (const block of textBlocks(text)) {
    if (block.code) out.push(...block.lines.map((l) => `  ${l}`));
    else for (const line of block.lines) out.push(...wrapWords(line, width));
  }
  return out.length ? out : [''];
}

function driftNote(drift: Drift): string {
  if (drift.firstRun) return 'no baseline for this cluster';
  const muted = drift.muted?.length ?? 0;
  return `${drift.new.length} new, ${drift.resolved.length} resolved${muted ? `, ${muted} muted` : ''} since the baseline`;
}

function summaryLine(
  report: AuditReport,
  total: SeverityCounts,
  passed: number,
  opts: TableOptions,
): string {
  const statuses = (['FAIL', 'ERROR', 'PASS'] as const)
    .map((s) => [s, report.clusters.filter((c) => c.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}${s === 'ERROR' ? ' (audit incomplete)' : ''}`);
  const failing = describeCounts(total);
  const n = report.clusters.length;
  return (
    `Summary: ${n} cluster${n === 1 ? '' : 's'}${statuses.length ? ` (${statuses.join(', ')})` : ''}; ` +
    `failing: ${failing || 'none'}; ${passed} passed` +
    (opts.showPass || passed === 0 ? '' : ' (hidden; --show-pass lists them)')
  );
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(n, lo), Math.max(lo, hi));
}
