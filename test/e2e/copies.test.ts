/**
 * The copies-broken fixture audited through the real Kubernetes client and the test API server
 * (AWS through aws-sdk-client-mock): every way a copy of the token or a Datadog key stops
 * following Secrets Manager comes out as a FAIL with its fix.
 */
import type { Finding } from '../../lambda/config/findings.js';
import type { ClusterReport } from '../../lambda/report/types.js';
import { runDemoAudit } from '../../lambda/run/demo/demo.js';

const failing = (c: ClusterReport) => c.findings.filter((f) => f.status === 'FAIL');
const line = (f: Finding) =>
  `${f.severity} ${f.checkId} ${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name} ${f.messageId}`;

describe('copies-broken audited end to end', () => {
  let c: ClusterReport;
  beforeAll(async () => {
    const report = await runDemoAudit({ fixture: 'copies-broken' });
    c = report.clusters[0]!;
  }, 120_000);

  it('fails exactly the broken copies, each once', () => {
    expect(failing(c).map(line).sort()).toEqual([
      'critical datadog-keys-match Secret golang/golang-secrets mismatch:datadog_api_key',
      'high clusterexternalsecret-coverage ClusterExternalSecret /datadog-secret failed:payments',
      'high clusterexternalsecret-coverage ClusterExternalSecret /datadog-secret not-selected:billing',
      'high copy-follows-source Secret golang/golang-secrets pinned-version:datadog_api_key',
      'high copy-follows-source Secret shop/datadog-secret orphan-target:api-key',
      'high copy-follows-source Secret shop/datadog-secret orphan-target:token',
      'high dd-site-consistent Deployment golang/golang-app site-mismatch:datadog-agent',
      'high secret-second-writer PushSecret datadog/datadog-token-backup pushes-into-source:token',
    ]);
  });

  const find = (checkId: string, messageId: string) =>
    failing(c).find((f) => f.checkId === checkId && f.messageId === messageId)!;

  it('names the ClusterExternalSecret, the namespace, the reason and the fix', () => {
    const failed = find('clusterexternalsecret-coverage', 'failed:payments');
    expect(failed.message).toContain(
      'ClusterExternalSecret datadog-secret failed in namespace payments: could not create or update ExternalSecret',
    );
    expect(failed.remediation).toContain('kubectl annotate clusterexternalsecret datadog-secret');
    const unselected = find('clusterexternalsecret-coverage', 'not-selected:billing');
    expect(unselected.remediation).toContain(
      'kubectl label namespace billing datadog.example.com/agents=true',
    );
  });

  it('resolves the kubernetes-provider chain to Secrets Manager', () => {
    const orphan = find('copy-follows-source', 'orphan-target:token');
    expect(orphan.message).toContain(
      'Secrets Manager datadog/cluster-agent-token -> Secret datadog/datadog-secrets key "token" -> Secret shop/datadog-secret key "token"',
    );
    expect(orphan.message).toContain('child of ClusterExternalSecret datadog-secret');
    expect(orphan.remediation).toContain(
      'Set spec.target.creationPolicy: Owner in spec.externalSecretSpec of ClusterExternalSecret datadog-secret',
    );
    const matched = c.findings.find(
      (f) => f.checkId === 'token-consumers-match' && f.resource.namespace === 'shop',
    )!;
    expect(matched.status).toBe('PASS');
  });

  it('gives the exact edit for the pinned version and the API key drift', () => {
    const pinned = find('copy-follows-source', 'pinned-version:datadog_api_key');
    expect(pinned.remediation).toContain(
      'Remove remoteRef.version "AWSPREVIOUS" from the data[] entry with remoteRef.key datadog/apikey in ExternalSecret golang/golang-secrets',
    );
    const drift = find('datadog-keys-match', 'mismatch:datadog_api_key');
    expect(drift.message).toContain('API Key invalid');
    expect(drift.remediation).toContain('kubectl -n golang annotate externalsecret golang-secrets');
  });

  it('names both writers of the token secret and the DD_SITE to set', () => {
    const push = find('secret-second-writer', 'pushes-into-source:token');
    expect(push.message).toContain(
      'PushSecret datadog/datadog-token-backup pushes key "token" of Secret datadog/datadog-secrets into datadog/cluster-agent-token',
    );
    expect(push.remediation).toContain('kubectl -n datadog delete pushsecret datadog-token-backup');
    const site = find('dd-site-consistent', 'site-mismatch:datadog-agent');
    expect(site.remediation).toContain(
      'Set DD_SITE=datadoghq.com on container datadog-agent of Deployment golang/golang-app',
    );
  });

  it('reports the token rotation settings in the token-source finding', () => {
    const source = c.findings.find((f) => f.checkId === 'token-source')!;
    expect(source.message).toContain('Rotation: off');
  });
});

describe('copies-healthy audited end to end', () => {
  it('finds nothing wrong in a ClusterExternalSecret fan-out through a chain (a FAIL there is a false positive)', async () => {
    const report = await runDemoAudit({ fixture: 'copies-healthy' });
    const c = report.clusters[0]!;
    expect(failing(c).map(line)).toEqual([]);
    const coverage = c.findings.filter((f) => f.checkId === 'clusterexternalsecret-coverage');
    expect(coverage.map((f) => `${f.status} ${f.messageId}`).sort()).toEqual([
      'PASS provisioned:billing',
      'PASS provisioned:payments',
      'PASS provisioned:shop',
    ]);
    expect(
      c.findings
        .filter((f) => f.checkId === 'datadog-keys-match')
        .every((f) => f.status === 'PASS'),
    ).toBe(true);
  }, 120_000);
});
