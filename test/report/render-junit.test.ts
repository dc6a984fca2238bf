import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { junitOutcome, renderJunit } from '../../lambda/report/render-junit.js';
import { runDemoAudit } from '../../lambda/run/demo/demo.js';
import {
  collectionErrorFinding,
  everyKindReport,
  mutedFinding,
  notEvaluatedFinding,
} from './formats-support.js';
import { auditReport, clusterReport, CLUSTER, HOSTILE, hostileFindings } from './support.js';

interface Case {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_message': string; '@_type': string; '#text': string };
  error?: { '@_message': string; '#text': string };
  skipped?: { '@_message': string } | '';
}
interface Suite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  '@_skipped': string;
  '@_timestamp': string;
  properties: { property: { '@_name': string; '@_value': string }[] };
  testcase: Case[];
  'system-err'?: string;
}
interface Doc {
  testsuites: { '@_tests': string; '@_failures': string; testsuite: Suite[] };
}

/** A real XML parser: well-formedness first (the validator reports line and column), then the tree. */
function parse(xml: string): Doc {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  return new XMLParser({
    ignoreAttributes: false,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
  }).parse(xml) as Doc;
}

const byName = (suite: Suite, part: string) =>
  suite.testcase.filter((c) => c['@_name'].includes(part));

describe('JUnit XML report', () => {
  it('is one well-formed document with one test suite per cluster and one test case per result', () => {
    const { report, drift } = everyKindReport();
    const two = auditReport([
      report.clusters[0]!,
      clusterReport([], { name: 'empty-cluster', region: 'us-east-1' }),
    ]);
    const doc = parse(renderJunit(two, drift));
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s) => s['@_name'])).toEqual([
      `${CLUSTER} (eu-west-1)`,
      'empty-cluster (us-east-1)',
    ]);
    expect(suites[0]!.testcase).toHaveLength(report.clusters[0]!.findings.length);
    expect(suites[1]!['@_tests']).toBe('0');
    expect(suites[0]!['@_timestamp']).toBe('2026-11-24T02:00:00');
    const d = drift[CLUSTER]!;
    expect(suites[0]!.properties.property).toEqual(
      expect.arrayContaining([
        { '@_name': 'status', '@_value': 'ERROR' },
        {
          '@_name': 'drift',
          '@_value': `${d.new.length} new, ${d.resolved.length} resolved, ${d.unchanged.length} unchanged`,
        },
      ]),
    );
  });

  it.each([
    ['FAIL', 'failure'],
    ['PASS', 'passed'],
    ['MUTED', 'skipped'],
  ] as const)('maps %s to %s', (status, outcome) => {
    expect(junitOutcome({ status, messageId: 'x' })).toBe(outcome);
  });

  it('maps a check that was not evaluated to skipped, and any other ERROR (collection, crash) to error', () => {
    expect(junitOutcome(notEvaluatedFinding())).toBe('skipped');
    expect(junitOutcome(collectionErrorFinding())).toBe('error');
    expect(junitOutcome({ status: 'ERROR', messageId: 'check-crashed' })).toBe('error');
  });

  it('writes FAIL as <failure> with the message, the fix and the finding id, and counts it', () => {
    const { report } = everyKindReport();
    const suite = parse(renderJunit(report)).testsuites.testsuite[0]!;
    const [fail] = byName(suite, 'token-ref-resolves golang/Pod/golang-app');
    expect(fail!['@_classname']).toBe(`${CLUSTER}.token-ref-resolves`);
    expect(fail!.failure!['@_type']).toBe('critical');
    expect(fail!.failure!['@_message']).toContain('references Secret golang/go-secrets');
    expect(fail!.failure!['#text']).toContain('Fix:\nIn the golang-app Deployment');
    expect(fail!.failure!['#text']).toContain('        name: golang-secrets');
    expect(fail!.failure!['#text']).toContain(report.clusters[0]!.findings[0]!.id);
    expect(suite).toMatchObject({ '@_failures': '2', '@_errors': '1', '@_skipped': '2' });
    expect(suite['@_tests']).toBe(String(suite.testcase.length));
  });

  it('writes MUTED and not-evaluated as <skipped> with the reason, PASS as a plain test case', () => {
    const { report } = everyKindReport();
    const suite = parse(renderJunit(report)).testsuites.testsuite[0]!;
    const muted = byName(suite, 'legacy/Deployment/old-app')[0]!;
    expect(muted.skipped).toEqual({
      '@_message':
        'muted: Legacy app retired in Q1 <2027> (until 2027-03-31, owner platform-team, from config)',
    });
    expect(muted.failure).toBeUndefined();
    const notEvaluated = byName(suite, 'externalsecret-synced')[0]!;
    expect(notEvaluated.skipped).toEqual({
      '@_message': `not evaluated: ${notEvaluatedFinding().message}`,
    });
    const collection = byName(suite, 'audit-collection')[0]!;
    expect(collection.error!['@_message']).toContain('HTTP 403 Forbidden');
    const pass = byName(suite, 'datadog/Pod/datadog-cluster-agent-6d9f')[0]!;
    expect(Object.keys(pass).sort()).toEqual(['@_classname', '@_name', '@_time']);
    expect(suite['system-err']).toContain('forbidden for the auditor');
    expect(mutedFinding().status).toBe('MUTED');
  });

  it('keeps test case names unique when one resource has several failure modes', () => {
    const { report } = everyKindReport();
    const c = report.clusters[0]!;
    const twice = { ...c.findings[0]!, id: 'token-ref-resolves:other', messageId: 'other-mode' };
    const doc = parse(renderJunit(auditReport([{ ...c, findings: [...c.findings, twice] }])));
    const names = doc.testsuites.testsuite[0]!.testcase.map((t) => t['@_name']);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('token-ref-resolves golang/Pod/golang-app (other-mode)');
  });

  it('escapes hostile names: the document stays well-formed and each name reads back made visible', () => {
    const hostile = auditReport([clusterReport(hostileFindings(), { name: 'hostile' })]);
    const xml = renderJunit(hostile);
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(xml).not.toContain('<script>');
    const suite = parse(xml).testsuites.testsuite[0]!;
    const names = suite.testcase.map((t) => t['@_name']);
    expect(names).toContain(`hostile-html ${HOSTILE.html.slice(0, 63)}/Pod/${HOSTILE.html}`);
    expect(names.some((n) => n.includes('pod-\\x1b[31mred'))).toBe(true);
    expect(names.some((n) => n.includes('admin\\u202egnp.exe'))).toBe(true);
  });

  it('replaces characters XML cannot carry (lone surrogates) instead of writing an unreadable file', () => {
    const c = clusterReport(hostileFindings().slice(0, 1), { name: 'surrogates' });
    c.findings[0] = { ...c.findings[0]!, message: 'half an emoji \ud83d here' };
    expect(() => parse(renderJunit(auditReport([c])))).not.toThrow();
    expect(renderJunit(auditReport([c]))).toContain('half an emoji \ufffd here');
  });

  it('renders the field-report audit: its two bugs are the two failures', async () => {
    const report = await runDemoAudit({ fixture: 'field-report' });
    const suite = parse(renderJunit(report)).testsuites.testsuite[0]!;
    const failures = suite.testcase.filter((t) => t.failure);
    expect(failures.map((t) => t['@_classname']).sort()).toEqual([
      'field-report.rbac-agent-contract',
      'field-report.token-ref-resolves',
    ]);
    expect(suite['@_failures']).toBe('2');
    expect(suite['@_tests']).toBe(String(report.clusters[0]!.findings.length));
  });
});
