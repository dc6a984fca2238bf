import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { KUBE_KINDS } from '../../lambda/collect/kube/kinds.js';
import {
  AUDITOR_EXTRA_RULES,
  AUDITOR_GROUP,
  renderAuditorRbac,
  type PolicyRule,
} from '../../lambda/collect/kube/rbac-manifest.js';

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; apiGroup: string }[];
}

const COMMITTED = new URL('../../infra/kubernetes/auditor-rbac.yaml', import.meta.url);
const READ_VERBS = new Set(['get', 'list']);

function docs(yaml: string): Doc[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as Doc);
}

/** `verb group/resource[names]` triples: what a set of rules allows, in one comparable form. */
function grants(rules: PolicyRule[]): string[] {
  return rules
    .flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.flatMap((res) =>
          r.verbs.map(
            (v) => `${v} ${g}/${res}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}`,
          ),
        ),
      ),
    )
    .sort();
}

// Kinds read by name in one namespace (aws-auth) are granted by a Role there, not the ClusterRole.
const expectedFromKinds = KUBE_KINDS.filter((k) => !k.only).flatMap((k) =>
  k.verbs.map((v) => `${v} ${k.group}/${k.resource}`),
);
const extra = grants([...AUDITOR_EXTRA_RULES]);

describe('auditor RBAC manifest', () => {
  const defaultYaml = renderAuditorRbac({});
  const defaults = docs(defaultYaml);
  const clusterRole = defaults.find((d) => d.kind === 'ClusterRole')!;

  it('is committed exactly as renderAuditorRbac({}) renders it (regenerate: npm run -s print-rbac > infra/kubernetes/auditor-rbac.yaml)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(defaultYaml);
  });

  it('grants exactly the kinds and verbs of KUBE_KINDS plus the SubjectAccessReview rule, nothing more', () => {
    expect(grants(clusterRole.rules!)).toEqual([...expectedFromKinds, ...extra].sort());
  });

  it('grants every collected kind, so no collector meets a 403 it could avoid', () => {
    const granted = new Set(grants(clusterRole.rules!));
    for (const kind of KUBE_KINDS.filter((k) => !k.only)) {
      for (const verb of kind.verbs)
        expect(granted).toContain(`${verb} ${kind.group}/${kind.resource}`);
    }
  });

  it('grants kube-system/aws-auth by name only: get on configmaps [aws-auth] through a Role in kube-system, bound to the auditor group', () => {
    expect(grants(clusterRole.rules!).filter((g) => g.includes('/configmaps'))).toEqual([]);
    const roles = defaults.filter((d) => d.kind === 'Role');
    expect(roles.map((r) => [r.metadata.namespace, grants(r.rules!)])).toEqual([
      ['kube-system', ['get /configmaps[aws-auth]']],
    ]);
    const binding = defaults.find(
      (d) => d.kind === 'RoleBinding' && d.metadata.namespace === 'kube-system',
    )!;
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: roles[0]!.metadata.name });
    expect(binding.subjects!.map((s) => s.name)).toEqual([AUDITOR_GROUP]);
  });

  it('grants no write verbs except create on subjectaccessreviews, and no wildcards', () => {
    for (const doc of defaults.filter((d) => d.rules)) {
      for (const rule of doc.rules!) {
        const writes = rule.verbs.filter((v) => !READ_VERBS.has(v));
        if (writes.length > 0) {
          expect(rule).toEqual({
            apiGroups: ['authorization.k8s.io'],
            resources: ['subjectaccessreviews'],
            verbs: ['create'],
          });
        }
        expect([...rule.verbs, ...rule.resources, ...rule.apiGroups]).not.toContain('*');
      }
    }
  });

  it('reads secrets only with get, never list or watch', () => {
    const secretRules = clusterRole.rules!.filter((r) => r.resources.includes('secrets'));
    expect(secretRules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
  });

  it("reads the Datadog Operator's DatadogAgents with list only (the collector never GETs one by name)", () => {
    const ddaGrants = grants(clusterRole.rules!).filter((g) => g.includes('datadoghq.com/'));
    expect(ddaGrants).toEqual(['list datadoghq.com/datadogagents']);
  });

  it('binds the ClusterRole to the group the EKS access entry uses', () => {
    const binding = defaults.find((d) => d.kind === 'ClusterRoleBinding')!;
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'eks-datadog-auditor',
    });
    expect(binding.subjects).toEqual([
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: AUDITOR_GROUP },
    ]);
    // Plus the kube-system Role and RoleBinding for aws-auth (read by name).
    expect(defaults.map((d) => d.kind)).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
    ]);
  });

  describe('narrowed to namespaces', () => {
    const narrowed = docs(
      renderAuditorRbac({
        secretNamespaces: [
          { namespace: 'golang', names: ['golang-secrets'] },
          { namespace: 'datadog', names: ['datadog-secrets'] },
          { namespace: 'datadog', names: ['datadog-cluster-agent-token'] },
          { namespace: 'payments' },
        ],
      }),
    );

    it('moves secrets out of the ClusterRole', () => {
      const cr = narrowed.find((d) => d.kind === 'ClusterRole')!;
      expect(grants(cr.rules!)).toEqual(
        [...expectedFromKinds.filter((g) => g !== 'get /secrets'), ...extra].sort(),
      );
    });

    it('gives each namespace one Role with get on the named secrets (names merged, sorted)', () => {
      const roles = narrowed.filter(
        (d) => d.kind === 'Role' && d.metadata.name === 'eks-datadog-auditor-secrets',
      );
      expect(roles.map((r) => [r.metadata.namespace, grants(r.rules!)])).toEqual([
        ['datadog', ['get /secrets[datadog-cluster-agent-token,datadog-secrets]']],
        ['golang', ['get /secrets[golang-secrets]']],
        ['payments', ['get /secrets']],
      ]);
    });

    it('binds each Role to the group in its namespace', () => {
      const bindings = narrowed.filter(
        (d) => d.kind === 'RoleBinding' && d.metadata.name === 'eks-datadog-auditor-secrets',
      );
      expect(bindings.map((b) => [b.metadata.namespace, b.roleRef, b.subjects])).toEqual(
        ['datadog', 'golang', 'payments'].map((ns) => [
          ns,
          {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'Role',
            name: 'eks-datadog-auditor-secrets',
          },
          [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: AUDITOR_GROUP }],
        ]),
      );
    });

    it('lets a namespace listed without names allow all its secrets even when also listed with names', () => {
      const merged = docs(
        renderAuditorRbac({
          secretNamespaces: [{ namespace: 'datadog', names: ['a'] }, { namespace: 'datadog' }],
        }),
      );
      const secretsRole = (d: Doc) =>
        d.kind === 'Role' && d.metadata.name === 'eks-datadog-auditor-secrets';
      expect(merged.find(secretsRole)!.rules).toEqual([
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      ]);
    });
  });

  it('binds a custom group when one is given', () => {
    const custom = docs(renderAuditorRbac({ group: 'platform-auditors' }));
    expect(custom.find((d) => d.kind === 'ClusterRoleBinding')!.subjects![0]!.name).toBe(
      'platform-auditors',
    );
  });

  it.each([
    [{ secretNamespaces: [{ namespace: 'Bad_NS' }] }, /secret namespace "Bad_NS"/],
    [
      { secretNamespaces: [{ namespace: 'ok', names: ['UPPER'] }] },
      /secret name "UPPER" in namespace ok/,
    ],
    [{ secretNamespaces: [{ namespace: 'ok', names: [] }] }, /lists no names/],
    [{ group: ' ' }, /group must not be empty/],
  ])('rejects invalid options %j with a message naming the value', (opts, message) => {
    expect(() => renderAuditorRbac(opts)).toThrow(message);
  });
});
