/**
 * The Datadog Operator fixtures audited end to end: the real Kubernetes client against the local
 * test API server (DatadogAgents served as a CRD), AWS through aws-sdk-client-mock. The healthy
 * Operator install has no FAIL; a literal and a generated token each fail with the DatadogAgent
 * field to change; no token value reaches the report.
 */
import type { TestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { auditFixture as audit, failing, summary } from './support.js';

describe('Datadog Operator fixtures audited end to end', () => {
  it('finds nothing wrong in the healthy Operator install (token Secret with keyName cluster-agent-token)', async () => {
    let server: TestApiServer | undefined;
    const c = await audit('operator', { beforeAudit: (s) => void (server = s) });
    expect(summary(failing(c))).toEqual([]);
    expect(c.status).toBe('PASS');
    // Setup detection names the DatadogAgent that drives the install.
    expect(c.setup?.kinds.map((k) => k.detail)).toContain(
      'Datadog Operator (DatadogAgent datadog/datadog)',
    );
    // The API key Secret the DatadogAgent names is a key consumer, compared with Secrets Manager.
    const keyFinding = c.findings.find(
      (f) => f.checkId === 'datadog-keys-match' && f.resource.name === 'datadog-secrets',
    );
    expect(keyFinding).toBeDefined();
    expect(keyFinding!.message).toContain('DatadogAgent datadog/datadog');
    const passed = (id: string) =>
      c.findings.filter((f) => f.checkId === id && f.status === 'PASS').map((f) => f.resource);
    expect(passed('operator-token-not-literal')).toEqual([
      { kind: 'DatadogAgent', namespace: 'datadog', name: 'datadog' },
    ]);
    // The key the DatadogAgent names is compared with Secrets Manager, not an assumed "token".
    expect(
      c.findings.find(
        (f) => f.checkId === 'token-consumers-match' && f.resource.name === 'datadog-secrets',
      ),
    ).toMatchObject({ status: 'PASS', messageId: 'matches-source:cluster-agent-token' });
    // DatadogAgents are listed, never fetched one by one; their Secrets are read by name.
    const paths = server!.requests.map((r) => r.path);
    expect(paths).toContain('/apis/datadoghq.com/v2alpha1/datadogagents');
    expect(paths.filter((p) => p.includes('/datadogagents/'))).toEqual([]);
    expect(paths).toContain('/api/v1/namespaces/datadog/secrets/datadog-secrets');
  });

  it('fails a literal spec.global.clusterAgentToken (high) and the Secret the Operator copies it into (critical)', async () => {
    const c = await audit('operator-literal');
    expect(summary(failing(c))).toEqual([
      'FAIL critical token-consumers-match Secret datadog/datadog-token',
      'FAIL high operator-token-not-literal DatadogAgent datadog/datadog',
    ]);
    const literal = failing(c).find((f) => f.checkId === 'operator-token-not-literal')!;
    expect(literal.message).toContain('spec.global.clusterAgentToken');
    expect(literal.remediation).toContain(
      'remove spec.global.clusterAgentToken and set spec.global.clusterAgentTokenSecret: {secretName: datadog-secrets, keyName: cluster-agent-token}',
    );
    expect(literal.remediation).toContain('rotate');
    const mismatch = failing(c).find((f) => f.checkId === 'token-consumers-match')!;
    expect(mismatch.remediation).toContain('In DatadogAgent datadog/datadog');
    expect(c.status).toBe('FAIL');
  });

  it('fails the token the Operator generated into datadog-token like a chart-generated one', async () => {
    const c = await audit('operator-generated');
    expect(summary(failing(c))).toEqual([
      'FAIL critical token-consumers-match Secret datadog/datadog-token',
      'FAIL high token-not-chart-generated Secret datadog/datadog-token',
    ]);
    const generated = failing(c).find((f) => f.checkId === 'token-not-chart-generated')!;
    expect(generated.messageId).toBe('operator-generated:token');
    expect(generated.message).toContain('status.clusterAgent.generatedToken');
    expect(generated.remediation).toContain(
      'set spec.global.clusterAgentTokenSecret: {secretName: datadog-secrets, keyName: cluster-agent-token} (both fields)',
    );
  });

  it('records the DatadogAgent CRD as not installed on a Helm cluster, without an error', async () => {
    const c = await audit('healthy');
    expect(c.findings.filter((f) => f.checkId === 'audit-collection')).toEqual([]);
    expect(c.findings.filter((f) => f.checkId === 'operator-token-not-literal')).toEqual([]);
  });
});
