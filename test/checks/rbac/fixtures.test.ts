/**
 * The wiring and RBAC checks on the shared fixture clusters: from manifests with the snapshot
 * builder, and end to end through the test API server with the real client and collector.
 */
import { join } from 'node:path';
import type { Check } from '../../../lambda/checks/check.js';
import { rbacAgentContract } from '../../../lambda/checks/rbac/rbac-agent-contract.js';
import { rbacAgentExcess } from '../../../lambda/checks/rbac/rbac-agent-excess.js';
import { rbacClusterAgentContract } from '../../../lambda/checks/rbac/rbac-cluster-agent-contract.js';
import { runChecks } from '../../../lambda/checks/runner.js';
import { clusterAgentUrl } from '../../../lambda/checks/wiring/cluster-agent-url.js';
import { fargateSidecarMode } from '../../../lambda/checks/wiring/fargate-sidecar-mode.js';
import type { Finding } from '../../../lambda/config/findings.js';
import { createKubePort } from '../../../lambda/collect/kube/client.js';
import { collectKube } from '../../../lambda/collect/kube/collect.js';
import type { ClusterSnapshot } from '../../../lambda/snapshot/snapshot.js';
import { startTestApiServer } from '../../../lambda/run/demo/kube-api-server.js';
import {
  DEFAULT_COLLECTED_AT,
  DEFAULT_SETTINGS,
  emptyAws,
  FIXTURES_DIR,
  fixtureSnapshot,
  loadManifests,
} from '../../support/snapshot-builder.js';
import { OPTIONS, tokenAccess } from '../../kube/support.js';

const CHECKS: Check[] = [
  fargateSidecarMode,
  clusterAgentUrl,
  rbacAgentContract,
  rbacClusterAgentContract,
  rbacAgentExcess,
];

const failures = (findings: Finding[]) =>
  findings
    .filter((f) => f.status !== 'PASS' && CHECKS.some((c) => c.id === f.checkId))
    .map(
      (f) => `${f.checkId} ${f.status} ${f.resource.namespace}/${f.resource.name} ${f.messageId}`,
    );

/** Collects a fixture cluster through the real client from the test API server. */
async function collectedSnapshot(name: string): Promise<ClusterSnapshot> {
  const server = await startTestApiServer({ manifests: loadManifests(join(FIXTURES_DIR, name)) });
  const port = createKubePort(tokenAccess(server), OPTIONS);
  try {
    const kube = await collectKube(port, DEFAULT_SETTINGS, OPTIONS);
    return {
      schemaVersion: 1,
      cluster: { name, region: 'eu-west-1', access: 'demo' },
      collectedAt: DEFAULT_COLLECTED_AT,
      settings: DEFAULT_SETTINGS,
      kube,
      aws: emptyAws(),
      stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
    };
  } finally {
    await port.close();
    await server.close();
  }
}

describe.each([
  ['from manifests', async (name: string) => fixtureSnapshot(name)],
  ['through the test API server', collectedSnapshot],
])('wiring and RBAC checks on the fixture clusters, %s', (_how, load) => {
  it("field-report: reports only the missing endpoints permission of the app's ServiceAccount", async () => {
    const findings = runChecks(await load('field-report'), CHECKS);
    expect(failures(findings)).toEqual([
      'rbac-agent-contract FAIL golang/golang-app missing:endpoints',
    ]);
    const fail = findings.find((f) => f.messageId === 'missing:endpoints')!;
    expect(fail.severity).toBe('high');
    expect(fail.message).toContain('ServiceAccount golang/golang-app');
    expect(fail.message).toContain('"get", "list" on endpoints in every namespace');
    expect(fail.remediation).toContain(
      'Add the missing rules to ClusterRole datadog-agent-fargate, which ClusterRoleBinding datadog-agent-fargate binds to ServiceAccount golang/golang-app',
    );
    expect(fail.remediation).toContain('resources: ["endpoints"]');
  });

  it('healthy: no FAIL or ERROR, and every check says what it evaluated', async () => {
    const findings = runChecks(await load('healthy'), CHECKS);
    expect(failures(findings)).toEqual([]);
    for (const check of CHECKS) {
      expect(
        findings.filter((f) => f.checkId === check.id && f.status === 'PASS').length,
      ).toBeGreaterThan(0);
    }
  });
});
