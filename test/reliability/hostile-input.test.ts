/**
 * Hostile input from the cluster, end to end: anyone who can create a Pod can choose its name, its
 * containers' names, the Secret names it references, its labels and annotations. Those strings
 * travel through the test API server, client-node, the converters and the checks into findings;
 * every renderer must neutralise them: no terminal escape passes into the CLI table, no header
 * or line injection into the email or the SNS subject, no markup into the markdown report.
 */
import { neutraliseQuotedClusterText } from '../../lambda/checks/quoted-text.js';
import { findingId } from '../../lambda/config/findings.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { renderEmail, renderSubject, SUBJECT_MAX } from '../../lambda/report/email.js';
import { renderReport } from '../../lambda/report/index.js';
import { buildPublishInput } from '../../lambda/deliver/publish.js';
import { displayWidth, singleLine } from '../../lambda/checks/sanitize.js';
import type { AuditReport, ClusterReport } from '../../lambda/report/types.js';
import { fixtureSnapshot } from '../support/snapshot-builder.js';
import { Book, faultCase, finalCanarySearch } from './book.js';
import { auditCase, handlerCase, TOPIC } from './harness.js';

const book = new Book(import.meta.url);
finalCanarySearch(book);

/** Every trick at once: line and header injection, ANSI (CSI and OSC), C1 CSI, bidi, markup. */
const INJECT =
  '\r\nSubject: all clear\r\nBcc: attacker@evil.example\n\u001b[2J\u001b[31mRED\u001b]0;pwned\u0007\u009b31m\u202egnp.exe\u200b <script>alert(1)</script> | col | [click](https://evil.example) **bold** `tick` # heading';
const HOSTILE = {
  pod: `golang-app-7d9f8b6c5-kx4wz${INJECT}`,
  secret: `go-secrets${INJECT}`,
  container: 'datadog-agent-漢字-😀-|x|',
  label63: `${'l'.repeat(63)}`,
  annotation: `line one\nline two\u001b[0m\u009b2J ${'é'.repeat(10)}`,
};

/** C0 and C1 controls (but newline), DEL, bidi, zero-width, line separators. */
const CONTROL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/;
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;

function mutate(docs: Raw[]): Raw[] {
  for (const d of docs) {
    const golangApp =
      d.metadata?.namespace === 'golang' && (d.kind === 'Deployment' || d.kind === 'Pod');
    if (!golangApp) continue;
    const spec = d.kind === 'Pod' ? d.spec : d.spec.template.spec;
    const meta = d.kind === 'Pod' ? d.metadata : d.spec.template.metadata;
    if (d.kind === 'Pod') {
      d.metadata.name = HOSTILE.pod;
      for (const s of d.status?.containerStatuses ?? []) {
        if (s.name === 'datadog-agent') s.name = HOSTILE.container;
      }
    }
    meta.labels = { ...meta.labels, [`example.com/${HOSTILE.label63}`]: HOSTILE.label63 };
    meta.annotations = { ...meta.annotations, 'example.com/note': HOSTILE.annotation };
    for (const c of spec.containers) {
      if (c.name !== 'datadog-agent') continue;
      c.name = HOSTILE.container;
      for (const e of c.env ?? []) {
        if (e.name === 'DD_CLUSTER_AGENT_AUTH_TOKEN')
          e.valueFrom.secretKeyRef.name = HOSTILE.secret;
      }
    }
  }
  return docs;
}

function expectNoControl(text: string, where: string): void {
  const m = CONTROL.exec(text);
  expect(
    m
      ? `${where}: U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 10))}`
      : '',
  ).toBe('');
}

/** No rendered line may start like a mail header or carry a hostile line on its own. */
function expectNoInjectedLines(text: string, where: string): void {
  for (const line of text.split('\n')) {
    expect(`${where}: ${line.trimStart().slice(0, 24)}`).not.toMatch(/: (Subject|Bcc): /);
    expect(line.trimStart().startsWith('# heading')).toBe(false);
  }
}

let report: AuditReport;
let cluster: ClusterReport;

describe('hostile input from the cluster', () => {
  faultCase(
    book,
    'hostile',
    'the hostile objects are collected and judged: the missing Secret is a FAIL naming it, made visible',
    async (c) => {
      c.inject(5);
      const o = await auditCase(c, { fixture: 'healthy', name: 'hostile', manifests: mutate });
      report = o.report;
      cluster = o.cluster;
      const dangling = cluster.findings.filter(
        (f) => f.checkId === 'token-ref-resolves' && f.status === 'FAIL',
      );
      expect(dangling).toHaveLength(1);
      // The resource keeps the real name (reports are evidence; renderers make it harmless);
      // quoted into text, a cluster string shows its control characters instead of acting on them.
      // Filed under its Deployment (lambda/checks/identity.ts); the pod is listed as affected.
      expect(dangling[0]!.resource.name).toBe('golang-app');
      expect(dangling[0]!.affected?.names).toEqual([HOSTILE.pod]);
      expect(dangling[0]!.message).toContain(singleLine(HOSTILE.secret));
      expect(dangling[0]!.remediation).toContain(singleLine(HOSTILE.secret));
      expect(dangling[0]!.remediation).not.toContain(HOSTILE.secret);
      expect(dangling[0]!.id).toBe(
        findingId('token-ref-resolves', 'hostile', dangling[0]!.resource, dangling[0]!.messageId),
      );
    },
  );

  faultCase(
    book,
    'hostile',
    'the CLI table passes no terminal escape through, in colour or not, and stays in its columns',
    (c) => {
      c.inject();
      for (const color of [false, true]) {
        const table = renderReport(report, 'table', { color, showPass: true });
        c.record('render:table', table);
        const bare = table.replace(SGR, '');
        if (!color) expect(table).toBe(bare);
        expectNoControl(bare, `table (color ${color})`);
        expectNoInjectedLines(bare, 'table');
        // Made visible, not dropped: the reader sees that the name carries an escape.
        expect(bare).toContain('\\x1b[2J');
        expect(bare).toContain('\\r\\n');
        for (const line of bare.split('\n')) {
          // Only a fix's code block may run over (copy-paste); hostile names are wrapped.
          if (!/^\s{8,}\S/.test(line) || !/[:-]/.test(line))
            expect(displayWidth(line)).toBeLessThanOrEqual(120);
        }
      }
    },
  );

  faultCase(
    book,
    'hostile',
    'the markdown report keeps hostile text as text: no HTML, no link, no broken table',
    (c) => {
      c.inject();
      const md = renderReport(report, 'markdown', { showPass: true });
      c.record('render:markdown', md);
      expectNoControl(md, 'markdown');
      expectNoInjectedLines(md, 'markdown');
      expect(md).not.toContain('<script>');
      expect(md).toContain('&lt;script&gt;');
      expect(md).not.toMatch(/(^|[^\\])\[click\]\(https:\/\/evil/);
      expect(md).not.toMatch(/(^|[^\\])\*\*bold/);
      // Every row of a table has exactly as many unescaped cell separators as the header.
      const lines = md.split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (!lines[i]!.startsWith('| ')) continue;
        const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
        let header = i;
        while (header > 0 && lines[header - 1]!.startsWith('| ')) header -= 1;
        expect(cells(lines[i]!)).toBe(cells(lines[header]!));
      }
    },
  );

  faultCase(
    book,
    'hostile',
    'the email has no header or line injection and no control character, at 80 columns',
    (c) => {
      c.inject();
      const email = renderEmail(cluster, undefined, { runId: report.runId });
      c.record('email', email);
      expectNoControl(email, 'email');
      expectNoInjectedLines(email, 'email');
      expect(email).toContain('\\r\\nSubject: all clear');
      for (const line of email.split('\n')) {
        if (line.includes('golang-app') || line.includes('go-secrets'))
          expect(displayWidth(line)).toBeLessThanOrEqual(80);
      }
    },
  );

  faultCase(
    book,
    'hostile',
    'the SNS subject is printable ASCII under 100 characters, whatever the cluster name, and the message JSON parses',
    async (c) => {
      c.inject(2);
      const subjects = [
        renderSubject(cluster, undefined),
        // A name the config schema would refuse, in case a report ever carries one.
        renderSubject(
          { ...cluster, name: `prod${INJECT}${HOSTILE.container}${'x'.repeat(200)}` },
          undefined,
        ),
      ];
      const input = buildPublishInput(cluster, undefined, {
        topicArn: TOPIC,
        runId: report.runId,
        trigger: 'scheduled',
      });
      c.record('sns-input', input);
      subjects.push(input.Subject!);
      for (const subject of subjects) {
        c.record('subject', subject);
        expect(subject).toMatch(/^[\x20-\x7e]+$/);
        expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
      }
      const message = JSON.parse(input.Message!) as Record<string, string>;
      expectNoControl(message.email!, 'SNS email');
      expectNoInjectedLines(message.email!, 'SNS email');
      expectNoControl(message.default!, 'SNS default');
      const machine = JSON.parse(message.sqs!);
      expect(JSON.stringify(machine)).toContain('token-ref-resolves');
      for (const attr of Object.values(input.MessageAttributes!))
        expect(attr.StringValue).toMatch(/^[\x20-\x7e]+$/);

      // And through a whole invocation: the published subject and the archived report.
      const h = await handlerCase(c, {
        clusters: [{ fixture: 'healthy', name: 'hostile', manifests: mutate }],
      });
      expect(h.error).toBeUndefined();
      expect(h.published).toHaveLength(1);
      expect(h.published[0]!.Subject).toMatch(/^[\x20-\x7e]+$/);
      for (const [key, body] of h.objects) {
        expect(key).toMatch(/^[\x20-\x7e]+$/);
        // The HTML page beside the dated report is checked in test/report/html-browser.test.ts.
        if (key.endsWith('.html')) continue;
        expect(
          JSON.parse(body).findings.some((f: { affected?: { names: string[] } }) =>
            f.affected?.names.includes(HOSTILE.pod),
          ),
        ).toBe(true);
      }
    },
  );

  faultCase(
    book,
    'hostile',
    'the JSON report keeps the names exact for parsers but escapes what a terminal would act on',
    (c) => {
      c.inject();
      const json = renderReport(report, 'json');
      c.record('render:json', json);
      expectNoControl(json, 'json');
      const parsed = JSON.parse(json);
      const names = parsed.clusters[0].findings.flatMap(
        (f: { resource: { name: string }; affected?: { names: string[] } }) => [
          f.resource.name,
          ...(f.affected?.names ?? []),
        ],
      );
      expect(names).toContain(HOSTILE.pod);
    },
  );

  faultCase(
    book,
    'hostile',
    "a check's own line breaks (snippets) stay; only those a quoted cluster string brings are made visible",
    (c) => {
      c.inject();
      const snapshot = fixtureSnapshot('healthy');
      if (snapshot.kube.namespaces.status !== 'ok') throw new Error('fixture without namespaces');
      snapshot.kube.namespaces.value[0]!.meta.annotations['example.com/x'] =
        'evil\nkubectl delete ns prod';
      const f = {
        id: 'x',
        checkId: 'demo',
        cluster: 'healthy',
        severity: 'high' as const,
        status: 'FAIL' as const,
        resource: { kind: 'Namespace', name: 'default' },
        messageId: 'm',
        message: 'Annotation says evil\nkubectl delete ns prod.',
        remediation:
          'Apply:\n  metadata:\n    annotations:\n      note: evil\nkubectl delete ns prod',
      };
      const [out] = neutraliseQuotedClusterText([f], snapshot);
      expect(out!.remediation).toBe(
        'Apply:\n  metadata:\n    annotations:\n      note: evil\\nkubectl delete ns prod',
      );
      expect(out!.message).toBe('Annotation says evil\\nkubectl delete ns prod.');
      expect(neutraliseQuotedClusterText([f], fixtureSnapshot('healthy'))[0]).toBe(f);
    },
  );
});
