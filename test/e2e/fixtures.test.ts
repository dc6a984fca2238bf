/**
 * Whole audits of the fixture clusters through the real Kubernetes client against the local test
 * API server, AWS through aws-sdk-client-mock: the findings each fixture must produce, and how the
 * audit behaves when the API server refuses or pages.
 */
import type { Finding } from '../../lambda/findings.js';
import type { ClusterReport } from '../../lambda/report/types.js';
import type { TestApiServer } from '../support/kube-api-server.js';
import { runDemoAudit, type DemoOptions } from '../support/demo.js';

async function audit(fixture: string, opts: Partial<DemoOptions> = {}): Promise<ClusterReport> {
  const report = await runDemoAudit({ fixture, ...opts });
  expect(report.clusters).toHaveLength(1);
  return report.clusters[0]!;
}

const failing = (c: ClusterReport) => c.findings.filter((f) => f.status !== 'PASS');
const summary = (fs: Finding[]) =>
  fs
    .map(
      (f) =>
        `${f.status} ${f.severity} ${f.checkId} ${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name}`,
    )
    .sort();

describe('fixture clusters audited end to end', () => {
  it('finds nothing wrong in the healthy cluster (a FAIL there is a false positive)', async () => {
    const c = await audit('healthy');
    expect(summary(failing(c))).toEqual([]);
    expect(c.status).toBe('PASS');
    expect(c.findings.length).toBeGreaterThan(30);
  });

  it("finds exactly the field report's two bugs: the go-secrets reference and the missing endpoints permission", async () => {
    const c = await audit('field-report');
    expect(summary(failing(c))).toEqual([
      'FAIL critical token-ref-resolves Deployment golang/golang-app',
      'FAIL high rbac-agent-contract ServiceAccount golang/golang-app',
    ]);
    const dangling = failing(c).find((f) => f.checkId === 'token-ref-resolves')!;
    expect(dangling.message).toContain('"go-secrets"');
    expect(dangling.message).toContain('"golang-secrets"');
    const rbac = failing(c).find((f) => f.checkId === 'rbac-agent-contract')!;
    expect(rbac.message).toContain('endpoints');
    expect(rbac.remediation).toContain('kind: ClusterRoleBinding');
  });

  it('reports a rotated-but-not-synced token as a mismatch only for the stale namespace', async () => {
    const c = await audit('token-stale');
    const mismatches = failing(c).filter((f) => f.checkId === 'token-consumers-match');
    expect(summary(mismatches)).toEqual([
      'FAIL critical token-consumers-match Secret golang/golang-secrets',
    ]);
    expect(failing(c).every((f) => f.resource.namespace === 'golang')).toBe(true);
  });

  it('finds exactly the missing 5005 rule on the EC2 node group in the mixed EC2 + Fargate cluster', async () => {
    const c = await audit('mixed-ec2-fargate');
    const fails = failing(c);
    expect(fails).toHaveLength(1);
    expect(fails[0]).toMatchObject({ status: 'FAIL', checkId: 'mixed-cluster-node-sg' });
    expect(fails[0]!.message).toContain('5005');
    expect(fails[0]!.remediation).toContain('aws ec2 authorize-security-group-ingress');
  });

  it('collects every object when lists need many pages, with the same findings as one page', async () => {
    let server: TestApiServer | undefined;
    const paged = await audit('field-report', {
      config: { kubernetes: { pageSize: 2, secretConcurrency: 4, requestTimeoutMs: 15000 } },
      beforeAudit: (s) => {
        server = s;
      },
    });
    const podPages = server!.requests.filter((r) => r.path === '/api/v1/pods');
    expect(podPages.length).toBeGreaterThanOrEqual(3);
    expect(podPages.slice(1).every((r) => r.query.continue)).toBe(true);
    const whole = await audit('field-report');
    expect(summary(paged.findings)).toEqual(summary(whole.findings));
  });

  it('turns a 403 on one kind into an ERROR finding, marks what needed it not evaluated, and runs the rest', async () => {
    const c = await audit('field-report', {
      beforeAudit: (s) =>
        s.inject({ prefix: '/apis/rbac.authorization.k8s.io/v1/rolebindings', status: 403 }),
    });
    const collection = c.findings.filter((f) => f.checkId === 'audit-collection');
    expect(collection).toHaveLength(1);
    expect(collection[0]).toMatchObject({
      status: 'ERROR',
      resource: { kind: 'rolebindings.rbac.authorization.k8s.io' },
    });
    expect(collection[0]!.message).toContain('field-report');
    expect(collection[0]!.message).toContain('403');
    const notEvaluated = c.findings
      .filter((f) => f.messageId === 'not-evaluated')
      .map((f) => f.checkId);
    expect(notEvaluated).toEqual(expect.arrayContaining(['rbac-agent-contract']));
    expect(c.findings.some((f) => f.checkId === 'token-ref-resolves' && f.status === 'FAIL')).toBe(
      true,
    );
    expect(c.status).toBe('ERROR');
  });

  it('records CRDs that are not installed as facts, not errors', async () => {
    const c = await audit('healthy', {
      beforeAudit: (s) => s.inject({ prefix: '/apis/vpcresources.k8s.aws', status: 404 }),
    });
    expect(c.findings.filter((f) => f.checkId === 'audit-collection')).toEqual([]);
    expect(c.errors).toEqual([]);
  });
});
