import { diffReports } from '../../lambda/report/diff.js';
import { renderEmail, renderSubject, SUBJECT_MAX } from '../../lambda/report/email.js';
import { renderJson } from '../../lambda/report/render-json.js';
import { renderMarkdown } from '../../lambda/report/render-markdown.js';
import { renderTable } from '../../lambda/report/render-table.js';
import { displayWidth, stripSgr } from '../../lambda/checks/sanitize.js';
import {
  auditReport,
  clusterReport,
  CONTROL_CHARS,
  fieldReportFindings,
  finding,
  HOSTILE,
  hostileFindings,
} from './support.js';

const ARCHIVE =
  's3://audit-bucket/reports/golang-cluster/2026/11/24/2026-11-24T02-00-00Z-3f9a1c.json';
const CTX = { archiveLocation: ARCHIVE, functionName: 'eks-datadog-auditor', region: 'eu-west-1' };

function fieldDrift() {
  const current = clusterReport(fieldReportFindings());
  const resolved = finding({
    checkId: 'fargate-profile-selects',
    severity: 'medium',
    resource: { kind: 'FargateProfile', name: 'golang' },
    messageId: 'no-match',
    message: 'Fargate profile golang selected no pods.',
  });
  const previous = clusterReport([fieldReportFindings()[1]!, resolved]);
  return { current, drift: diffReports(current, previous), resolved };
}

/**
 * Lines over 80 columns are allowed only when they are one unbreakable token (a URI) or a code
 * line copied verbatim from a remediation (YAML must not be broken).
 */
function overlong(text: string, codeLines: string[] = []): string[] {
  return text
    .split('\n')
    .filter((l) => displayWidth(l) > 80 && /\S\s+\S/.test(l.trim()))
    .filter(
      (l) => !codeLines.some((c) => l.endsWith(c) && /^ +$/.test(l.slice(0, l.length - c.length))),
    );
}

const remediationLines = (r: { findings: { remediation: string }[] }) =>
  r.findings.flatMap((f) => f.remediation.split('\n'));

describe('renderTable', () => {
  const report = auditReport([clusterReport(fieldReportFindings())]);

  it('lists failing findings by severity with their fix, and hides but counts PASS rows', () => {
    const out = renderTable(report);
    // One line per finding: severity, status, check, resource; then message and fix at full width.
    const critical = out.search(/critical FAIL {3}\S+ +golang\/Pod\/golang-app/);
    const high = out.search(/high {5}FAIL {3}\S+ +ClusterRole\/datadog-agent/);
    expect(critical).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(critical);
    expect(out).toContain('fix: In the golang-app Deployment');
    expect(out).toContain('name: golang-secrets');
    expect(out).not.toContain('datadog-cluster-agent-6d9f');
    expect(out).toMatch(
      /Summary: 1 cluster \(1 FAIL\); failing: 1 critical, 1 high; 2 passed \(hidden/,
    );
  });

  it('lists PASS rows after the failing ones when asked', () => {
    const out = renderTable(report, { showPass: true });
    expect(out.search(/PASS {3}\S+ +datadog\/Pod\/datadog-cluster-agent-6d9f/)).toBeGreaterThan(
      out.indexOf('ClusterRole/datadog-agent'),
    );
  });

  it('puts ERROR rows after FAIL rows of the same severity and says the audit is incomplete', () => {
    const err = finding({
      checkId: 'rbac-agent-permissions',
      status: 'ERROR',
      severity: 'critical',
      resource: { kind: 'Check', name: 'rbac-agent-permissions' },
      messageId: 'not-evaluated',
      message: 'Not evaluated: clusterroles could not be collected.',
    });
    // Incomplete because the read failed (errors), not because of the ERROR row alone.
    const failure = {
      source: 'kubernetes' as const,
      kind: 'clusterroles.rbac.authorization.k8s.io',
      status: 403,
      code: 'Forbidden',
      message: 'forbidden',
    };
    const out = renderTable(
      auditReport([clusterReport([err, ...fieldReportFindings()], { errors: [failure] })]),
    );
    expect(out).toContain('AUDIT INCOMPLETE');
    expect(out.indexOf('critical ERROR')).toBeGreaterThan(out.indexOf('critical FAIL'));
    expect(out.indexOf('critical ERROR')).toBeLessThan(out.indexOf('high     FAIL'));
  });

  it('colours only when asked', () => {
    expect(renderTable(report)).not.toContain('\u001b[');
    expect(renderTable(report, { color: true })).toContain('\u001b[1;31mcritical');
  });

  it('keeps every line within the requested width for ordinary findings', () => {
    const out = renderTable(report, { width: 100 });
    const rows = out
      .split('\n')
      .filter((l) => !l.startsWith('                       ') && !l.startsWith('Summary'));
    for (const l of rows) expect(displayWidth(l)).toBeLessThanOrEqual(100);
  });

  it('marks new findings and lists resolved ones when given drift', () => {
    const { current, drift } = fieldDrift();
    const out = renderTable(auditReport([current]), { drift: { [current.name]: drift } });
    expect(out).toContain('+ critical FAIL');
    expect(out).toContain('1 new, 1 resolved since the baseline');
    expect(out).toContain('Resolved since the baseline (1):');
    expect(out).toContain('FargateProfile/golang');
  });

  it('passes no terminal escape from hostile names and messages through, even in colour', () => {
    const out = renderTable(auditReport([clusterReport(hostileFindings(), { name: 'hostile' })]), {
      color: true,
    });
    // Our own SGR codes are the only escapes allowed; the hostile OSC and clear-screen would remain.
    const withoutOurColours = stripSgr(out);
    expect(withoutOurColours).not.toMatch(CONTROL_CHARS);
    expect(withoutOurColours).toContain('pod-\\x1b[31mred');
    expect(out).not.toContain('\nSubject: you have been pwned');
    expect(out).toContain('naïve-名前-🚀');
    expect(out).toContain(HOSTILE.label63.slice(0, 20));
  });
});

describe('renderJson', () => {
  it('prints exactly one document of the CLI shape, PASS results included', () => {
    const doc = JSON.parse(renderJson(auditReport([clusterReport(fieldReportFindings())])));
    expect(Object.keys(doc).slice(0, 3)).toEqual(['runId', 'startedAt', 'clusters']);
    const [cluster] = doc.clusters;
    expect(Object.keys(cluster).slice(0, 4)).toEqual(['name', 'status', 'findings', 'errors']);
    expect(cluster.status).toBe('FAIL');
    expect(cluster.findings).toHaveLength(4);
    expect(Object.keys(cluster.findings[0])).toEqual([
      'id',
      'checkId',
      'severity',
      'status',
      'resource',
      'message',
      'remediation',
    ]);
    expect(cluster.findings[0].resource).toEqual({
      kind: 'Pod',
      namespace: 'golang',
      name: 'golang-app',
    });
    expect(cluster.findings[1].resource).toEqual({
      kind: 'ClusterRole',
      namespace: null,
      name: 'datadog-agent',
    });
  });

  it('adds drift when given: new and unchanged by id, resolved in full', () => {
    const { current, drift, resolved } = fieldDrift();
    const doc = JSON.parse(renderJson(auditReport([current]), { [current.name]: drift }));
    expect(doc.clusters[0].drift).toEqual({
      firstRun: false,
      new: [current.findings[0]!.id],
      resolved: [expect.objectContaining({ id: resolved.id, checkId: 'fargate-profile-selects' })],
      unchanged: [current.findings[1]!.id],
      notEvaluated: [],
    });
  });

  it('keeps hostile strings intact for parsers but escapes C1 and bidi characters for terminals', () => {
    const text = renderJson(auditReport([clusterReport(hostileFindings(), { name: 'hostile' })]));
    expect(text).not.toMatch(CONTROL_CHARS);
    const names = JSON.parse(text).clusters[0].findings.map(
      (f: { resource: { name: string } }) => f.resource.name,
    );
    expect(names).toEqual(
      expect.arrayContaining([HOSTILE.c1, HOSTILE.bidi, HOSTILE.ansi, HOSTILE.newline]),
    );
  });
});

describe('renderMarkdown', () => {
  it('renders a cluster table, a findings table and fixes in code blocks', () => {
    const { current, drift } = fieldDrift();
    const out = renderMarkdown(auditReport([current]), { [current.name]: drift });
    expect(out).toContain('| golang-cluster | FAIL | 1 critical, 1 high | 2 |');
    expect(out).toMatch(
      /\| 1 \| critical \| FAIL \| golang\/Pod\/golang-app \| token-ref-resolves \| .* \| new \|/,
    );
    expect(out).toContain(
      '   In the golang-app Deployment, set containers\\[datadog-agent\\].env\\[DD\\_CLUSTER',
    );
    expect(out).toContain(
      '   ```yaml\n       valueFrom:\n         secretKeyRef:\n           name: golang-secrets',
    );
    expect(out).toContain('### Resolved since the previous report');
  });

  it('neutralises HTML, table breakers, links and control characters from the cluster', () => {
    const out = renderMarkdown(
      auditReport([clusterReport(hostileFindings(), { name: 'hostile' })]),
    );
    const tableRows = out.split('\n').filter((l) => l.startsWith('| ') && /hostile-/.test(l));
    expect(tableRows).toHaveLength(8);
    for (const row of tableRows) {
      // 7 cell borders: the escaped pipes (\|) of hostile names do not count.
      expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(8);
    }
    const outsideCode = out.replace(/```yaml\n[\s\S]*?\n *```/g, '');
    expect(outsideCode).not.toMatch(/<script|<img/);
    expect(outsideCode).not.toContain('[link](');
    expect(out).not.toMatch(CONTROL_CHARS);
  });
});

describe('renderEmail', () => {
  it('leads with the verdict, then new, still failing and resolved findings with their fixes', () => {
    const { current, drift } = fieldDrift();
    const out = renderEmail(current, drift, CTX);
    const lines = out.split('\n');
    expect(lines[0]).toBe(
      'FAIL: golang-cluster (eu-west-1) has 2 failing findings (1 critical, 1 high); 1',
    );
    const order = ['NEW FINDINGS (1)', 'STILL FAILING (1)', 'RESOLVED SINCE THE LAST RUN (1)'].map(
      (h) => out.indexOf(h),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order[0]).toBeGreaterThan(0);
    expect(out).toContain('1. [CRITICAL] golang/Pod/golang-app');
    expect(out).toContain(
      '   What:  Container datadog-agent env DD_CLUSTER_AGENT_AUTH_TOKEN references',
    );
    expect(out).toContain('   Fix:   In the golang-app Deployment');
    // The snippet is set off at a fixed indent and keeps its own indentation.
    expect(out).toContain(
      '   Fix:   In the golang-app Deployment, set containers[datadog-agent].\n          env[DD_CLUSTER_AGENT_AUTH_TOKEN].valueFrom.secretKeyRef.name to\n          golang-secrets:\n\n           valueFrom:\n             secretKeyRef:\n               name: golang-secrets\n',
    );
    expect(out).toContain('3. [MEDIUM] FargateProfile/golang');
    expect(out).toContain('   Was:   Fargate profile golang selected no pods.');
  });

  it('ends with the archive location and how to re-run from the console and the CLI', () => {
    const { current, drift } = fieldDrift();
    const out = renderEmail(current, drift, CTX);
    expect(out).toContain(`  ${ARCHIVE}\n`);
    expect(out).toContain('Lambda console: function eks-datadog-auditor, Test tab');
    expect(out).toContain('{"clusters":["golang-cluster"],"notify":"always"}');
    expect(out).toContain('aws lambda invoke --function-name eks-datadog-auditor \\');
    expect(out).toContain('--region eu-west-1 \\');
    expect(out).toContain(`--payload '{"clusters":["golang-cluster"],"notify":"always"}'`);
  });

  it('fits 80 columns', () => {
    const { current, drift } = fieldDrift();
    expect(overlong(renderEmail(current, drift, CTX))).toEqual([]);
    const hostile = clusterReport(hostileFindings(), { name: 'hostile' });
    expect(overlong(renderEmail(hostile, undefined, CTX), remediationLines(hostile))).toEqual([]);
  });

  it('says AUDIT INCOMPLETE with the reasons when the cluster status is ERROR', () => {
    const report = clusterReport(
      [
        ...fieldReportFindings(),
        finding({
          checkId: 'audit-collection',
          status: 'ERROR',
          resource: { kind: 'clusterroles', name: '*' },
          messageId: 'Forbidden',
          message:
            'Cluster golang-cluster: could not read Kubernetes clusterroles (HTTP 403 Forbidden): forbidden',
        }),
      ],
      {
        errors: [
          {
            source: 'kubernetes',
            kind: 'clusterroles',
            status: 403,
            code: 'Forbidden',
            message:
              'clusterroles is forbidden: User "auditor" cannot list resource "clusterroles"',
          },
        ],
      },
    );
    const out = renderEmail(report, diffReports(report, undefined), CTX);
    expect(out.split('\n')[0]).toMatch(
      /^AUDIT INCOMPLETE: golang-cluster \(eu-west-1\) could not be fully/,
    );
    expect(out).toContain('\nAUDIT INCOMPLETE\n');
    expect(out).toContain('  - clusterroles is forbidden: User "auditor" cannot list resource');
    expect(out).toContain('[HIGH, NOT EVALUATED] clusterroles/*');
  });

  it('shows hostile names inert: no forged lines, no escapes, no HTML interpretation needed', () => {
    const out = renderEmail(clusterReport(hostileFindings(), { name: 'hostile' }), undefined, CTX);
    expect(out).not.toMatch(CONTROL_CHARS);
    expect(out.split('\n').some((l) => l.startsWith('Subject:') || l.startsWith('Bcc:'))).toBe(
      false,
    );
    expect(out).toContain('evil\\nSubject: you have been pwned');
  });

  it('cuts the lists to whole findings and says how many more there are and where', () => {
    const { current, drift } = fieldDrift();
    const out = renderEmail(current, drift, { ...CTX, maxFindings: 1 });
    expect(out).toContain('NEW FINDINGS (1)');
    expect(out).toContain('STILL FAILING (1)');
    expect(out).not.toContain('2. [HIGH]');
    expect(out).toContain(
      `... 2 more findings not shown (message size limit), see the full report:\n  ${ARCHIVE}\n`,
    );
  });
});

describe('renderSubject', () => {
  it('names the cluster, the failing counts and the drift', () => {
    const { current, drift } = fieldDrift();
    expect(renderSubject(current, drift)).toBe(
      '[eks-datadog-auditor] golang-cluster: 1 critical, 1 high (1 new, 1 resolved)',
    );
  });

  it.each([
    [
      'first run',
      (r: ReturnType<typeof clusterReport>) => diffReports(r, undefined),
      '(first run)',
    ],
    ['no change', (r: ReturnType<typeof clusterReport>) => diffReports(r, r), '(no change)'],
    ['unknown drift', () => undefined, 'high'],
  ])('describes %s', (_name, driftOf, ending) => {
    const r = clusterReport(fieldReportFindings());
    expect(renderSubject(r, driftOf(r))).toMatch(new RegExp(`${ending.replace(/[()]/g, '\\$&')}$`));
  });

  it('says all passed for a clean cluster and AUDIT INCOMPLETE for an ERROR one', () => {
    const pass = clusterReport(fieldReportFindings().filter((f) => f.status === 'PASS'));
    expect(renderSubject(pass, diffReports(pass, pass))).toBe(
      '[eks-datadog-auditor] golang-cluster: all passed (no change)',
    );
    const err = clusterReport([finding({ status: 'ERROR', severity: 'critical' })], {
      errors: [
        { source: 'aws', kind: 'eks:ListFargateProfiles', code: 'Throttling', message: 'x' },
      ],
    });
    expect(renderSubject(err, undefined)).toBe(
      '[eks-datadog-auditor] golang-cluster: AUDIT INCOMPLETE, 1 critical',
    );
  });

  it.each(Object.entries(HOSTILE))(
    'stays printable ASCII, one line, under 100 characters with a %s name',
    (_k, name) => {
      const r = clusterReport(hostileFindings(), { name: `${name}${name}` });
      const subject = renderSubject(r, diffReports(r, undefined));
      expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
      expect(subject).toMatch(/^[\x20-\x7e]+$/);
      expect(subject.startsWith('[eks-datadog-auditor] ')).toBe(true);
      expect(subject).toMatch(/\(first run\)$/);
    },
  );
});
