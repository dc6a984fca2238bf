/**
 * The alert people read: a plain-text email at 80 columns and its SNS subject. Verdict first, then
 * what is new, what is still failing and what got fixed, each with the exact fix; then where the
 * full evidence is and how to re-run.
 */
import { resourceLabel, type Finding } from '../config/findings.js';
import { asciiLine, singleLine, textBlocks, wrapWords } from '../checks/sanitize.js';
import {
  describeCounts,
  failingCounts,
  failingFindings,
  passedCount,
  sortFindings,
} from './summary.js';
import { affectedNote, mutedFindings, suppressionNote } from './muted.js';
import type { ClusterReport, Drift } from './types.js';

export const EMAIL_WIDTH = 80;
export const SUBJECT_PREFIX = '[eks-datadog-auditor]';
/** SNS: "less than 100 characters". */
export const SUBJECT_MAX = 99;

export interface EmailContext {
  /** `s3://bucket/key` of this run's archived report. */
  archiveLocation?: string;
  /** Lambda function name, for the re-run instructions. */
  functionName?: string;
  region?: string;
  /** Why drift is missing when `drift` is undefined (e.g. the previous report could not be read). */
  driftUnavailable?: string;
  /** At most this many findings across the lists (SNS size budget); the rest are counted. */
  maxFindings?: number;
  runId?: string;
  trigger?: string;
}

/** Findings of the email, in the order they are listed (and cut, when the size budget says so). */
export interface EmailSections {
  new: Finding[];
  stillFailing: Finding[];
  resolved: Finding[];
  /** Accepted risks, listed last (and cut first when the message is too big). */
  muted: Finding[];
}

/** Without drift everything failing is listed as still failing: we cannot claim it is new. */
export function emailSections(report: ClusterReport, drift: Drift | undefined): EmailSections {
  const muted = mutedFindings(report);
  if (!drift) {
    return {
      new: [],
      stillFailing: sortFindings(failingFindings(report.findings)),
      resolved: [],
      muted,
    };
  }
  return {
    new: sortFindings(drift.new),
    stillFailing: sortFindings(drift.unchanged),
    resolved: sortFindings(drift.resolved),
    muted,
  };
}

export function sectionsSize(s: EmailSections): number {
  return s.new.length + s.stillFailing.length + s.resolved.length + s.muted.length;
}

/** Keeps the first `max` findings in section order: new, still failing, resolved, muted. */
export function cutSections(s: EmailSections, max: number): EmailSections {
  let room = Math.max(0, max);
  const take = (list: Finding[]) => {
    const kept = list.slice(0, room);
    room -= kept.length;
    return kept;
  };
  return {
    new: take(s.new),
    stillFailing: take(s.stillFailing),
    resolved: take(s.resolved),
    muted: take(s.muted),
  };
}

function clusterTitle(report: ClusterReport): string {
  return singleLine(report.name) + (report.region ? ` (${singleLine(report.region)})` : '');
}

function driftPhrase(drift: Drift | undefined): string {
  if (!drift) return 'drift since the last run unknown';
  if (drift.firstRun) return 'first audit of this cluster, so everything failing is new';
  if (drift.new.length === 0 && drift.resolved.length === 0) return 'no change since the last run';
  return `${drift.new.length} new, ${drift.resolved.length} resolved since the last run`;
}

/** The one-line verdict (wrapped to 80 columns when long). */
export function verdict(report: ClusterReport, drift: Drift | undefined): string {
  const title = clusterTitle(report);
  const counts = describeCounts(failingCounts(report.findings));
  const failing = failingFindings(report.findings).length;
  const passed = passedCount(report);
  switch (report.status) {
    case 'ERROR':
      return `AUDIT INCOMPLETE: ${title} could not be fully audited; ${
        counts
          ? `${counts} failing among what was checked`
          : 'nothing failing among what was checked'
      }; ${driftPhrase(drift)}.`;
    case 'FAIL':
      return `FAIL: ${title} has ${failing} failing finding${failing === 1 ? '' : 's'} (${counts}); ${driftPhrase(drift)}.`;
    default:
      return `PASS: ${title}: all ${passed} evaluated results passed; ${driftPhrase(drift)}.`;
  }
}

export function renderEmail(
  report: ClusterReport,
  drift: Drift | undefined,
  ctx: EmailContext = {},
): string {
  const out: string[] = [];
  const para = (text: string, indent = '') =>
    out.push(...wrapWords(text, EMAIL_WIDTH - indent.length).map((l) => indent + l));

  para(verdict(report, drift));
  para(changeLine(report, drift));
  out.push('');
  const when = `${singleLine(report.startedAt)
    .replace('T', ' ')
    .replace(/\.\d+Z$|Z$/, '')} UTC`;
  para(
    `Audited ${when}${ctx.runId ? `, run ${singleLine(ctx.runId)}` : ''}${
      ctx.trigger ? ` (${singleLine(ctx.trigger)})` : ''
    }. ${passedCount(report)} results passed, ${failingFindings(report.findings).length} failing.`,
  );
  if (report.setup) para(`Setup: ${singleLine(report.setup.summary)}`);
  if (!drift && ctx.driftUnavailable) para(`Drift unknown: ${singleLine(ctx.driftUnavailable)}`);

  if (report.status === 'ERROR') {
    out.push('', ...heading('AUDIT INCOMPLETE'));
    para(
      'Some data could not be collected or some checks could not run, so this cluster is NOT known to be healthy. This section repeats in every report until it clears. Reasons:',
    );
    for (const r of incompleteReasons(report)) bullet(out, r);
    const unknown = drift?.notEvaluated?.length ?? 0;
    if (unknown > 0) {
      bullet(
        out,
        `${unknown} finding${unknown === 1 ? '' : 's'} from the last run could not be re-checked.`,
      );
    }
  }

  const all = emailSections(report, drift);
  const shown = ctx.maxFindings === undefined ? all : cutSections(all, ctx.maxFindings);
  let n = 0;
  const list = (title: string, found: Finding[], total: number, resolved = false) => {
    if (total === 0) return;
    out.push('', ...heading(`${title} (${total})`));
    for (const f of found) {
      n += 1;
      out.push('', ...(resolved ? renderResolved(f, n) : renderFinding(f, n)));
    }
  };
  list('NEW FINDINGS', shown.new, all.new.length);
  list(drift ? 'STILL FAILING' : 'FAILING', shown.stillFailing, all.stillFailing.length);
  list('RESOLVED SINCE THE LAST RUN', shown.resolved, all.resolved.length, true);
  if (all.muted.length > 0) {
    out.push('', ...heading(`MUTED: ACCEPTED RISKS (${all.muted.length})`));
    para('Suppressed with a reason and an expiry: not counted as failing, never alerting.');
    for (const f of shown.muted) {
      n += 1;
      out.push('', ...renderMuted(f, n));
    }
  }
  const omitted = sectionsSize(all) - sectionsSize(shown);
  if (omitted > 0) {
    out.push('');
    para(
      `... ${omitted} more finding${omitted === 1 ? '' : 's'} not shown (message size limit), see ${
        ctx.archiveLocation ? 'the full report:' : 'the archived report.'
      }`,
    );
    if (ctx.archiveLocation) out.push(`  ${singleLine(ctx.archiveLocation)}`);
  }
  if (report.status === 'PASS' && all.resolved.length === 0) {
    out.push('');
    para('Nothing is failing. This message is the digest sent under notify=always.');
  }

  out.push('', '-'.repeat(EMAIL_WIDTH));
  if (ctx.archiveLocation) {
    out.push('Full report (every result, including the passes):');
    out.push(`  ${singleLine(ctx.archiveLocation)}`);
  } else {
    out.push('No archive bucket is configured: this message is the only record of the run.');
  }
  out.push('', ...rerunInstructions(report, ctx));
  return out.join('\n') + '\n';
}

/**
 * The line after the verdict: what changed since the last run, in the order the lists follow
 * (new first).
 */
export function changeLine(report: ClusterReport, drift: Drift | undefined): string {
  const muted = report.findings.filter((f) => f.status === 'MUTED').length;
  const failing = failingFindings(report.findings).length;
  if (!drift) return `Since the last run: unknown; ${failing} failing, ${muted} muted.`;
  if (drift.firstRun) return `First run: ${failing} new (all failing findings), ${muted} muted.`;
  return `Since the last run: ${drift.new.length} new, ${drift.resolved.length} resolved, ${drift.unchanged.length} still failing, ${muted} muted.`;
}

/**
 * Why the audit is incomplete, each reason once: the ERROR findings' messages already name the
 * failed collection (audit-collection) or the check that could not run, so the raw collection
 * errors are listed only when no finding says them.
 */
export function incompleteReasons(report: ClusterReport): string[] {
  const messages = report.findings.filter((f) => f.status === 'ERROR').map((f) => f.message);
  const raw = report.errors
    .map((e) => e.message)
    .filter((m) => !messages.some((text) => text.includes(m)));
  return [...new Set([...messages, ...raw].map(singleLine))];
}

function heading(text: string): string[] {
  return [text, '='.repeat(Math.min(EMAIL_WIDTH, text.length))];
}

function bullet(out: string[], text: string): void {
  wrapWords(text, EMAIL_WIDTH - 4).forEach((l, i) => out.push(`${i === 0 ? '  - ' : '    '}${l}`));
}

/** `label: text` with the text wrapped under itself (a hanging indent). */
function field(label: string, text: string, indent: string): string[] {
  const pad = `${indent}${label.padEnd(6)} `;
  const lines: string[] = [];
  for (const l of wrapWords(singleLine(text), EMAIL_WIDTH - pad.length)) {
    lines.push(`${lines.length === 0 ? pad : ' '.repeat(pad.length)}${l}`.trimEnd());
  }
  return lines;
}

/**
 * The fix: prose wrapped under the label; code blocks set off by a blank line at a fixed indent
 * and never re-flowed, so YAML and commands can be copied as they are (a code line longer than
 * the width overflows rather than being broken).
 */
function fixField(text: string, indent: string): string[] {
  const pad = `${indent}${'Fix:'.padEnd(6)} `;
  const cont = ' '.repeat(pad.length);
  const codeIndent = `${indent}    `;
  const lines: string[] = [];
  for (const block of textBlocks(text)) {
    if (block.code) {
      lines.push('', ...block.lines.map((l) => `${codeIndent}${l}`), '');
      continue;
    }
    for (const para of block.lines) {
      for (const l of wrapWords(para, EMAIL_WIDTH - pad.length)) {
        lines.push(`${lines.length === 0 ? pad : cont}${l}`.trimEnd());
      }
    }
  }
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.filter((l, i) => !(l === '' && lines[i - 1] === ''));
}

/** `n. text`, wrapped with continuation lines under the text. */
function numbered(n: number, text: string, indent: string): string[] {
  return wrapWords(text, EMAIL_WIDTH - indent.length).map((l, i) =>
    i === 0 ? `${n}. ${l}` : `${indent}${l}`,
  );
}

function renderFinding(f: Finding, n: number): string[] {
  const head = `[${f.severity.toUpperCase()}${f.status === 'ERROR' ? ', NOT EVALUATED' : ''}] ${singleLine(resourceLabel(f.resource))}`;
  const indent = ' '.repeat(String(n).length + 2);
  return [
    ...numbered(n, head, indent),
    ...field('Check:', singleLine(f.checkId), indent),
    ...field('What:', singleLine(f.message), indent),
    ...pods(f, indent),
    ...(f.remediation.trim() ? fixField(f.remediation, indent) : []),
  ];
}

function pods(f: Finding, indent: string): string[] {
  const note = affectedNote(f);
  return note ? field('Pods:', note, indent) : [];
}

function renderMuted(f: Finding, n: number): string[] {
  const head = `[${f.severity.toUpperCase()}, MUTED] ${singleLine(resourceLabel(f.resource))}`;
  const indent = ' '.repeat(String(n).length + 2);
  return [
    ...numbered(n, head, indent),
    ...field('Check:', singleLine(f.checkId), indent),
    ...field('What:', singleLine(f.message), indent),
    ...pods(f, indent),
    ...field('Muted:', suppressionNote(f), indent),
  ];
}

function renderResolved(f: Finding, n: number): string[] {
  const head = `[${f.severity.toUpperCase()}] ${singleLine(resourceLabel(f.resource))}`;
  const indent = ' '.repeat(String(n).length + 2);
  return [
    ...numbered(n, head, indent),
    ...field('Check:', singleLine(f.checkId), indent),
    ...field('Was:', singleLine(f.message), indent),
  ];
}

/** The on-demand event and the CLI command that re-run this cluster's audit. */
export function rerunEvent(report: ClusterReport): { clusters: string[]; notify: 'always' } {
  return { clusters: [report.name], notify: 'always' };
}

function rerunInstructions(report: ClusterReport, ctx: EmailContext): string[] {
  const event = rerunEvent(report);
  const eventJson = JSON.stringify(event);
  const fn = ctx.functionName ? singleLine(ctx.functionName) : '<auditor-function-name>';
  // Cluster names are validated by the config schema ([A-Za-z0-9_-]), so the event is safe to
  // paste into a single-quoted shell argument; sanitise anyway in case that ever changes.
  const payload = singleLine(eventJson).replace(/'/g, `'\\''`);
  return [
    'Re-run this audit on demand:',
    `  Lambda console: function ${fn}, Test tab, event JSON:`,
    `    ${singleLine(eventJson)}`,
    '  AWS CLI:',
    `    aws lambda invoke --function-name ${fn} \\`,
    ...(ctx.region ? [`      --region ${singleLine(ctx.region)} \\`] : []),
    `      --cli-binary-format raw-in-base64-out \\`,
    `      --payload '${payload}' \\`,
    `      response.json`,
    `  Add "dryRun": true to the event to get the report back without archiving`,
    `  or alerting.`,
  ];
}

/**
 * `[eks-datadog-auditor] golang-cluster: 2 critical, 1 high (2 new, 1 resolved)`: printable
 * ASCII, no line breaks, under 100 characters (the cluster name is shortened when needed).
 */
export function renderSubject(report: ClusterReport, drift: Drift | undefined): string {
  const counts = describeCounts(failingCounts(report.findings));
  const state =
    report.status === 'ERROR'
      ? `AUDIT INCOMPLETE${counts ? `, ${counts}` : ''}`
      : report.status === 'FAIL'
        ? counts
        : 'all passed';
  const change = !drift
    ? ''
    : drift.firstRun
      ? ' (first run)'
      : drift.new.length || drift.resolved.length
        ? ` (${drift.new.length} new, ${drift.resolved.length} resolved)`
        : ' (no change)';
  const tail = `: ${asciiLine(state)}${change}`;
  let name = asciiLine(report.name) || 'cluster';
  const room = SUBJECT_MAX - SUBJECT_PREFIX.length - 1 - tail.length;
  if (name.length > room) name = `${name.slice(0, Math.max(1, room - 3))}...`;
  return `${SUBJECT_PREFIX} ${name}${tail}`.slice(0, SUBJECT_MAX);
}
