/**
 * Markdown report (pull requests, wiki pages, tickets). Every string from the cluster is escaped
 * so it cannot close a table cell, open a link or inject HTML; fixes go in fenced code blocks
 * whose fence outgrows any backticks inside.
 */
import { resourceLabel, type Finding } from '../config/findings.js';
import { incompleteReasons } from './email.js';
import { affectedNote, mutedFindings, suppressionNote } from './muted.js';
import { markdownCodeBlock, markdownInline, singleLine, textBlocks } from '../checks/sanitize.js';

/** Single-line fields (names, messages): a newline in one is hostile, shown as `\\n`. */
const md = (value: unknown) => markdownInline(singleLine(value));
import { describeCounts, failingCounts, isFailing, passedCount, sortFindings } from './summary.js';
import type { AuditReport, ClusterReport, Drift } from './types.js';

export interface MarkdownOptions {
  /** Also list PASS results (in a collapsed section). Default false; they are always counted. */
  showPass?: boolean;
}

const VERDICT: Record<ClusterReport['status'], string> = {
  PASS: 'PASS',
  FAIL: 'FAIL',
  ERROR: 'ERROR (audit incomplete)',
};

export function renderMarkdown(
  report: AuditReport,
  drift?: Record<string, Drift>,
  opts: MarkdownOptions = {},
): string {
  const out: string[] = [
    '# eks-datadog-auditor report',
    '',
    `Run ${md(report.runId)} (${md(report.trigger)}), started ${md(report.startedAt)}, finished ${md(report.finishedAt)}.`,
    '',
    '| Cluster | Status | Failing | Passed |',
    '| --- | --- | --- | --- |',
    ...report.clusters.map(
      (c) =>
        `| ${md(c.name)} | ${VERDICT[c.status]} | ${describeCounts(failingCounts(c.findings)) || 'none'} | ${passedCount(c)} |`,
    ),
  ];
  for (const cluster of report.clusters) {
    out.push('', ...renderCluster(cluster, drift?.[cluster.name], opts));
  }
  return out.join('\n') + '\n';
}

function renderCluster(
  cluster: ClusterReport,
  drift: Drift | undefined,
  opts: MarkdownOptions,
): string[] {
  const out: string[] = [
    `## ${md(cluster.name)}${cluster.region ? ` (${md(cluster.region)})` : ''}: ${VERDICT[cluster.status]}`,
    '',
  ];
  if (cluster.setup) out.push(`Setup: ${md(cluster.setup.summary)}`, '');
  if (cluster.status === 'ERROR') {
    out.push(
      '> **Audit incomplete.** These could not be collected or checked, so related checks did not run:',
      '>',
    );
    for (const r of incompleteReasons(cluster)) out.push(`> - ${md(r)}`);
    out.push('');
  }
  if (drift) {
    out.push(
      drift.firstRun
        ? 'No previous report: every failing finding is new.'
        : `Since the previous report: ${drift.new.length} new, ${drift.resolved.length} resolved, ${drift.unchanged.length} still failing, ${mutedFindings(cluster).length} muted.`,
      '',
    );
  }
  const failing = sortFindings(cluster.findings.filter(isFailing));
  if (failing.length === 0) {
    out.push(`All ${passedCount(cluster)} evaluated results passed.`);
  } else {
    const newIds = new Set(drift?.new.map((f) => f.id));
    out.push(
      `| # | Severity | Status | Resource | Check | Finding |${drift ? ' Drift |' : ''}`,
      `| --- | --- | --- | --- | --- | --- |${drift ? ' --- |' : ''}`,
    );
    failing.forEach((f, i) => {
      out.push(
        `| ${i + 1} | ${f.severity} | ${f.status} | ${md(resourceLabel(f.resource))} | ${md(f.checkId)} | ${md(f.message)} |` +
          (drift ? ` ${newIds.has(f.id) ? 'new' : 'unchanged'} |` : ''),
      );
    });
    out.push('', '### How to fix', '');
    failing.forEach((f, i) => {
      out.push(
        `${i + 1}. **${f.severity}** ${md(resourceLabel(f.resource))}: ${md(f.message)}`,
        '',
      );
      const note = affectedNote(f);
      if (note) out.push(`   Pods: ${md(note)}`, '');
      if (f.remediation.trim()) out.push(...remediation(f.remediation), '');
    });
  }
  const muted = mutedFindings(cluster);
  if (muted.length > 0) {
    if (out[out.length - 1] !== '') out.push('');
    out.push(
      `### Muted: accepted risks (${muted.length})`,
      '',
      'Suppressed with a reason and an expiry: not counted as failing, never alerting.',
      '',
      '| Severity | Resource | Check | Finding | Suppression |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const f of muted) {
      out.push(
        `| ${f.severity} | ${md(resourceLabel(f.resource))} | ${md(f.checkId)} | ${md(f.message)} | ${md(suppressionNote(f))} |`,
      );
    }
  }
  if (drift && drift.resolved.length > 0) {
    if (out[out.length - 1] !== '') out.push('');
    out.push('### Resolved since the previous report', '');
    for (const f of drift.resolved) out.push(`- ${resolvedLine(f)}`);
  }
  if (opts.showPass) {
    const passes = sortFindings(cluster.findings.filter((f) => f.status === 'PASS'));
    if (passes.length > 0) {
      out.push('', '<details><summary>Passed</summary>', '');
      for (const f of passes)
        out.push(`- ${md(resourceLabel(f.resource))} (${md(f.checkId)}): ${md(f.message)}`);
      out.push('', '</details>');
    }
  }
  return out;
}

function resolvedLine(f: Finding): string {
  return `${f.severity} ${md(resourceLabel(f.resource))} (${md(f.checkId)}): ${md(f.message)}`;
}

/** Prose as escaped text, snippets in fenced code blocks, all indented into the list item. */
function remediation(text: string): string[] {
  const out: string[] = [];
  for (const block of textBlocks(text)) {
    if (block.code) out.push(indent(markdownCodeBlock(block.lines.join('\n'), 'yaml')), '');
    else if (block.lines.join(''))
      out.push(`   ${block.lines.map((l) => markdownInline(l)).join(' ')}`, '');
  }
  while (out[out.length - 1] === '') out.pop();
  return out;
}

/** Code blocks inside a numbered list item need the item's indentation. */
function indent(block: string): string {
  return block
    .split('\n')
    .map((l) => (l ? `   ${l}` : l))
    .join('\n');
}
