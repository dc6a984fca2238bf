/**
 * Whole audits of the fixture clusters through the real Kubernetes client against the local test
 * API server, AWS through aws-sdk-client-mock: the findings each fixture must produce, and how the
 * audit behaves when the API server refuses or pages.
 */
import type { TestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { auditFixture as audit, failing, summary } from './support.js';

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

  it('finds nothing wrong in the injection-healthy cluster, and its injected sidecar is an agent everywhere', async () => {
    const c = await audit('injection-healthy');
    expect(summary(failing(c))).toEqual([]);
    expect(c.status).toBe('PASS');
    expect(c.setup?.kinds.map((k) => k.kind)).toEqual(['admission-injection']);
    const passed = (check: string) =>
      c.findings
        .filter((f) => f.checkId === check && f.status === 'PASS')
        .map((f) => `${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name}`);
    // The injected container flows through the shared agent and token models like a hand-written one.
    expect(passed('fargate-sidecar-mode')).toEqual(['Deployment golang/golang-app']);
    expect(passed('cluster-agent-url')).toContain('Deployment golang/golang-app');
    expect(passed('rbac-agent-contract')).toEqual(['ServiceAccount golang/golang-app']);
    expect(passed('token-consumers-match')).toContain('Secret golang/datadog-secret');
    expect(passed('injection-secret-ready')).toEqual(['Secret golang/datadog-secret']);
    expect(passed('injection-webhook-registered')).toEqual([
      'MutatingWebhookConfiguration /datadog-webhook',
    ]);
  });

  it('finds exactly the broken injection: second selector, missing sidecar webhook, a labelled pod without the agent, a skipped pod and its missing datadog-secret', async () => {
    const c = await audit('injection-broken');
    expect(summary(failing(c))).toEqual([
      'FAIL critical injection-secret-ready Secret payments/datadog-secret',
      'FAIL high injection-config-valid Deployment datadog/datadog-agent-cluster-agent',
      'FAIL high injection-pods-injected Deployment golang/golang-worker',
      'FAIL high injection-status-annotations Deployment payments/payments-api',
      'FAIL high injection-webhook-registered MutatingWebhookConfiguration /datadog-webhook',
    ]);
    const by = (id: string) => failing(c).find((f) => f.checkId === id)!;
    expect(by('injection-config-valid').messageId).toBe('too-many-selectors');
    expect(by('injection-config-valid').remediation).toContain(
      'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS',
    );
    expect(by('injection-webhook-registered').messageId).toBe('webhook-missing');
    expect(by('injection-pods-injected').message).toContain('golang-worker-5c8d7b9f4-q2vxm');
    expect(by('injection-pods-injected').remediation).toContain(
      'kubectl -n golang rollout restart deployment/golang-worker',
    );
    expect(by('injection-status-annotations').messageId).toBe('skipped:secret_not_found');
    expect(by('injection-secret-ready').messageId).toBe('missing');
    expect(by('injection-secret-ready').remediation).toContain('spec.target.name: datadog-secret');
    expect(c.setup?.summary).toContain('webhook OFF');
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
