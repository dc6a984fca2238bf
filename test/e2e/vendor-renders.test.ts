/**
 * The vendors' own renders audited end to end, as a new user would meet them: the Datadog
 * Operator's golden render of its `minimal-dda.yaml` and the Datadog Helm chart's baseline with
 * admission-controller sidecar injection (provider fargate), both unchanged under ../shared/vendor/ (test/support/vendored.ts)
 * (sources in test/fixtures/README.md), made live by test/support/vendor-renders.ts and served by
 * the test API server to the real client. A vendor's render of a supported version fails only for
 * its known gaps, each with the fix in the owner's own terms.
 */
import type { TestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { loadManifests } from '../support/snapshot-builder.js';
import { join } from 'node:path';
import {
  HELM_GENERATED_TOKEN,
  helmBaselineCluster,
  loadVendored,
  operatorGoldenCluster,
  VENDOR_DIR,
  VENDORED,
  withReleaseProfile,
} from '../support/vendor-renders.js';
import { describeVendored } from '../support/vendored.js';
import { auditFixture, failing, findingsOf, summary } from './support.js';

describeVendored(
  "the Datadog Operator's golden render (minimal-dda.yaml) on a Fargate-only cluster",
  () => {
    it('fails only for the literal clusterAgentToken of its test data, with the DatadogAgent field as the fix', async () => {
      let server: TestApiServer | undefined;
      const c = await auditFixture('healthy', {
        manifests: () => operatorGoldenCluster(),
        beforeAudit: (s) => void (server = s),
      });
      // The real client listed DatadogAgents where the vendored CRD serves them.
      const crd = loadVendored('operatorCrd')[0]!;
      const served = crd.spec.versions.find((v: { name: string }) => v.name === 'v2alpha1');
      expect(served).toMatchObject({ served: true, storage: true });
      expect(server!.requests.map((r) => r.path)).toContain(
        `/apis/${crd.spec.group}/v2alpha1/${crd.spec.names.plural}`,
      );
      expect(summary(failing(c))).toEqual([
        'FAIL critical token-consumers-match Secret datadog/datadog-agent-token',
        'FAIL high operator-token-not-literal DatadogAgent datadog/datadog-agent',
      ]);
      const literal = failing(c).find((f) => f.checkId === 'operator-token-not-literal')!;
      expect(literal.remediation).toContain('spec.global.clusterAgentTokenSecret');
      const mismatch = failing(c).find((f) => f.checkId === 'token-consumers-match')!;
      expect(mismatch.remediation).toContain('In DatadogAgent datadog/datadog-agent');
      expect(mismatch.remediation).not.toMatch(/hand-made|kubectl apply/);
    });

    it("passes the Cluster Agent's RBAC as the Operator renders it (no create on events)", async () => {
      const c = await auditFixture('healthy', { manifests: () => operatorGoldenCluster() });
      const [ca] = findingsOf(c, 'rbac-cluster-agent-contract', 'datadog-agent-cluster-agent');
      expect(ca).toMatchObject({ status: 'PASS', messageId: 'contract-met' });
      expect(ca!.message).toContain('the Datadog Operator');
    });

    it('describes the node agent DaemonSet that has no pods without calling it "EC2 nodes"', async () => {
      const c = await auditFixture('healthy', { manifests: () => operatorGoldenCluster() });
      const details = c.setup!.kinds.map((k) => k.detail);
      expect(details).toContain('Datadog Operator (DatadogAgent datadog/datadog-agent)');
      const ds = details.find((d) => d.includes('datadog/datadog-agent-agent'));
      expect(ds).toBeDefined();
      expect(ds).not.toContain('(EC2 nodes)');
      expect(ds).not.toMatch(/on EC2 nodes/);
      expect(ds).toBe(
        'agent DaemonSet datadog/datadog-agent-agent (no pods: no EC2 nodes, and Fargate runs no DaemonSet pods)',
      );
    });

    it('keeps the vendored files as the Operator wrote them (namespace empty, literal token)', () => {
      const golden = loadManifests(
        join(VENDOR_DIR, VENDORED.operatorMinimalGolden.repo, VENDORED.operatorMinimalGolden.path),
      );
      expect(golden.every((d) => d.metadata?.namespace === undefined)).toBe(true);
      const crd = loadManifests(
        join(VENDOR_DIR, VENDORED.operatorCrd.repo, VENDORED.operatorCrd.path),
      )[0]!;
      // The test API server serves DatadogAgents as the CRD declares them.
      expect(crd.spec.names).toMatchObject({ kind: 'DatadogAgent', plural: 'datadogagents' });
      expect(crd.spec.scope).toBe('Namespaced');
      expect(
        crd.spec.versions
          .filter((v: { served: boolean }) => v.served)
          .map((v: { name: string }) => v.name),
      ).toContain('v2alpha1');
    });
  },
);

describeVendored('RBAC fixes on roles an installer owns', () => {
  /** The golden render with its Cluster Agent ClusterRole lacking EndpointSlices (an older Operator's render). */
  const withoutEndpointSlices = () =>
    operatorGoldenCluster().map((d) =>
      d.kind === 'ClusterRole' && d.metadata.name === 'datadog-agent-cluster-agent'
        ? {
            ...d,
            rules: d.rules.filter(
              (r: { apiGroups?: string[] }) => !r.apiGroups?.includes('discovery.k8s.io'),
            ),
          }
        : d,
    );

  it('names the DatadogAgent, never a hand edit of the ClusterRole the Operator renders', async () => {
    const c = await auditFixture('healthy', { manifests: withoutEndpointSlices });
    const [fail] = findingsOf(c, 'rbac-cluster-agent-contract', 'datadog-agent-cluster-agent');
    expect(fail).toMatchObject({
      status: 'FAIL',
      messageId: 'missing:endpointslices.discovery.k8s.io',
    });
    // The rule names where it comes from.
    expect(fail!.message).toContain(
      'DataDog/datadog-operator internal/controller/datadogagent/component/clusteragent/rbac.go@55db531',
    );
    expect(fail!.remediation).toContain('DatadogAgent datadog/datadog-agent');
    expect(fail!.remediation).toContain('spec.override.clusterAgent.createRbac');
    // No YAML that rewrites the Operator's own ClusterRole.
    expect(fail!.remediation).not.toMatch(/name: datadog-agent-cluster-agent\nrules:/);
  });
});

describeVendored(
  "the Datadog Helm chart's baseline with admission-controller sidecar injection (provider fargate)",
  () => {
    const audit = () =>
      auditFixture('injection-healthy', {
        manifests: () => helmBaselineCluster(),
        aws: withReleaseProfile,
      });

    it("fails only for the chart's gaps: its generated token and the MISSING API key, each fixed with the Helm value", async () => {
      const c = await audit();
      expect(summary(failing(c))).toEqual([
        'FAIL critical datadog-keys-match Secret datadog-agent/datadog',
        'FAIL critical token-consumers-match Secret datadog-agent/datadog-cluster-agent',
        'FAIL high token-not-chart-generated Secret datadog-agent/datadog-cluster-agent',
      ]);
      expect(JSON.stringify(c)).not.toContain(HELM_GENERATED_TOKEN);
      const generated = failing(c).find((f) => f.checkId === 'token-not-chart-generated')!;
      expect(generated.remediation).toContain('clusterAgent.tokenExistingSecret');
      const key = failing(c).find((f) => f.checkId === 'datadog-keys-match')!;
      expect(key.remediation).toContain('datadog.apiKeyExistingSecret');
      expect(key.remediation).not.toContain('instead of by hand');
      expect(key.message).toContain('placeholder "MISSING"');
    });

    it('fixes the Helm-managed token Secret with the Helm value, never by deleting a "hand-made" Secret', async () => {
      const c = await audit();
      const [mismatch] = findingsOf(c, 'token-consumers-match', 'datadog-cluster-agent');
      expect(mismatch!.status).toBe('FAIL');
      expect(mismatch!.remediation).not.toContain('hand-made');
      expect(mismatch!.remediation).toContain('clusterAgent.tokenExistingSecret');
      expect(mismatch!.message).toContain('Helm');
    });

    it("passes the chart's Cluster Agent RBAC and the injection it configures", async () => {
      const c = await audit();
      const status = (id: string) =>
        c.findings.filter((f) => f.checkId === id).map((f) => `${f.status} ${f.resource.name}`);
      expect(status('rbac-cluster-agent-contract')).toEqual(['PASS datadog-cluster-agent']);
      expect(status('injection-config-valid')).toEqual(['PASS datadog-cluster-agent']);
      expect(c.setup!.summary).toContain(
        'admission-controller sidecar injection (provider fargate, webhook on): 1 pod injected',
      );
    });
  },
);
