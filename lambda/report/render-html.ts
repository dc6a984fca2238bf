/**
 * The HTML report (`--format html`, and `report.html` beside each archived JSON): one
 * self-contained page a reviewer can open from S3 or a CI artifact. Inline CSS and JS only, and a
 * Content-Security-Policy that allows exactly those two blocks (by hash) and nothing else: no
 * fonts, images, frames or network requests, so a hostile string that slipped through escaping
 * still could not run or phone home.
 *
 * Every finding is rendered on the server side (the page reads without JS); the script only
 * filters rows (severity, status, check, namespace) and copies fixes to the clipboard. Every string
 * from a cluster is HTML-escaped after control and bidi characters are made visible.
 */
import { createHash } from 'node:crypto';
import { SEVERITIES, resourceLabel, type Finding, type Severity } from '../config/findings.js';
import { checkHelpUri, DEFAULT_DOCS_URL, TOOL_NAME, TOOL_VERSION } from './links.js';
import { multiLine, singleLine, textBlocks } from '../checks/sanitize.js';
import {
  describeCounts,
  emptyCounts,
  failingCounts,
  isFailing,
  passedCount,
  sortFindings,
} from './summary.js';
import type { AuditReport, ClusterReport, Drift } from './types.js';

export interface HtmlOptions {
  /** README that check names link to; default {@link DEFAULT_DOCS_URL}. */
  docsUrl?: string;
  /**
   * At most this many PASS rows per cluster (default: all). At 5,000 namespaces a cluster has
   * 75,000 PASS results: listing each would make a 50 MB page the Lambda cannot hold beside the
   * report. The rest are counted, and the JSON report beside the page lists them all.
   */
  maxPassRows?: number;
}

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** One line from a cluster: control characters visible, then escaped. */
const h = (value: unknown) => escapeHtml(singleLine(value));
/** Multi-line text from a cluster (fixes, YAML): newlines kept. */
const hm = (value: unknown) => escapeHtml(multiLine(value));

export type DriftBadge = 'new' | 'unchanged' | 'resolved';

const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1d2330;--muted:#5d6675;--line:#d9dde3;--card:#f6f7f9;
--critical:#a50e0e;--high:#d93025;--medium:#b06000;--low:#1a73e8;--info:#5f6368;--pass:#188038;--muted-b:#7b1fa2}
@media (prefers-color-scheme:dark){:root{--bg:#15181d;--fg:#e3e6ea;--muted:#9aa3ae;--line:#30353d;--card:#1d2127}}
*{box-sizing:border-box}
body{margin:0;padding:24px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px;color:var(--muted)}
.meta{color:var(--muted);margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff;background:var(--info);white-space:nowrap}
.sev-critical{background:var(--critical)}.sev-high{background:var(--high)}.sev-medium{background:var(--medium)}.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.st-PASS{background:var(--pass)}.st-FAIL{background:var(--high)}.st-ERROR{background:var(--medium)}.st-MUTED{background:var(--muted-b)}
.drift-new{background:#e8710a}.drift-unchanged{background:var(--info)}.drift-resolved{background:var(--pass)}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:end;position:sticky;top:0;background:var(--bg);padding:8px 0;border-bottom:1px solid var(--line);z-index:1}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:2px}
.filters select{font:inherit;padding:3px 6px;min-width:140px}
#shown{margin-left:auto;color:var(--muted)}
.finding{border:1px solid var(--line);border-radius:6px;background:var(--card);padding:10px 12px;margin:8px 0}
.finding:target{outline:2px solid var(--low)}
.finding header{display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.finding .res{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;word-break:break-all}
.finding .msg{margin:6px 0;white-space:pre-wrap;word-break:break-word}
.finding .fix{margin:6px 0 0}
.finding .fix p{margin:4px 0;white-space:pre-wrap}
.finding .why{color:var(--muted);font-size:13px}
.finding a.perma{margin-left:auto;color:var(--muted);text-decoration:none;font-size:12px}
pre{position:relative;margin:6px 0;padding:8px 10px;background:var(--bg);border:1px solid var(--line);border-radius:4px;overflow:auto;font-size:12.5px}
button.copy{font:inherit;font-size:12px;padding:1px 8px;cursor:pointer}
.empty{color:var(--muted);font-style:italic}
.incomplete{border-left:4px solid var(--medium);padding:4px 10px;margin:8px 0}
[hidden]{display:none!important}
`;

/** Filters and copy buttons; reads only data-* attributes, never writes HTML. */
const SCRIPT = `
(function () {
  'use strict';
  var selects = Array.prototype.slice.call(document.querySelectorAll('select[data-filter]'));
  var rows = Array.prototype.slice.call(document.querySelectorAll('.finding'));
  var shown = document.getElementById('shown');
  function matches(row, key, value) {
    if (value === '*') return true;
    var actual = row.getAttribute('data-' + key) || '';
    if (key === 'status' && value === 'open') return actual !== 'PASS';
    return actual === value;
  }
  function apply() {
    var visible = 0;
    rows.forEach(function (row) {
      var ok = selects.every(function (s) { return matches(row, s.getAttribute('data-filter'), s.value); });
      row.hidden = !ok;
      if (ok) visible += 1;
    });
    document.querySelectorAll('[data-group]').forEach(function (group) {
      var any = group.querySelector('.finding:not([hidden])');
      group.hidden = !any;
    });
    if (shown) shown.textContent = visible + ' of ' + rows.length + ' results shown';
  }
  selects.forEach(function (s) { s.addEventListener('change', apply); });
  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest ? event.target.closest('button.copy') : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var text = source.textContent || '';
    function done(ok) {
      button.textContent = ok ? 'Copied' : 'Copy failed';
      button.setAttribute('data-copied', ok ? 'yes' : 'no');
      setTimeout(function () { button.textContent = 'Copy'; }, 1500);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallbackCopy(text)); });
    } else {
      done(fallbackCopy(text));
    }
  });
  var hash = location.hash.slice(1);
  try { hash = decodeURIComponent(hash); } catch (e) { /* a malformed escape: use it as typed */ }
  if (hash) {
    var target = document.getElementById(hash);
    if (target && target.classList.contains('finding')) {
      selects.forEach(function (s) { s.value = '*'; });
    }
  }
  apply();
  if (hash && document.getElementById(hash)) document.getElementById(hash).scrollIntoView();
})();
`;

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Allows the one style block and the one script block above, nothing else. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${cspHash(STYLE)}`,
  `script-src ${cspHash(SCRIPT)}`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const VERDICT: Record<ClusterReport['status'], string> = {
  PASS: 'PASS',
  FAIL: 'FAIL',
  ERROR: 'ERROR: audit incomplete',
};

/** How Datadog gets onto the cluster (setup detection), when the cluster report carries it. */
function setupText(cluster: ClusterReport): string {
  return cluster.setup?.summary ?? '';
}

/** Ids are `check:hex`; anything else is made id-safe so an anchor cannot break the markup. */
export function findingAnchor(id: string): string {
  return `f-${id.replace(/[^A-Za-z0-9:._-]/g, '_')}`;
}

interface RenderState {
  seq: number;
  docsUrl: string;
  maxPassRows: number;
}

function badge(cls: string, text: string): string {
  return `<span class="badge ${cls}">${escapeHtml(text)}</span>`;
}

function fixBlock(f: Finding, state: RenderState): string {
  const text = f.remediation.trim();
  if (!text) return '';
  const parts: string[] = [];
  let codeBlocks = 0;
  for (const block of textBlocks(text)) {
    if (block.code) {
      const id = `c${state.seq++}`;
      codeBlocks += 1;
      parts.push(
        `<pre><code id="${id}">${escapeHtml(block.lines.join('\n'))}</code></pre><button type="button" class="copy" data-copy="${id}">Copy</button>`,
      );
    } else if (block.lines.join('')) {
      parts.push(`<p>${escapeHtml(block.lines.join('\n'))}</p>`);
    }
  }
  if (codeBlocks === 0) {
    // Prose only (a command in a sentence): copy the whole fix.
    const id = `c${state.seq++}`;
    return `<div class="fix"><strong>Fix</strong> <button type="button" class="copy" data-copy="${id}">Copy</button><div id="${id}">${parts.join('')}</div></div>`;
  }
  return `<div class="fix"><strong>Fix</strong>${parts.join('')}</div>`;
}

function findingRow(
  f: Finding,
  cluster: ClusterReport,
  drift: DriftBadge | undefined,
  state: RenderState,
  anchor: string,
): string {
  const namespace = f.resource.namespace ?? '';
  const muted =
    f.status === 'MUTED' && f.suppression
      ? `<p class="why">Muted: ${h(f.suppression.reason)} (until ${h(f.suppression.expires)}${f.suppression.owner ? `, owner ${h(f.suppression.owner)}` : ''}, ${h(f.suppression.source)})</p>`
      : '';
  return [
    `<article class="finding" id="${escapeHtml(anchor)}" data-cluster="${h(cluster.name)}" data-severity="${f.severity}" data-status="${drift === 'resolved' ? 'RESOLVED' : f.status}" data-check="${h(f.checkId)}" data-namespace="${h(namespace)}"${drift ? ` data-drift="${drift}"` : ''}>`,
    '<header>',
    badge(`sev-${f.severity}`, f.severity),
    drift === 'resolved' ? '' : badge(`st-${f.status}`, f.status),
    drift ? badge(`drift-${drift}`, drift) : '',
    `<span class="res">${h(resourceLabel(f.resource))}</span>`,
    `<a class="check" href="${escapeHtml(checkHelpUri(f.checkId, state.docsUrl))}" rel="noreferrer">${h(f.checkId)}</a>`,
    `<a class="perma" href="#${escapeHtml(anchor)}" title="Link to this finding">#</a>`,
    '</header>',
    `<p class="msg">${hm(f.message)}</p>`,
    muted,
    f.status === 'PASS' || drift === 'resolved' ? '' : fixBlock(f, state),
    '</article>',
  ]
    .filter(Boolean)
    .join('');
}

function options(values: readonly string[], all: string, extra: [string, string][] = []): string {
  return [
    `<option value="*">${escapeHtml(all)}</option>`,
    ...extra.map(([v, label]) => `<option value="${escapeHtml(v)}">${escapeHtml(label)}</option>`),
    ...values.map((v) => `<option value="${h(v)}">${h(v || '(cluster-scoped)')}</option>`),
  ].join('');
}

function summaryTable(report: AuditReport, drift: Record<string, Drift> | undefined): string {
  const anySetup = report.clusters.some((c) => setupText(c));
  const head = [
    'Cluster',
    'Status',
    ...(anySetup ? ['Setup'] : []),
    ...SEVERITIES,
    'Muted',
    'Passed',
    ...(drift ? ['New', 'Resolved'] : []),
  ];
  const rows = report.clusters.map((c, i) => {
    const counts = failingCounts(c.findings);
    const d = drift?.[c.name];
    return `<tr><td><a href="#cluster-${i}">${h(c.name)}</a>${c.region ? ` <span class="why">${h(c.region)}</span>` : ''}</td><td>${badge(`st-${c.status}`, VERDICT[c.status])}</td>${anySetup ? `<td>${h(setupText(c))}</td>` : ''}${SEVERITIES.map((s) => `<td>${counts[s] || ''}</td>`).join('')}<td>${c.findings.filter((f) => f.status === 'MUTED').length || ''}</td><td>${passedCount(c)}</td>${drift ? `<td>${d ? d.new.length : ''}</td><td>${d ? d.resolved.length : ''}</td>` : ''}</tr>`;
  });
  return `<table class="summary"><thead><tr>${head.map((x) => `<th>${escapeHtml(x)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function clusterSection(
  cluster: ClusterReport,
  index: number,
  drift: Drift | undefined,
  state: RenderState,
): string {
  // One pass to split, then sort only what is listed: at 5,000 namespaces sorting 75,000 PASS
  // results to show 500 of them would cost more than the rest of the page.
  const failing: Finding[] = [];
  const muted: Finding[] = [];
  const allPassed: Finding[] = [];
  for (const f of cluster.findings) {
    if (f.status === 'PASS') allPassed.push(f);
    else if (f.status === 'MUTED') muted.push(f);
    else failing.push(f);
  }
  const passed = sortFindings(
    allPassed.length > state.maxPassRows ? allPassed.slice(0, state.maxPassRows) : allPassed,
  );
  const driftOf = new Map<string, DriftBadge>();
  if (drift) {
    for (const f of drift.new) driftOf.set(f.id, 'new');
    for (const f of drift.unchanged) driftOf.set(f.id, 'unchanged');
  }
  const row = (f: Finding) => findingRow(f, cluster, driftOf.get(f.id), state, findingAnchor(f.id));
  const group = (
    title: string,
    items: Finding[],
    render: (f: Finding) => string,
    total = items.length,
  ) =>
    items.length
      ? `<section data-group><h3>${escapeHtml(title)} (${total})</h3>${items.map(render).join('')}</section>`
      : '';
  const resolved = drift ? sortFindings(drift.resolved) : [];
  const counts = describeCounts(failingCounts(cluster.findings)) || 'nothing failing';
  const driftLine = drift
    ? drift.firstRun
      ? '<p class="why">No previous report: every failing finding is new.</p>'
      : `<p class="why">Since the previous report: ${drift.new.length} new, ${drift.resolved.length} resolved, ${drift.unchanged.length} still failing.</p>`
    : '';
  const reasons = [
    ...new Set([
      ...cluster.errors.map((e) => e.message),
      ...failing.filter((f) => f.status === 'ERROR').map((f) => f.message),
    ]),
  ];
  const incomplete =
    cluster.status === 'ERROR'
      ? `<div class="incomplete"><strong>Audit incomplete.</strong> These could not be collected or checked, so related checks did not run:<ul>${reasons.map((r) => `<li>${h(r)}</li>`).join('')}</ul></div>`
      : '';
  const setup = setupText(cluster);
  return [
    `<section class="cluster" id="cluster-${index}">`,
    `<h2>${h(cluster.name)}${cluster.region ? ` (${h(cluster.region)})` : ''} ${badge(`st-${cluster.status}`, VERDICT[cluster.status])}</h2>`,
    `<p class="meta">${escapeHtml(counts)}; ${allPassed.length} passed${muted.length ? `; ${muted.length} muted` : ''}${setup ? `; setup: ${h(setup)}` : ''}. Collected ${h(cluster.startedAt)} to ${h(cluster.finishedAt)}.</p>`,
    driftLine,
    incomplete,
    group('Failing', sortFindings(failing), row),
    group('Muted (accepted risk)', sortFindings(muted), row),
    group('Resolved since the previous report', resolved, (f) =>
      findingRow(f, cluster, 'resolved', state, `resolved-${findingAnchor(f.id)}`),
    ),
    group('Passed', passed, row, allPassed.length),
    allPassed.length > passed.length
      ? `<p class="why" id="more-passed-${index}">${allPassed.length - passed.length} more passed results are not listed here; the JSON report lists every result.</p>`
      : '',
    cluster.findings.length === 0 && resolved.length === 0
      ? '<p class="empty">No results for this cluster.</p>'
      : '',
    '</section>',
  ]
    .filter(Boolean)
    .join('\n');
}

export function renderHtml(
  report: AuditReport,
  drift?: Record<string, Drift>,
  opts: HtmlOptions = {},
): string {
  const state: RenderState = {
    seq: 0,
    docsUrl: opts.docsUrl ?? DEFAULT_DOCS_URL,
    maxPassRows: Math.max(0, opts.maxPassRows ?? Infinity),
  };
  // Filter choices and totals in one pass over every result (75,000 per cluster at scale).
  const checkSet = new Set<string>();
  const namespaceSet = new Set<string>();
  const severitySet = new Set<Severity>();
  const totals = emptyCounts();
  const note = (f: Finding) => {
    checkSet.add(f.checkId);
    namespaceSet.add(f.resource.namespace ?? '');
    severitySet.add(f.severity);
  };
  for (const c of report.clusters) {
    for (const f of c.findings) {
      note(f);
      if (isFailing(f)) totals[f.severity] += 1;
    }
    for (const f of drift?.[c.name]?.resolved ?? []) note(f);
  }
  const checks = [...checkSet].sort();
  const namespaces = [...namespaceSet].sort();
  const severities: Severity[] = SEVERITIES.filter((s) => severitySet.has(s));
  const title = `${TOOL_NAME} report ${singleLine(report.runId)}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(TOOL_NAME)} report</h1>`,
    `<p class="meta">Run ${h(report.runId)} (${h(report.trigger)}), started ${h(report.startedAt)}, finished ${h(report.finishedAt)}. ${report.clusters.length} cluster${report.clusters.length === 1 ? '' : 's'}; failing: ${escapeHtml(describeCounts(totals) || 'none')}.</p>`,
    summaryTable(report, drift),
    '<div class="filters" id="filters" role="search">',
    `<label>Severity<select id="filter-severity" data-filter="severity">${options(severities, 'all severities')}</select></label>`,
    `<label>Status<select id="filter-status" data-filter="status">${options([], 'all results', [
      ['open', 'not passed'],
      ['FAIL', 'FAIL'],
      ['ERROR', 'ERROR (not evaluated)'],
      ['MUTED', 'MUTED'],
      ['PASS', 'PASS'],
      ...(drift ? ([['RESOLVED', 'resolved']] as [string, string][]) : []),
    ]).replace('<option value="open">', '<option value="open" selected>')}</select></label>`,
    `<label>Check<select id="filter-check" data-filter="check">${options(checks, 'all checks')}</select></label>`,
    `<label>Namespace<select id="filter-namespace" data-filter="namespace">${options(namespaces, 'all namespaces')}</select></label>`,
    '<span id="shown" aria-live="polite"></span>',
    '</div>',
    ...report.clusters.map((c, i) => clusterSection(c, i, drift?.[c.name], state)),
    `<footer class="meta"><p>Generated by ${escapeHtml(TOOL_NAME)} ${escapeHtml(TOOL_VERSION)}. Secret values are never part of a report: the auditor keeps digests and lengths only.</p></footer>`,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
