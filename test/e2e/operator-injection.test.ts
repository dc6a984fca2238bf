/**
 * The Datadog Operator with admission-controller sidecar injection, audited end to end: the real
 * Kubernetes client against the local test API server, AWS through aws-sdk-client-mock. The
 * auditor follows what the Cluster Agent's env says (the selector and the profile the Operator
 * rendered from the DatadogAgent), not the Helm chart's defaults: the injected sidecar reads Secret
 * datadog-secrets (keys api-key, cluster-agent-token) because the profile says so.
 */
import type { ClusterReport } from '../../lambda/report/types.js';
import type { TestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { auditFixture as audit, failing, summary, findingsOf as find } from './support.js';

describe('the Datadog Operator with sidecar injection (fixture operator-injection)', () => {
  let server: TestApiServer | undefined;
  let c: ClusterReport;
  beforeAll(async () => {
    c = await audit('operator-injection', { beforeAudit: (s) => void (server = s) });
  });

  it('has zero FAIL and reports the Operator and the injection setup', () => {
    expect(summary(failing(c))).toEqual([]);
    expect(c.status).toBe('PASS');
    expect(c.setup?.summary).toBe(
      'Cluster Agent datadog/datadog-cluster-agent; Datadog Operator (DatadogAgent datadog/datadog); admission-controller sidecar injection (provider fargate, webhook on): 1 pod injected, 0 waiting',
    );
  });

  it("reads the injection settings from the Cluster Agent's env as the Operator renders them", () => {
    expect(find(c, 'injection-config-valid', 'datadog-cluster-agent')).toEqual([
      expect.objectContaining({ status: 'PASS' }),
    ]);
    // The Cluster Agent wrote datadog-webhook with the sidecar webhook on the Operator's Service.
    expect(find(c, 'injection-webhook-registered', 'datadog-webhook')).toEqual([
      expect.objectContaining({ status: 'PASS' }),
    ]);
    // The URL the webhook builds uses the Operator's Service name datadog-cluster-agent.
    expect(find(c, 'injection-sidecar-url', 'datadog-cluster-agent')).toEqual([
      expect.objectContaining({ status: 'PASS' }),
    ]);
    // The DatadogAgent's selector (release golang in namespace golang), not the default label.
    expect(find(c, 'injection-pods-injected', 'golang-app')).toEqual([
      expect.objectContaining({ status: 'PASS' }),
    ]);
  });

  it('follows the profile to Secret datadog-secrets, never assuming datadog-secret', () => {
    expect(find(c, 'injection-secret-ready', 'datadog-secrets')).toEqual([
      expect.objectContaining({
        status: 'PASS',
        resource: expect.objectContaining({ namespace: 'golang' }),
      }),
    ]);
    expect(c.findings.filter((f) => f.resource.name === 'datadog-secret')).toEqual([]);
    // The injected sidecar's token key is a copy compared with Secrets Manager.
    expect(
      find(c, 'token-consumers-match', 'datadog-secrets').filter(
        (f) => f.resource.namespace === 'golang',
      ),
    ).toEqual([
      expect.objectContaining({ status: 'PASS', messageId: 'matches-source:cluster-agent-token' }),
    ]);
    // The injected container is an agent for the RBAC contract of the pod's ServiceAccount.
    expect(find(c, 'rbac-agent-contract', 'golang-app')).toEqual([
      expect.objectContaining({ status: 'PASS' }),
    ]);
    const paths = server!.requests.map((r) => r.path);
    expect(paths).toContain('/api/v1/namespaces/golang/secrets/datadog-secrets');
    // Secrets are read by name only, never listed.
    expect(paths.filter((p) => /\/secrets(\?|$)/.test(p))).toEqual([]);
  });
});

describe('the Datadog Operator with broken sidecar injection (fixture operator-injection-broken)', () => {
  let c: ClusterReport;
  beforeAll(async () => {
    c = await audit('operator-injection-broken');
  });

  it('finds the three breakages at once, and nothing else', () => {
    expect(summary(failing(c))).toEqual([
      'FAIL critical token-consumers-match Secret payments/datadog-secrets',
      'FAIL high cluster-agent-url Deployment golang/golang-app',
      'FAIL high cluster-agent-url Deployment payments/payments-api',
      'FAIL high injection-pods-injected Deployment golang/golang-worker',
      'FAIL high injection-sidecar-url Deployment datadog/datadog-cluster-agent',
      'FAIL medium injection-secret-ready Secret payments/datadog-secrets',
    ]);
    expect(c.setup?.summary).toContain('2 pods injected, 1 waiting');
  });

  it('compares the hand-made Secret the profile names like any copy of the token', () => {
    const mismatch = failing(c).find((f) => f.checkId === 'token-consumers-match')!;
    expect(mismatch.message).toContain('key "cluster-agent-token"');
    expect(mismatch.message).toContain('403');
    expect(mismatch.remediation).toContain(
      'kubectl -n payments rollout restart deployment/payments-api',
    );
    const ready = failing(c).find((f) => f.checkId === 'injection-secret-ready')!;
    expect(ready.messageId).toBe('not-managed');
    expect(ready.remediation).toContain('spec.target.name: datadog-secrets');
  });

  it("names the profile's Helm-era URL and the pod created while the webhook was unreachable", () => {
    const url = failing(c).find((f) => f.checkId === 'injection-sidecar-url')!;
    expect(url.message).toContain(
      'https://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005',
    );
    expect(url.message).toContain('profile override of DD_CLUSTER_AGENT_URL');
    // The Operator owns the Cluster Agent's env: the fix names the DatadogAgent field, not Helm.
    expect(url.remediation).toContain(
      'DatadogAgent datadog/datadog: spec.features.admissionController.agentSidecarInjection.profiles[0].env',
    );
    expect(url.remediation).toContain(
      'https://datadog-cluster-agent.datadog.svc.cluster.local:5005',
    );
    expect(url.remediation).not.toContain('Helm');
    const worker = failing(c).find((f) => f.checkId === 'injection-pods-injected')!;
    expect(worker.message).toContain('kubernetes.io/metadata.name In (golang, payments)');
    expect(worker.message).toContain('failurePolicy Ignore');
    expect(worker.remediation).toContain(
      'kubectl -n golang rollout restart deployment/golang-worker',
    );
  });
});
