import { createHash } from 'node:crypto';
import {
  CONTENT_SECURITY_POLICY,
  escapeHtml,
  findingAnchor,
  renderHtml,
} from '../../lambda/report/render-html.js';
import { everyKindReport, mutedFinding, RESOLVED } from './formats-support.js';
import { auditReport, clusterReport, CLUSTER, HOSTILE, hostileFindings } from './support.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

describe('HTML report (markup)', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('pins the one inline style and the one inline script by hash and allows nothing else', () => {
    const html = renderHtml(everyKindReport().report);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(CONTENT_SECURITY_POLICY).toBe(
      `default-src 'none'; style-src 'sha256-${sha256(style)}'; script-src 'sha256-${sha256(script)}'; base-uri 'none'; form-action 'none'`,
    );
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`,
    );
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html.match(/<style/g)).toHaveLength(1);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
  });

  it('renders hostile names as inert text: no markup, control and bidi characters made visible', () => {
    const html = renderHtml(auditReport([clusterReport(hostileFindings(), { name: 'hostile' })]));
    expect(html).not.toContain(HOSTILE.html);
    expect(html).toContain(escapeHtml(HOSTILE.html));
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/<img/);
    // eslint-disable-next-line no-control-regex
    expect(html).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(html).toContain('pod-\\x1b[31mred');
    expect(html).toContain('admin\\u202egnp.exe');
  });

  it('gives every finding an anchor, a muted section with the suppression, and resolved drift its own ids', () => {
    const { report, drift } = everyKindReport();
    const html = renderHtml(report, drift);
    for (const f of report.clusters[0]!.findings) {
      expect(html.split(`id="${findingAnchor(f.id)}"`)).toHaveLength(2);
    }
    expect(html).toContain('Muted (accepted risk) (1)');
    expect(html).toContain(
      'Muted: Legacy app retired in Q1 &lt;2027&gt; (until 2027-03-31, owner platform-team, config)',
    );
    expect(html).toContain(`id="${findingAnchor(mutedFinding().id)}"`);
    expect(html).toContain(`id="resolved-${findingAnchor(RESOLVED.id)}"`);
    expect(html).toContain('data-drift="resolved"');
    expect(html).toContain('Since the previous report: ');
    expect(html).toContain('<strong>Audit incomplete.</strong>');
  });

  it('lists at most maxPassRows PASS rows and counts the rest (the archived page at 5,000 namespaces)', () => {
    const { report } = everyKindReport();
    const passes = report.clusters[0]!.findings.filter((f) => f.status === 'PASS');
    expect(passes).toHaveLength(2);
    const html = renderHtml(report, undefined, { maxPassRows: 1 });
    expect(html).toContain('Passed (2)');
    expect(html.match(/data-status="PASS"/g)).toHaveLength(1);
    expect(html).toContain(
      '1 more passed results are not listed here; the JSON report lists every result.',
    );
    const full = renderHtml(report);
    expect(full.match(/data-status="PASS"/g)).toHaveLength(2);
    expect(full).not.toContain('more passed results');
  });

  it('shows how Datadog is set up when the cluster report says so, and no setup column otherwise', () => {
    const plain = clusterReport([]);
    expect(renderHtml(auditReport([plain]))).not.toContain('<th>Setup</th>');
    const withSetup = {
      ...plain,
      setup: {
        kinds: [
          { kind: 'hand-written-sidecars', detail: 'hand-written agent sidecars in 1 workload' },
        ],
        summary: 'Cluster Agent datadog/<x>; hand-written agent sidecars in 1 workload',
      },
    };
    const html = renderHtml(auditReport([withSetup]));
    expect(html).toContain('<th>Setup</th>');
    expect(html).toContain(
      'Cluster Agent datadog/&lt;x&gt;; hand-written agent sidecars in 1 workload',
    );
    expect(html).toContain(CLUSTER);
  });
});
