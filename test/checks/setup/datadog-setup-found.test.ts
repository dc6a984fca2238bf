import { join } from 'node:path';
import { datadogSetupFound } from '../../../lambda/checks/setup/datadog-setup-found.js';
import { detectSetup } from '../../../lambda/snapshot/setup.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { AuditSettings } from '../../../lambda/snapshot/snapshot.js';
import {
  FIXTURES_DIR,
  loadManifests,
  snapshotFromManifests,
} from '../../support/snapshot-builder.js';

const healthy = (): Raw[] => loadManifests(join(FIXTURES_DIR, 'healthy'));

/** The healthy cluster with the golang app's hand-written sidecar removed (pod and template). */
function withoutSidecar(docs: Raw[], labels: Record<string, string> = {}): Raw[] {
  return docs.map((d) => {
    if (d.metadata?.namespace !== 'golang' || !['Pod', 'Deployment'].includes(d.kind)) return d;
    const copy = structuredClone(d);
    const spec = d.kind === 'Pod' ? copy.spec : copy.spec.template.spec;
    spec.containers = spec.containers.filter((c: Raw) => c.name !== 'datadog-agent');
    const meta = d.kind === 'Pod' ? copy.metadata : copy.spec.template.metadata;
    meta.labels = { ...meta.labels, ...labels };
    return copy;
  });
}

const run = (docs: Raw[], settings?: Partial<AuditSettings>) => {
  const snapshot = snapshotFromManifests(docs, {
    cluster: 'c1',
    ...(settings ? { settings } : {}),
  });
  return datadogSetupFound.run(snapshot).map((r) => `${r.status} ${r.messageId}`);
};

describe('datadog-setup-found', () => {
  it.each<{
    name: string;
    docs: () => Raw[];
    settings?: Partial<AuditSettings>;
    expected: string[];
  }>([
    {
      name: 'a Cluster Agent and a hand-written sidecar pass',
      docs: healthy,
      expected: ['PASS found'],
    },
    {
      name: 'a cluster with apps and no Datadog fails: nothing to audit is not a pass',
      docs: () => loadManifests(join(FIXTURES_DIR, 'no-datadog')),
      expected: ['FAIL no-cluster-agent'],
    },
    {
      name: 'a Cluster Agent with no agent anywhere (only cluster checks runners) fails',
      docs: () => withoutSidecar(healthy()),
      expected: ['FAIL no-agents'],
    },
    {
      name: 'a pod asking the admission controller for a sidecar counts as an agent to come',
      docs: () => withoutSidecar(healthy(), { 'agent.datadoghq.com/sidecar': 'fargate' }),
      expected: ['PASS found'],
    },
    {
      name: 'a configured Cluster Agent namespace that holds none fails and says where it looked',
      docs: healthy,
      settings: { clusterAgent: { namespace: 'monitoring', port: 5005 } },
      expected: ['FAIL no-cluster-agent'],
    },
  ])('$name', ({ docs, settings, expected }) => {
    expect(run(docs(), settings)).toEqual(expected);
  });

  it('names what was searched and how to point the auditor at an unusual install', () => {
    const snapshot = snapshotFromManifests(healthy(), {
      cluster: 'c1',
      settings: { clusterAgent: { namespace: 'monitoring', port: 5005 } },
    });
    const [r] = datadogSetupFound.run(snapshot);
    expect(r!.message).toContain('namespace monitoring');
    expect(r!.message).toContain('app.kubernetes.io/component=cluster-agent');
    expect(r!.message).toContain('cluster-agent');
    expect(r!.message).toContain('DatadogAgent');
    expect(r!.remediation).toContain('clusters[].clusterAgent.namespace (now "monitoring")');
    expect(r!.remediation).toContain('clusters[].clusterAgent.serviceName');
  });
});

describe('detectSetup', () => {
  it('reports hand-written sidecars for the healthy cluster', () => {
    const setup = detectSetup(snapshotFromManifests(healthy()));
    expect(setup.kinds.map((k) => k.kind)).toEqual(['hand-written-sidecars']);
    expect(setup.summary).toBe(
      'Cluster Agent datadog/datadog-agent-cluster-agent; hand-written agent sidecars in 1 workload',
    );
  });

  it('reports an agent DaemonSet on EC2 nodes in the mixed cluster', () => {
    const setup = detectSetup(
      snapshotFromManifests(loadManifests(join(FIXTURES_DIR, 'mixed-ec2-fargate'))),
    );
    expect(setup.kinds.map((k) => k.kind)).toEqual(
      expect.arrayContaining(['hand-written-sidecars', 'daemonset']),
    );
    expect(setup.kinds.find((k) => k.kind === 'daemonset')!.detail).toMatch(
      /^agent DaemonSet datadog\/\S+ \(\d+ pods? on EC2 nodes\)$/,
    );
  });

  it('says nothing was found for a cluster without Datadog', () => {
    const setup = detectSetup(
      snapshotFromManifests(loadManifests(join(FIXTURES_DIR, 'no-datadog'))),
    );
    expect(setup).toEqual({ kinds: [], summary: 'no Cluster Agent; no Datadog agent setup found' });
  });
});
