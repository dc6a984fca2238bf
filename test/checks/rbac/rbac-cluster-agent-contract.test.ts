import { rbacClusterAgentContract } from '../../../lambda/checks/rbac/rbac-cluster-agent-contract.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { snapshotFromManifests } from '../../support/snapshot-builder.js';
import { CLUSTER_AGENT_RBAC, clusterAgent, manifests, summary } from '../../rbac/world.js';

/** The chart's ClusterRole with one rule edited by `edit`. */
function chartRbac(edit: (yaml: string) => string): Raw[] {
  return manifests(edit(CLUSTER_AGENT_RBAC));
}

/** The chart's ClusterRole without `create` on events (as the Operator renders its own). */
const withoutEventsCreate = (): Raw[] =>
  chartRbac((y) => y.replace('verbs: [get, list, watch, create]', 'verbs: [get, list, watch]'));

describe('rbac-cluster-agent-contract', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: "the Helm chart's Cluster Agent ClusterRole meets the contract",
      docs: [...clusterAgent(), ...manifests(CLUSTER_AGENT_RBAC)],
      expected: ['PASS contract-met'],
    },
    {
      name: 'a ClusterRole without discovery.k8s.io endpointslices misses them',
      docs: [
        ...clusterAgent(),
        ...chartRbac((y) => y.replace('apiGroups: [discovery.k8s.io]', 'apiGroups: [""]')),
      ],
      expected: ['FAIL missing:endpointslices.discovery.k8s.io'],
    },
    {
      name: 'a lease rule restricted to another lease name does not grant the leader lease',
      docs: [
        ...clusterAgent(),
        ...chartRbac((y) =>
          y.replace(
            'resourceNames: [datadog-agent-leader-election]',
            'resourceNames: [other-lease]',
          ),
        ),
      ],
      expected: ['FAIL missing:leases.coordination.k8s.io:leader-lease'],
    },
    {
      name: 'create on leases cannot come from a rule restricted by resourceNames',
      docs: [
        ...clusterAgent(),
        ...chartRbac((y) =>
          y
            .replace('verbs: [get, update]', 'verbs: [get, update, create]')
            .replace(
              / {2}- apiGroups: \[coordination.k8s.io\]\n {4}resources: \[leases\]\n {4}verbs: \[create\]\n/,
              '',
            ),
        ),
      ],
      expected: ['FAIL missing:leases.coordination.k8s.io:create'],
    },
    {
      name: 'leases are not required when leader election is off',
      docs: [
        ...clusterAgent({ env: [] }),
        ...chartRbac((y) =>
          y.replace(/ {2}- apiGroups: \[coordination.k8s.io\][\s\S]*?verbs: \[create\]\n/, ''),
        ),
      ],
      expected: ['PASS contract-met'],
    },
    {
      name: 'a Role in the Cluster Agent namespace grants the leader lease',
      docs: [
        ...clusterAgent(),
        ...chartRbac((y) =>
          y.replace(/ {2}- apiGroups: \[coordination.k8s.io\][\s\S]*?verbs: \[create\]\n/, ''),
        ),
        ...manifests(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: leader, namespace: datadog}
rules: [{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, update, create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: leader, namespace: datadog}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: leader}
subjects: [{kind: ServiceAccount, name: datadog-agent-cluster-agent}]
`),
      ],
      expected: ['PASS contract-met'],
    },
    {
      name: 'a ClusterRoleBinding to a missing ClusterRole is reported',
      docs: [
        ...clusterAgent(),
        ...manifests(CLUSTER_AGENT_RBAC.slice(CLUSTER_AGENT_RBAC.indexOf('---'))),
      ],
      expected: [
        'FAIL missing-role',
        'FAIL missing:endpoints',
        'FAIL missing:endpointslices.discovery.k8s.io',
        'FAIL missing:leases.coordination.k8s.io:create',
        'FAIL missing:leases.coordination.k8s.io:leader-lease',
        'FAIL missing:namespaces',
        'FAIL missing:nodes',
        'FAIL missing:pods',
        'FAIL missing:services',
      ],
    },
    {
      name: 'leader election on a ConfigMap needs configmaps create and get/update on the named one',
      docs: [
        ...clusterAgent({
          env: [
            { name: 'DD_LEADER_ELECTION', value: 'true' },
            { name: 'DD_LEADER_ELECTION_DEFAULT_RESOURCE', value: 'configmap' },
          ],
        }),
        ...manifests(CLUSTER_AGENT_RBAC),
      ],
      expected: ['FAIL missing:configmaps:create', 'FAIL missing:configmaps:leader-lease'],
    },
    {
      // datadog-agent's leader elector records events without a sink: nothing is written, so a
      // Cluster Agent without the external metrics provider needs no events permission (the
      // Operator's render grants none and runs).
      name: 'create on events is not required of a Cluster Agent without the external metrics provider',
      docs: [...clusterAgent(), ...withoutEventsCreate()],
      expected: ['PASS contract-met'],
    },
    {
      name: 'create on events is required with the external metrics provider on',
      docs: [
        ...clusterAgent({
          env: [
            { name: 'DD_LEADER_ELECTION', value: 'true' },
            { name: 'DD_LEADER_LEASE_NAME', value: 'datadog-agent-leader-election' },
            { name: 'DD_EXTERNAL_METRICS_PROVIDER_ENABLED', value: 'true' },
          ],
        }),
        ...withoutEventsCreate(),
      ],
      expected: ['FAIL missing:events'],
    },
    {
      name: 'no Cluster Agent, no result',
      docs: manifests(CLUSTER_AGENT_RBAC),
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(rbacClusterAgentContract.run(snapshotFromManifests(docs)))).toEqual(expected);
  });

  it('names the lease in the message and remediates with the chart role extended', () => {
    const results = rbacClusterAgentContract.run(
      snapshotFromManifests([
        ...clusterAgent(),
        ...chartRbac((y) =>
          y.replace(
            'resourceNames: [datadog-agent-leader-election]',
            'resourceNames: [other-lease]',
          ),
        ),
      ]),
    );
    const [fail] = results;
    expect(fail!.message).toContain(
      '"get", "update" on leases.coordination.k8s.io "datadog-agent-leader-election" in namespace datadog',
    );
    expect(fail!.message).toContain('resourceNames [other-lease]');
    expect(fail!.remediation).toContain(
      'Add the missing rules to ClusterRole datadog-agent-cluster-agent',
    );
    expect(fail!.remediation).toContain('resourceNames: ["datadog-agent-leader-election"]');
  });
});
