import { rbacAgentContract } from '../../../lambda/checks/rbac/rbac-agent-contract.js';
import { rbacAgentExcess } from '../../../lambda/checks/rbac/rbac-agent-excess.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { snapshotFromManifests } from '../../support/snapshot-builder.js';
import {
  clusterRoleBinding,
  FARGATE_ROLE,
  fargateApp,
  manifests,
  SA_GOLANG_DEFAULT,
  summary,
} from '../../rbac/world.js';

function role(name: string, rules: string): string {
  return `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ${name}}
rules: ${rules}
---
`;
}

describe('rbac-agent-excess', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: "Datadog's documented role, nodes/proxy included, is not excess",
      docs: [
        ...fargateApp(),
        ...manifests(
          FARGATE_ROLE +
            '---' +
            clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT),
        ),
      ],
      expected: ['PASS no-excess'],
    },
    {
      name: 'a wildcard ClusterRole bound to the app ServiceAccount is excess',
      docs: [
        ...fargateApp(),
        ...manifests(
          role('everything', '[{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]') +
            clusterRoleBinding('dd-all', 'everything', SA_GOLANG_DEFAULT),
        ),
      ],
      expected: ['FAIL excess:ClusterRoleBinding//dd-all'],
    },
    {
      name: 'wildcard verbs on one resource are excess',
      docs: [
        ...fargateApp(),
        ...manifests(
          role('pods-all', '[{apiGroups: [""], resources: [pods], verbs: ["*"]}]') +
            clusterRoleBinding('pods-all', 'pods-all', SA_GOLANG_DEFAULT),
        ),
      ],
      expected: ['FAIL excess:ClusterRoleBinding//pods-all'],
    },
    {
      name: 'list on secrets cluster-wide is excess',
      docs: [
        ...fargateApp(),
        ...manifests(
          role('secrets', '[{apiGroups: [""], resources: [secrets], verbs: [get, list]}]') +
            clusterRoleBinding('secrets', 'secrets', SA_GOLANG_DEFAULT),
        ),
      ],
      expected: ['FAIL excess:ClusterRoleBinding//secrets'],
    },
    {
      name: 'secrets readable only inside the app namespace through a RoleBinding are not flagged',
      docs: [
        ...fargateApp(),
        ...manifests(`${role('secrets', '[{apiGroups: [""], resources: [secrets], verbs: [get, list]}]')}
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: secrets, namespace: golang}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secrets}
subjects: ${SA_GOLANG_DEFAULT}
`),
      ],
      expected: ['PASS no-excess'],
    },
    {
      name: 'get on one named secret cluster-wide is not flagged',
      docs: [
        ...fargateApp(),
        ...manifests(
          role(
            'one-secret',
            '[{apiGroups: [""], resources: [secrets], resourceNames: [golang-secrets], verbs: [get]}]',
          ) + clusterRoleBinding('one-secret', 'one-secret', SA_GOLANG_DEFAULT),
        ),
      ],
      expected: ['PASS no-excess'],
    },
    {
      name: 'cluster-admin granted to every ServiceAccount through a group is excess',
      docs: [
        ...fargateApp(),
        ...manifests(
          role(
            'cluster-admin',
            '[{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}, {nonResourceURLs: ["*"], verbs: ["*"]}]',
          ) +
            clusterRoleBinding(
              'sa-admin',
              'cluster-admin',
              '[{kind: Group, name: "system:serviceaccounts"}]',
            ),
        ),
      ],
      expected: ['FAIL excess:ClusterRoleBinding//sa-admin'],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(rbacAgentExcess.run(snapshotFromManifests(docs)))).toEqual(expected);
  });

  it('names the binding, the role and the secrets grant inside a wildcard', () => {
    const [fail] = rbacAgentExcess.run(
      snapshotFromManifests([
        ...fargateApp(),
        ...manifests(
          role('everything', '[{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]') +
            clusterRoleBinding('dd-all', 'everything', SA_GOLANG_DEFAULT),
        ),
      ]),
    );
    expect(fail!.severity).toBeUndefined();
    expect(rbacAgentExcess.severity).toBe('medium');
    expect(fail!.message).toContain('ServiceAccount golang/default');
    expect(fail!.message).toContain('ClusterRoleBinding dd-all -> ClusterRole everything');
    expect(fail!.message).toContain('"get" and "list" on secrets in every namespace');
    expect(fail!.remediation).toContain(
      'Remove ServiceAccount golang/default from the subjects of ClusterRoleBinding dd-all',
    );
    expect(fail!.remediation).toContain('nodes/proxy');
  });

  it('a wildcard role both satisfies the Fargate contract and is reported as excess', () => {
    const snapshot = snapshotFromManifests([
      ...fargateApp(),
      ...manifests(
        role('everything', '[{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]') +
          clusterRoleBinding('dd-all', 'everything', SA_GOLANG_DEFAULT),
      ),
    ]);
    expect(summary(rbacAgentContract.run(snapshot))).toEqual(['PASS contract-met']);
    expect(summary(rbacAgentExcess.run(snapshot))).toEqual([
      'FAIL excess:ClusterRoleBinding//dd-all',
    ]);
  });
});
