import { parse } from 'yaml';
import { rbacAgentContract } from '../../../lambda/checks/rbac/rbac-agent-contract.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { AccessReview } from '../../../lambda/snapshot/snapshot.js';
import { ok, snapshotFromManifests } from '../../support/snapshot-builder.js';
import {
  clusterRoleBinding,
  FARGATE_ROLE,
  FIELD_REPORT_ROLE,
  fargateApp,
  manifests,
  SA_GOLANG_DEFAULT,
  summary,
} from '../../rbac/world.js';

const ALL_ITEMS = [
  'nodes',
  'namespaces',
  'endpoints',
  'nodes/metrics',
  'nodes/spec',
  'nodes/stats',
  'nodes/proxy',
  'nodes/pods',
  'nodes/healthz',
];
const allMissing = ALL_ITEMS.map((i) => `FAIL missing:${i}`).sort();

function run(docs: Raw[], reviews?: AccessReview[]) {
  const snapshot = snapshotFromManifests(
    docs,
    reviews ? { kube: { accessReviews: ok(reviews) } } : {},
  );
  return rbacAgentContract.run(snapshot);
}

describe('rbac-agent-contract', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'the documented ClusterRole bound with a ClusterRoleBinding meets the contract',
      docs: [
        ...fargateApp(),
        ...manifests(
          FARGATE_ROLE +
            '---' +
            clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT),
        ),
      ],
      expected: ['PASS contract-met'],
    },
    {
      name: "the field report's ClusterRole lacks endpoints",
      docs: [
        ...fargateApp(),
        ...manifests(
          FIELD_REPORT_ROLE +
            '---' +
            clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT),
        ),
      ],
      expected: ['FAIL missing:endpoints'],
    },
    {
      name: 'a RoleBinding to the documented ClusterRole grants none of the cluster-wide permissions',
      docs: [
        ...fargateApp(),
        ...manifests(`${FARGATE_ROLE}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: datadog-agent, namespace: golang}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: datadog-agent}
subjects: ${SA_GOLANG_DEFAULT}
`),
      ],
      expected: allMissing,
    },
    {
      name: 'a wildcard ClusterRole grants the whole contract',
      docs: [
        ...fargateApp(),
        ...manifests(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
${clusterRoleBinding('everything', 'everything', SA_GOLANG_DEFAULT)}`),
      ],
      expected: ['PASS contract-met'],
    },
    {
      name: 'a binding to group system:serviceaccounts:golang grants the contract to the app ServiceAccount',
      docs: [
        ...fargateApp(),
        ...manifests(
          FARGATE_ROLE +
            '---' +
            clusterRoleBinding(
              'datadog-agent',
              'datadog-agent',
              '[{kind: Group, name: "system:serviceaccounts:golang", apiGroup: rbac.authorization.k8s.io}]',
            ),
        ),
      ],
      expected: ['PASS contract-met'],
    },
    {
      name: 'a binding to a missing ClusterRole is reported and grants nothing',
      docs: [
        ...fargateApp(),
        ...manifests(clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT)),
      ],
      expected: [...allMissing, 'FAIL missing-role'].sort(),
    },
    {
      name: 'nodes limited by resourceNames do not grant get/list on every node',
      docs: [
        ...fargateApp(),
        ...manifests(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: datadog-agent}
rules:
  - {apiGroups: [""], resources: [namespaces, endpoints], verbs: [get, list]}
  - {apiGroups: [""], resources: [nodes], resourceNames: [fargate-ip-10-0-1-23.ap-northeast-1.compute.internal], verbs: [get, list]}
  - {apiGroups: [""], resources: [nodes/metrics, nodes/spec, nodes/stats, nodes/proxy, nodes/pods, nodes/healthz], verbs: [get]}
---
${clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT)}`),
      ],
      expected: ['FAIL missing:nodes'],
    },
    {
      name: 'a binding naming a ServiceAccount that does not exist is reported, and the pod SA lacks everything',
      docs: [
        ...fargateApp(),
        ...manifests(
          FARGATE_ROLE +
            '---' +
            clusterRoleBinding(
              'datadog-agent',
              'datadog-agent',
              '[{kind: ServiceAccount, name: datadog-agent, namespace: golang}]',
            ),
        ),
      ],
      expected: [...allMissing, 'FAIL missing-subject:golang/datadog-agent'].sort(),
    },
    {
      name: 'an agent that does not run on Fargate is not held to the Fargate contract',
      docs: fargateApp().map((d) =>
        d.kind === 'Pod'
          ? {
              ...d,
              metadata: { ...d.metadata, labels: { app: 'app' } },
              spec: { ...d.spec, nodeName: 'ip-10-0-1-5.ec2.internal' },
            }
          : d,
      ),
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(run(docs))).toEqual(expected);
  });

  it('rates missing nodes/proxy critical and the other items high', () => {
    const results = run(fargateApp());
    expect(results.find((r) => r.messageId === 'missing:nodes/proxy')!.severity).toBe('critical');
    expect(results.find((r) => r.messageId === 'missing:endpoints')!.severity).toBe('high');
  });

  it('names the ServiceAccount, the pod and the forbidden log line for missing endpoints', () => {
    const [fail] = run([
      ...fargateApp(),
      ...manifests(
        FIELD_REPORT_ROLE +
          '---' +
          clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT),
      ),
    ]);
    expect(fail!.resource).toEqual({
      kind: 'ServiceAccount',
      namespace: 'golang',
      name: 'default',
    });
    expect(fail!.message).toContain('ServiceAccount golang/default');
    expect(fail!.message).toContain('Pod golang/app-0');
    expect(fail!.message).toContain('"get", "list" on endpoints in every namespace');
    expect(fail!.message).toContain('endpoints is forbidden');
  });

  it('remediates by extending the bound ClusterRole with a ready-to-apply YAML that keeps its rules', () => {
    const [fail] = run([
      ...fargateApp(),
      ...manifests(
        FIELD_REPORT_ROLE +
          '---' +
          clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT),
      ),
    ]);
    const yamlText = fail!.remediation.slice(fail!.remediation.indexOf('apiVersion'));
    const [role, binding] = yamlText.split('\n---\n').map((d) => parse(d));
    expect(role).toMatchObject({ kind: 'ClusterRole', metadata: { name: 'datadog-agent' } });
    expect(role.rules).toHaveLength(3);
    expect(role.rules[2]).toEqual({
      apiGroups: [''],
      resources: ['endpoints'],
      verbs: ['get', 'list'],
    });
    expect(binding).toMatchObject({
      kind: 'ClusterRoleBinding',
      metadata: { name: 'datadog-agent' },
      roleRef: { kind: 'ClusterRole', name: 'datadog-agent' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'golang' }],
    });
  });

  it('remediates a RoleBinding to the ClusterRole with a ClusterRoleBinding naming the ServiceAccount', () => {
    const results = run([
      ...fargateApp(),
      ...manifests(`${FARGATE_ROLE}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: datadog-agent, namespace: golang}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: datadog-agent}
subjects: ${SA_GOLANG_DEFAULT}
`),
    ]);
    const proxy = results.find((r) => r.messageId === 'missing:nodes/proxy')!;
    expect(proxy.message).toContain(
      'a RoleBinding never grants cluster-scoped resources such as nodes',
    );
    expect(proxy.message).toContain(
      'RoleBinding golang/datadog-agent -> ClusterRole datadog-agent',
    );
    const docs = proxy.remediation
      .slice(proxy.remediation.indexOf('apiVersion'))
      .split('\n---\n')
      .map((d) => parse(d));
    expect(docs).toEqual([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'datadog-agent-golang-default' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'datadog-agent',
        },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'golang' }],
      },
    ]);
  });

  it('remediates a ServiceAccount without any binding with the documented ClusterRole and a ClusterRoleBinding', () => {
    const [fail] = run(fargateApp());
    const docs = fail!.remediation
      .slice(fail!.remediation.indexOf('apiVersion'))
      .split('\n---\n')
      .map((d) => parse(d));
    expect(docs[0]).toEqual(
      parse(FARGATE_ROLE.replace('name: datadog-agent', 'name: datadog-agent-fargate')),
    );
    expect(docs[1]).toMatchObject({
      kind: 'ClusterRoleBinding',
      roleRef: { name: 'datadog-agent-fargate' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'golang' }],
    });
  });

  it('reports a SubjectAccessReview that disagrees with the static verdict as info with both verdicts', () => {
    const review: AccessReview = {
      serviceAccount: 'default',
      namespace: 'golang',
      verb: 'list',
      group: '',
      resource: 'endpoints',
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "extra"',
    };
    const results = run(
      [
        ...fargateApp(),
        ...manifests(
          FIELD_REPORT_ROLE +
            '---' +
            clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT),
        ),
      ],
      [review, { ...review, verb: 'get', resource: 'nodes', allowed: true }],
    );
    const info = results.filter((r) => r.severity === 'info');
    expect(info.map((r) => r.messageId)).toEqual(['access-review:endpoints:list']);
    expect(info[0]!.status).toBe('FAIL');
    expect(info[0]!.message).toContain('static analysis says not granted by any binding');
    expect(info[0]!.message).toContain(
      'the SubjectAccessReview says allowed (RBAC: allowed by ClusterRoleBinding "extra")',
    );
  });

  it('reports one result per ServiceAccount, however many pods run under it', () => {
    const docs = [
      ...fargateApp(),
      ...fargateApp({ name: 'worker' }).filter((d) => d.kind === 'Pod'),
      ...manifests(
        FARGATE_ROLE +
          '---' +
          clusterRoleBinding('datadog-agent', 'datadog-agent', SA_GOLANG_DEFAULT),
      ),
    ];
    const results = run(docs);
    expect(summary(results)).toEqual(['PASS contract-met']);
    expect(results[0]!.message).toContain('Pod golang/app-0, Pod golang/worker-0');
  });
});
