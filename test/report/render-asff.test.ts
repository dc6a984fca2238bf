import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { diffReports } from '../../lambda/report/diff.js';
import {
  ASFF_LIMITS,
  asffFindings,
  productArn,
  renderAsff,
  toAsff,
  type AsffContext,
} from '../../lambda/report/render-asff.js';
import { renderReport } from '../../lambda/report/index.js';
import {
  auditReport,
  clusterReport,
  CONTROL_CHARS,
  fieldReportFindings,
  finding,
  FINISHED,
  hostileFindings,
  STARTED,
} from './support.js';

const CTX: AsffContext = { accountId: '123456789012', region: 'eu-west-1' };

/** Required top-level attributes of an ASFF finding (Security Hub user guide, "ASFF syntax"). */
const REQUIRED = [
  'AwsAccountId',
  'CreatedAt',
  'Description',
  'GeneratorId',
  'Id',
  'ProductArn',
  'Resources',
  'SchemaVersion',
  'Severity',
  'Title',
  'Types',
  'UpdatedAt',
] as const;

const TYPE_NAMESPACES = [
  'Software and Configuration Checks',
  'TTPs',
  'Effects',
  'Unusual Behaviors',
  'Sensitive Data Identifications',
];

function expectValidAsff(f: AwsSecurityFinding): void {
  for (const key of REQUIRED) expect(f[key]).toBeDefined();
  expect(f.SchemaVersion).toBe('2018-10-08');
  expect(Array.from(f.Title!).length).toBeLessThanOrEqual(ASFF_LIMITS.title);
  expect(Array.from(f.Description!).length).toBeLessThanOrEqual(ASFF_LIMITS.description);
  expect(Array.from(f.Remediation!.Recommendation!.Text!).length).toBeLessThanOrEqual(
    ASFF_LIMITS.recommendation,
  );
  expect(Array.from(f.Id!).length).toBeLessThanOrEqual(ASFF_LIMITS.id);
  for (const t of f.Types!) {
    const parts = t.split('/');
    expect(parts.length).toBeLessThanOrEqual(3);
    expect(TYPE_NAMESPACES).toContain(parts[0]);
  }
  expect(f.Resources!.length).toBeGreaterThan(0);
  expect(f.Resources!.length).toBeLessThanOrEqual(32);
  expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThan(240 * 1024);
  expect(Object.keys(f.ProductFields ?? {}).length).toBeLessThanOrEqual(50);
}

describe('ASFF renderer', () => {
  it('renders FAIL findings as active, failed ASFF findings of the default product', () => {
    const report = auditReport([clusterReport(fieldReportFindings())]);
    const out = asffFindings(report, CTX);
    expect(out).toHaveLength(2);
    for (const f of out) expectValidAsff(f);
    const [first] = out;
    expect(first).toMatchObject({
      ProductArn: 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default',
      AwsAccountId: '123456789012',
      GeneratorId: 'token-ref-resolves',
      Severity: { Label: 'CRITICAL' },
      Compliance: { Status: 'FAILED' },
      RecordState: 'ACTIVE',
      Workflow: { Status: 'NEW' },
      CreatedAt: STARTED,
      UpdatedAt: FINISHED,
    });
    expect(first!.Id).toMatch(
      /^123456789012\/eu-west-1\/golang-cluster\/token-ref-resolves:[0-9a-f]{16}$/,
    );
    expect(first!.Resources![0]).toMatchObject({
      Type: 'AwsEksCluster',
      Id: 'arn:aws:eks:eu-west-1:123456789012:cluster/golang-cluster',
    });
    expect(first!.Resources![1]).toMatchObject({
      Type: 'Other',
      Details: {
        Other: { kind: 'Pod', namespace: 'golang', name: 'golang-app', cluster: 'golang-cluster' },
      },
    });
  });

  it('gives the same Id to the same finding in two runs and a different one per cluster region', () => {
    const a = asffFindings(auditReport([clusterReport(fieldReportFindings())]), CTX);
    const b = asffFindings(auditReport([clusterReport(fieldReportFindings())]), CTX);
    expect(a.map((f) => f.Id)).toEqual(b.map((f) => f.Id));
    const other = asffFindings(
      auditReport([clusterReport(fieldReportFindings(), { region: 'us-east-1' })]),
      CTX,
    );
    expect(other[0]!.Id).toContain('/us-east-1/');
    // The product is Security Hub's region, not the cluster's.
    expect(other[0]!.ProductArn).toBe(productArn(CTX));
  });

  it.each([
    ['critical', 'CRITICAL'],
    ['high', 'HIGH'],
    ['medium', 'MEDIUM'],
    ['low', 'LOW'],
    ['info', 'INFORMATIONAL'],
  ] as const)('maps severity %s to the label %s', (severity, label) => {
    const f = toAsff(finding({ severity }), clusterReport([]), CTX);
    expect(f.Severity?.Label).toBe(label);
    expect(f.FindingProviderFields?.Severity?.Label).toBe(label);
  });

  it('leaves PASS and ERROR findings out', () => {
    const report = auditReport([
      clusterReport([
        finding({ status: 'PASS', messageId: 'ok' }),
        finding({ status: 'ERROR', messageId: 'not-evaluated' }),
      ]),
    ]);
    expect(asffFindings(report, CTX)).toEqual([]);
  });

  it('imports a MUTED finding as suppressed with a note and the suppression in ProductFields', () => {
    const muted = {
      ...finding(),
      status: 'MUTED' as const,
      suppression: {
        reason: 'migration to ESO in progress',
        expires: '2027-01-31',
        owner: 'platform-team',
        source: 'config' as const,
      },
    };
    const f = toAsff(muted, clusterReport([muted]), CTX);
    expectValidAsff(f);
    expect(f.Workflow?.Status).toBe('SUPPRESSED');
    expect(f.RecordState).toBe('ACTIVE');
    expect(f.Compliance?.Status).toBe('FAILED');
    expect(f.Note?.Text).toBe(
      'Muted until 2027-01-31 by platform-team (config): migration to ESO in progress',
    );
    expect(f.ProductFields).toMatchObject({
      'eks-datadog-auditor/status': 'MUTED',
      'eks-datadog-auditor/suppression/reason': 'migration to ESO in progress',
      'eks-datadog-auditor/suppression/expires': '2027-01-31',
    });
  });

  it('archives resolved findings with compliance PASSED', () => {
    const broken = fieldReportFindings();
    const previous = clusterReport(broken);
    const fixedFindings = broken.map((f) =>
      f.checkId === 'rbac-agent-permissions' ? { ...f, status: 'PASS' as const } : f,
    );
    const current = clusterReport(fixedFindings);
    const drift = diffReports(current, previous);
    const out = asffFindings(auditReport([current]), CTX, { [current.name]: drift });
    const archived = out.filter((f) => f.RecordState === 'ARCHIVED');
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatchObject({
      GeneratorId: 'rbac-agent-permissions',
      Compliance: { Status: 'PASSED' },
      ProductFields: expect.objectContaining({ 'eks-datadog-auditor/status': 'RESOLVED' }),
    });
    expect(archived[0]!.Workflow).toBeUndefined();
    expect(archived[0]!.Id).toBe(
      asffFindings(auditReport([previous]), CTX).find(
        (f) => f.GeneratorId === 'rbac-agent-permissions',
      )!.Id,
    );
    expectValidAsff(archived[0]!);
  });

  it('cuts long texts to the ASFF limits', () => {
    const long = finding({
      message: 'm'.repeat(5000),
      remediation: 'r'.repeat(5000),
      resource: { kind: 'Pod', namespace: 'ns', name: 'n'.repeat(600) },
    });
    const f = toAsff(long, clusterReport([long]), CTX);
    expectValidAsff(f);
    expect(f.Description!.endsWith('\u2026')).toBe(true);
  });

  it('neutralises hostile names and messages in every field', () => {
    const report = auditReport([clusterReport(hostileFindings())]);
    const out = asffFindings(report, CTX);
    expect(out).toHaveLength(hostileFindings().length);
    for (const f of out) {
      expectValidAsff(f);
      const strings: string[] = [];
      JSON.stringify(f, (_k, v: unknown) => {
        if (typeof v === 'string') strings.push(v);
        return v;
      });
      for (const s of strings) expect(s).not.toMatch(CONTROL_CHARS);
    }
  });

  it('renders a JSON array for --format asff through renderReport', () => {
    const report = auditReport([clusterReport(fieldReportFindings())]);
    const text = renderReport(report, 'asff', { asff: CTX });
    expect(text).toBe(renderAsff(report, CTX));
    expect(JSON.parse(text)).toHaveLength(2);
    expect(() => renderReport(report, 'asff')).toThrow(/account/);
  });
});
