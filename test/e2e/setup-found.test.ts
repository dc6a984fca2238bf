/**
 * "Datadog is installed" is not "Datadog is monitoring": a Cluster Agent with no agent anywhere
 * fails through the real Kubernetes client against the local test API server and the CLI, and the
 * CLI exits 1 under its default --fail-on high.
 */
import { runDemoAudit } from '../../lambda/run/demo/demo.js';
import { findCanaries } from '../reliability/canary-needles.js';
import { runCli as cli } from './support.js';

describe('a Cluster Agent with no agent anywhere (fixture cluster-agent-only)', () => {
  it('fails datadog-setup-found with no-agents and nothing else, through the real client', async () => {
    const report = await runDemoAudit({ fixture: 'cluster-agent-only' });
    expect(findCanaries(JSON.stringify(report))).toEqual([]);
    const c = report.clusters[0]!;
    const failing = c.findings.filter((f) => f.status !== 'PASS');
    expect(
      failing.map((f) => `${f.status} ${f.severity} ${f.checkId} ${f.messageId ?? ''}`),
    ).toEqual(['FAIL high datadog-setup-found no-agents']);
    expect(failing[0]!.resource).toEqual({ kind: 'Cluster', name: 'cluster-agent-only' });
    expect(failing[0]!.message).toContain(
      'Cluster Agent datadog/datadog-agent-cluster-agent runs in cluster cluster-agent-only, but no agent does',
    );
    expect(failing[0]!.remediation).toContain('agent.datadoghq.com/sidecar: fargate');
    expect(c.setup?.summary).toBe(
      'Cluster Agent datadog/datadog-agent-cluster-agent; no Datadog agent setup found',
    );
    // The cluster checks runners are agents of the Cluster Agent, not of any workload: they do not
    // count as monitoring, but the checks that concern them still run.
    expect(c.findings.some((f) => f.checkId === 'token-consumers-match')).toBe(true);
  });

  it('makes the CLI exit 1 under the default --fail-on high, and 0 under --fail-on never', async () => {
    const run = await cli('audit', '--demo', '--fixture', 'cluster-agent-only', '--format', 'json');
    expect(run.code).toBe(1);
    const cluster = JSON.parse(run.stdout).clusters[0];
    expect(cluster.status).toBe('FAIL');
    const never = await cli(
      'audit',
      '--demo',
      '--fixture',
      'cluster-agent-only',
      '--fail-on',
      'never',
    );
    expect(never.code).toBe(0);
    expect(never.stdout).toContain('datadog-setup-found');
  });
});
