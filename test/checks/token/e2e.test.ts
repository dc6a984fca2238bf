/**
 * The token and ExternalSecret checks end to end: the fixture served by the local test API server,
 * read by the real Kubernetes client and collector, Secrets Manager answered from the fixture's
 * aws.json by aws-sdk-client-mock. Pins every non-PASS result of these checks per fixture.
 */
import type { Finding } from '../../../lambda/config/findings.js';
import { runDemoAudit } from '../../../lambda/run/demo/demo.js';
import { CANARY, TOKEN_CHECKS } from './support.js';

async function audit(fixture: string): Promise<Finding[]> {
  const report = await runDemoAudit({ fixture, checks: TOKEN_CHECKS });
  return report.clusters[0]!.findings;
}

const notPassing = (fs: Finding[]) =>
  fs
    .filter((f) => f.status !== 'PASS')
    .map(
      (f) =>
        `${f.checkId} ${f.severity} ${f.messageId} ${f.resource.namespace ?? ''}/${f.resource.name}`,
    );

describe('token checks through the real collector', () => {
  it('pass everything in the healthy cluster, including the token read from Secrets Manager', async () => {
    const findings = await audit('healthy');
    expect(notPassing(findings)).toEqual([]);
    expect(findings.filter((f) => f.checkId === 'token-source').map((f) => f.messageId)).toEqual([
      'valid',
    ]);
  });

  it('find only the dangling go-secrets reference in the field report cluster', async () => {
    expect(notPassing(await audit('field-report'))).toEqual([
      'token-ref-resolves critical missing-secret:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN golang/golang-app',
    ]);
  });

  it('find the stale namespace after a rotation, past the sync grace, and nothing elsewhere', async () => {
    const findings = await audit('token-stale');
    expect(notPassing(findings)).toEqual([
      'token-consumers-match critical mismatch:token golang/golang-secrets',
      'externalsecret-synced high not-ready golang/golang-secrets',
      'externalsecret-fresh medium stale golang/golang-secrets',
    ]);
    const text = JSON.stringify(findings);
    for (const canary of Object.values(CANARY)) expect(text).not.toContain(canary);
  });
});
