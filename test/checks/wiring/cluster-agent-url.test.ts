import { clusterAgentUrl } from '../../../lambda/checks/wiring/cluster-agent-url.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { failed, snapshotFromManifests } from '../../support/snapshot-builder.js';
import { clusterAgent, fargateApp, sidecarEnv, summary } from '../../rbac/world.js';

const url = (value: string) => ({ DD_CLUSTER_AGENT_URL: { name: 'DD_CLUSTER_AGENT_URL', value } });
const app = (overrides: Parameters<typeof sidecarEnv>[0]) =>
  fargateApp({ env: sidecarEnv(overrides) });
const EXPECTED_URL = 'https://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005';

/** A node agent DaemonSet pod in the Cluster Agent's namespace (EC2 nodes), as the chart deploys it. */
function daemonSetAgent(env: { name: string; value: string }[]): Raw[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'datadog-agent-abcde',
        namespace: 'datadog',
        labels: { app: 'datadog-agent' },
      },
      spec: {
        serviceAccountName: 'datadog-agent',
        nodeName: 'ip-10-0-3-4.ec2.internal',
        containers: [{ name: 'agent', image: 'gcr.io/datadoghq/agent:7.50.0', env }],
      },
      status: { phase: 'Running' },
    },
  ];
}

describe('cluster-agent-url', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'the full https Service name on port 5005 with a ready endpoint passes',
      docs: [...clusterAgent(), ...fargateApp()],
      expected: ['PASS ok:datadog-agent'],
    },
    {
      name: 'the .svc form without cluster.local passes',
      docs: [
        ...clusterAgent(),
        ...app(url('https://datadog-agent-cluster-agent.datadog.svc:5005')),
      ],
      expected: ['PASS ok:datadog-agent'],
    },
    {
      name: 'a URL without scheme gets https, as the agent does',
      docs: [
        ...clusterAgent(),
        ...app(url('datadog-agent-cluster-agent.datadog.svc.cluster.local:5005')),
      ],
      expected: ['PASS ok:datadog-agent'],
    },
    {
      name: 'DD_CLUSTER_AGENT_ENABLED unset fails',
      docs: [...clusterAgent(), ...app({ DD_CLUSTER_AGENT_ENABLED: null })],
      expected: ['FAIL not-enabled:datadog-agent'],
    },
    {
      name: 'an http URL fails',
      docs: [
        ...clusterAgent(),
        ...app(url('http://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005')),
      ],
      expected: ['FAIL url-not-https:datadog-agent'],
    },
    {
      name: 'a short service name from another namespace fails',
      docs: [...clusterAgent(), ...app(url('https://datadog-agent-cluster-agent:5005'))],
      expected: ['FAIL url-host-short:datadog-agent'],
    },
    {
      name: 'a <service>.<namespace> name without .svc fails from another namespace',
      docs: [...clusterAgent(), ...app(url('https://datadog-agent-cluster-agent.datadog:5005'))],
      expected: ['FAIL url-host-short:datadog-agent'],
    },
    {
      name: 'a missing URL outside the Cluster Agent namespace fails',
      docs: [...clusterAgent(), ...app({ DD_CLUSTER_AGENT_URL: null })],
      expected: ['FAIL url-missing:datadog-agent'],
    },
    {
      name: 'a URL without port (443) to a Service exposing only 5005 fails',
      docs: [
        ...clusterAgent(),
        ...app(url('https://datadog-agent-cluster-agent.datadog.svc.cluster.local')),
      ],
      expected: ['FAIL port-not-exposed:datadog-agent'],
    },
    {
      name: 'a Service that does not exist fails',
      docs: [
        ...clusterAgent(),
        ...app(url('https://datadog-cluster-agent.datadog.svc.cluster.local:5005')),
      ],
      expected: ['FAIL service-missing:datadog-agent'],
    },
    {
      name: 'a Service without endpoints fails',
      docs: [...clusterAgent({ endpoints: false }), ...fargateApp()],
      expected: ['FAIL no-ready-endpoints:datadog-agent'],
    },
    {
      name: 'a Service with only not-ready endpoints fails',
      docs: [...clusterAgent({ readyEndpoints: 0 }), ...fargateApp()],
      expected: ['FAIL no-ready-endpoints:datadog-agent'],
    },
    {
      name: 'a Service port forwarding to another port than the command port fails',
      docs: [...clusterAgent({ targetPort: 8443 }), ...fargateApp()],
      expected: ['FAIL port-target-mismatch:datadog-agent'],
    },
    {
      name: 'a named targetPort resolving to the command port passes',
      docs: [...clusterAgent({ targetPort: 'agentport' }), ...fargateApp()],
      expected: ['PASS ok:datadog-agent'],
    },
    {
      name: 'DD_CLUSTER_AGENT_CMD_PORT on the Cluster Agent moves the expected port',
      docs: [
        ...clusterAgent({ env: [{ name: 'DD_CLUSTER_AGENT_CMD_PORT', value: '5443' }] }),
        ...fargateApp(),
      ],
      expected: ['FAIL port-target-mismatch:datadog-agent'],
    },
    {
      name: 'an agent in the Cluster Agent namespace may rely on DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME',
      docs: [
        ...clusterAgent(),
        ...daemonSetAgent([
          { name: 'DD_CLUSTER_AGENT_ENABLED', value: 'true' },
          {
            name: 'DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME',
            value: 'datadog-agent-cluster-agent',
          },
        ]),
      ],
      expected: ['PASS ok:agent'],
    },
    {
      name: 'the default service name datadog-cluster-agent fails when the Service has another name',
      docs: [
        ...clusterAgent(),
        ...daemonSetAgent([{ name: 'DD_CLUSTER_AGENT_ENABLED', value: 'true' }]),
      ],
      expected: ['FAIL service-name-unresolved:agent'],
    },
    {
      name: 'an agent in the Cluster Agent namespace may use a short URL',
      docs: [
        ...clusterAgent(),
        ...daemonSetAgent([
          { name: 'DD_CLUSTER_AGENT_ENABLED', value: 'true' },
          { name: 'DD_CLUSTER_AGENT_URL', value: 'https://datadog-agent-cluster-agent:5005' },
        ]),
      ],
      expected: ['PASS ok:agent'],
    },
    {
      name: 'an enabled agent without any Cluster Agent fails',
      docs: fargateApp(),
      expected: ['FAIL no-cluster-agent:datadog-agent'],
    },
    {
      name: 'an agent that does not enable the Cluster Agent, in a cluster without one, is not evaluated',
      docs: app({ DD_CLUSTER_AGENT_ENABLED: null }),
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(clusterAgentUrl.run(snapshotFromManifests(docs)))).toEqual(expected);
  });

  it.each([
    [
      'url-not-https',
      app(url('http://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005')),
    ],
    ['url-host-short', app(url('https://datadog-agent-cluster-agent:5005'))],
    ['url-missing', app({ DD_CLUSTER_AGENT_URL: null })],
    ['port-not-exposed', app(url('https://datadog-agent-cluster-agent.datadog.svc.cluster.local'))],
  ])('names the exact DD_CLUSTER_AGENT_URL value to set for %s', (id, docs) => {
    const [fail] = clusterAgentUrl.run(snapshotFromManifests([...clusterAgent(), ...docs]));
    expect(fail!.messageId).toBe(`${id}:datadog-agent`);
    expect(fail!.message).toContain('Container datadog-agent in Pod golang/app-0');
    expect(fail!.remediation).toBe(
      `Set DD_CLUSTER_AGENT_URL to "${EXPECTED_URL}" in container datadog-agent of Pod golang/app-0.`,
    );
  });

  it('names the Service name to set for an agent relying on the default service name', () => {
    const [fail] = clusterAgentUrl.run(
      snapshotFromManifests([
        ...clusterAgent(),
        ...daemonSetAgent([{ name: 'DD_CLUSTER_AGENT_ENABLED', value: 'true' }]),
      ]),
    );
    expect(fail!.remediation).toContain(
      'Set DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME to "datadog-agent-cluster-agent"',
    );
  });

  it('reports unknown readiness as ERROR when endpoints could not be collected', () => {
    const results = clusterAgentUrl.run(
      snapshotFromManifests([...clusterAgent(), ...fargateApp()], {
        kube: { endpoints: failed('endpoints') },
      }),
    );
    expect(summary(results)).toEqual(['ERROR endpoints-unknown:datadog-agent']);
  });

  it('never repeats credentials written into the URL', () => {
    const results = clusterAgentUrl.run(
      snapshotFromManifests([
        ...clusterAgent(),
        ...app(
          url(
            'http://dd:CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c@datadog-agent-cluster-agent.datadog.svc:5005',
          ),
        ),
      ]),
    );
    expect(summary(results)).toEqual(['FAIL url-not-https:datadog-agent']);
    expect(JSON.stringify(results)).not.toContain('CANARY');
    expect(results[0]!.message).toContain(
      'http://***@datadog-agent-cluster-agent.datadog.svc:5005',
    );
  });
});
