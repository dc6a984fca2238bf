import { RbacIndex } from '../../lambda/snapshot/rbac/evaluator.js';
import type { AccessRequest } from '../../lambda/snapshot/rbac/match.js';
import { snapshotFromManifests } from '../support/snapshot-builder.js';
import { manifests, manyNamespacesRbac } from './world.js';

const golangDefault = { namespace: 'golang', name: 'default' };

function indexOf(yaml: string): RbacIndex {
  return RbacIndex.fromSnapshot(snapshotFromManifests(manifests(yaml)));
}

function clusterRole(name: string, rules: string, extra = ''): string {
  return `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ${name}}
${extra}
rules: ${rules}
---`;
}

function role(ns: string, name: string, rules: string): string {
  return `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ${name}, namespace: ${ns}}
rules: ${rules}
---`;
}

function binding(
  kind: 'ClusterRoleBinding' | 'RoleBinding',
  name: string,
  roleRef: string,
  subjects: string,
  ns?: string,
): string {
  return `
apiVersion: rbac.authorization.k8s.io/v1
kind: ${kind}
metadata: {name: ${name}${ns ? `, namespace: ${ns}` : ''}}
roleRef: {apiGroup: rbac.authorization.k8s.io, ${roleRef}}
subjects: ${subjects}
---`;
}

const SA = '[{kind: ServiceAccount, name: default, namespace: golang}]';
const NODES_PROXY = '[{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]';
const get = (
  resource: string,
  subresource?: string,
  extra: Partial<AccessRequest> = {},
): AccessRequest => ({
  verb: 'get',
  group: '',
  resource,
  ...(subresource ? { subresource } : {}),
  ...extra,
});

describe('RbacIndex.permissionsOf follows the API server RBAC authorizer', () => {
  it.each<{
    name: string;
    yaml: string;
    request: AccessRequest;
    allowed: boolean;
    sa?: typeof golangDefault;
  }>([
    {
      name: 'a ClusterRoleBinding to a ClusterRole listing nodes/proxy grants it',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding('ClusterRoleBinding', 'dd', 'kind: ClusterRole, name: dd', SA),
      request: get('nodes', 'proxy'),
      allowed: true,
    },
    {
      name: 'a RoleBinding to a ClusterRole listing nodes/proxy does not grant it (cluster-scoped)',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding('RoleBinding', 'dd', 'kind: ClusterRole, name: dd', SA, 'golang'),
      request: get('nodes', 'proxy'),
      allowed: false,
    },
    {
      name: 'a RoleBinding does not grant nodes even when the request carries its namespace',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding('RoleBinding', 'dd', 'kind: ClusterRole, name: dd', SA, 'golang'),
      request: get('nodes', 'proxy', { namespace: 'golang' }),
      allowed: false,
    },
    {
      name: 'a RoleBinding grants a namespaced resource inside its namespace',
      yaml:
        clusterRole('ep', '[{apiGroups: [""], resources: [endpoints], verbs: [get, list]}]') +
        binding('RoleBinding', 'ep', 'kind: ClusterRole, name: ep', SA, 'golang'),
      request: { verb: 'list', group: '', resource: 'endpoints', namespace: 'golang' },
      allowed: true,
    },
    {
      name: 'a RoleBinding does not grant a namespaced resource in every namespace',
      yaml:
        clusterRole('ep', '[{apiGroups: [""], resources: [endpoints], verbs: [get, list]}]') +
        binding('RoleBinding', 'ep', 'kind: ClusterRole, name: ep', SA, 'golang'),
      request: { verb: 'list', group: '', resource: 'endpoints' },
      allowed: false,
    },
    {
      name: 'a RoleBinding does not grant in another namespace',
      yaml:
        clusterRole('ep', '[{apiGroups: [""], resources: [endpoints], verbs: [get, list]}]') +
        binding('RoleBinding', 'ep', 'kind: ClusterRole, name: ep', SA, 'golang'),
      request: { verb: 'list', group: '', resource: 'endpoints', namespace: 'datadog' },
      allowed: false,
    },
    {
      name: 'resources "*" grants subresources such as nodes/proxy',
      yaml:
        clusterRole('all', '[{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]') +
        binding('ClusterRoleBinding', 'all', 'kind: ClusterRole, name: all', SA),
      request: get('nodes', 'proxy'),
      allowed: true,
    },
    {
      name: 'resources "*" grants secrets in every namespace',
      yaml:
        clusterRole('all', '[{apiGroups: [""], resources: ["*"], verbs: [list]}]') +
        binding('ClusterRoleBinding', 'all', 'kind: ClusterRole, name: all', SA),
      request: { verb: 'list', group: '', resource: 'secrets' },
      allowed: true,
    },
    {
      name: 'verbs "*" grants any verb',
      yaml:
        clusterRole('v', '[{apiGroups: [""], resources: [nodes], verbs: ["*"]}]') +
        binding('ClusterRoleBinding', 'v', 'kind: ClusterRole, name: v', SA),
      request: { verb: 'watch', group: '', resource: 'nodes' },
      allowed: true,
    },
    {
      name: 'apiGroups "*" grants every group',
      yaml:
        clusterRole('g', '[{apiGroups: ["*"], resources: [endpointslices], verbs: [list]}]') +
        binding('ClusterRoleBinding', 'g', 'kind: ClusterRole, name: g', SA),
      request: { verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices' },
      allowed: true,
    },
    {
      name: 'the core group "" does not grant another API group',
      yaml:
        clusterRole('g', '[{apiGroups: [""], resources: [endpointslices], verbs: [list]}]') +
        binding('ClusterRoleBinding', 'g', 'kind: ClusterRole, name: g', SA),
      request: { verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices' },
      allowed: false,
    },
    {
      name: '"nodes" does not grant the nodes/proxy subresource',
      yaml:
        clusterRole('n', '[{apiGroups: [""], resources: [nodes], verbs: [get]}]') +
        binding('ClusterRoleBinding', 'n', 'kind: ClusterRole, name: n', SA),
      request: get('nodes', 'proxy'),
      allowed: false,
    },
    {
      name: '"*/proxy" grants the proxy subresource of nodes',
      yaml:
        clusterRole('p', '[{apiGroups: [""], resources: ["*/proxy"], verbs: [get]}]') +
        binding('ClusterRoleBinding', 'p', 'kind: ClusterRole, name: p', SA),
      request: get('nodes', 'proxy'),
      allowed: true,
    },
    {
      name: '"nodes/*" does not grant nodes/proxy (only a subresource literally named "*")',
      yaml:
        clusterRole('p', '[{apiGroups: [""], resources: ["nodes/*"], verbs: [get]}]') +
        binding('ClusterRoleBinding', 'p', 'kind: ClusterRole, name: p', SA),
      request: get('nodes', 'proxy'),
      allowed: false,
    },
    {
      name: 'resourceNames grants get on a named object',
      yaml:
        clusterRole(
          'rn',
          '[{apiGroups: [""], resources: [nodes], resourceNames: [node-a], verbs: [get, list]}]',
        ) + binding('ClusterRoleBinding', 'rn', 'kind: ClusterRole, name: rn', SA),
      request: get('nodes', undefined, { name: 'node-a' }),
      allowed: true,
    },
    {
      name: 'resourceNames does not grant get on another object',
      yaml:
        clusterRole(
          'rn',
          '[{apiGroups: [""], resources: [nodes], resourceNames: [node-a], verbs: [get, list]}]',
        ) + binding('ClusterRoleBinding', 'rn', 'kind: ClusterRole, name: rn', SA),
      request: get('nodes', undefined, { name: 'node-b' }),
      allowed: false,
    },
    {
      name: 'resourceNames never grants list',
      yaml:
        clusterRole(
          'rn',
          '[{apiGroups: [""], resources: [nodes], resourceNames: [node-a], verbs: [get, list]}]',
        ) + binding('ClusterRoleBinding', 'rn', 'kind: ClusterRole, name: rn', SA),
      request: { verb: 'list', group: '', resource: 'nodes' },
      allowed: false,
    },
    {
      name: 'a binding to group system:serviceaccounts:golang applies to ServiceAccounts of golang',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: dd',
          '[{kind: Group, name: "system:serviceaccounts:golang", apiGroup: rbac.authorization.k8s.io}]',
        ),
      request: get('nodes', 'proxy'),
      allowed: true,
    },
    {
      name: 'a binding to group system:serviceaccounts:golang does not apply to another namespace',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: dd',
          '[{kind: Group, name: "system:serviceaccounts:golang"}]',
        ),
      request: get('nodes', 'proxy'),
      allowed: false,
      sa: { namespace: 'java', name: 'default' },
    },
    {
      name: 'a binding to group system:serviceaccounts applies to every ServiceAccount',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: dd',
          '[{kind: Group, name: "system:serviceaccounts"}]',
        ),
      request: get('nodes', 'proxy'),
      allowed: true,
      sa: { namespace: 'java', name: 'worker' },
    },
    {
      name: 'a binding to group system:authenticated applies to ServiceAccounts',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: dd',
          '[{kind: Group, name: "system:authenticated"}]',
        ),
      request: get('nodes', 'proxy'),
      allowed: true,
    },
    {
      name: 'a binding to the ServiceAccount user name applies',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: dd',
          '[{kind: User, name: "system:serviceaccount:golang:default"}]',
        ),
      request: get('nodes', 'proxy'),
      allowed: true,
    },
    {
      name: 'a ServiceAccount subject without namespace defaults to the RoleBinding namespace',
      yaml:
        role('golang', 'ep', '[{apiGroups: [""], resources: [endpoints], verbs: [get]}]') +
        binding(
          'RoleBinding',
          'ep',
          'kind: Role, name: ep',
          '[{kind: ServiceAccount, name: default}]',
          'golang',
        ),
      request: get('endpoints', undefined, { namespace: 'golang', name: 'x' }),
      allowed: true,
    },
    {
      name: 'a ServiceAccount subject without namespace never matches in a ClusterRoleBinding',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: dd',
          '[{kind: ServiceAccount, name: default}]',
        ),
      request: get('nodes', 'proxy'),
      allowed: false,
    },
    {
      name: 'a ServiceAccount of the same name in another namespace does not match',
      yaml:
        clusterRole('dd', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: dd',
          '[{kind: ServiceAccount, name: default, namespace: datadog}]',
        ),
      request: get('nodes', 'proxy'),
      allowed: false,
    },
    {
      name: "a RoleBinding's Role resolves in the binding's namespace only",
      yaml:
        role('other', 'ep', '[{apiGroups: [""], resources: [endpoints], verbs: [get]}]') +
        binding('RoleBinding', 'ep', 'kind: Role, name: ep', SA, 'golang'),
      request: get('endpoints', undefined, { namespace: 'golang', name: 'x' }),
      allowed: false,
    },
    {
      name: 'a binding to a missing ClusterRole grants nothing',
      yaml: binding('ClusterRoleBinding', 'dd', 'kind: ClusterRole, name: does-not-exist', SA),
      request: get('nodes', 'proxy'),
      allowed: false,
    },
    {
      name: 'an aggregated ClusterRole grants the rules the API server materialised',
      yaml:
        clusterRole(
          'agg',
          NODES_PROXY,
          'aggregationRule: {clusterRoleSelectors: [{matchLabels: {dd: "true"}}]}',
        ) + binding('ClusterRoleBinding', 'agg', 'kind: ClusterRole, name: agg', SA),
      request: get('nodes', 'proxy'),
      allowed: true,
    },
    {
      name: 'a nonResourceURLs rule grants no resource',
      yaml:
        clusterRole('nr', '[{nonResourceURLs: ["*"], verbs: ["*"]}]') +
        binding('ClusterRoleBinding', 'nr', 'kind: ClusterRole, name: nr', SA),
      request: get('nodes'),
      allowed: false,
    },
  ])('$name', ({ yaml, request, allowed, sa }) => {
    const perms = indexOf(yaml).permissionsOf(sa ?? golangDefault);
    expect(perms.check(request).allowed).toBe(allowed);
    expect(perms.allows(request)).toBe(allowed);
  });

  it('explains a RoleBinding to nodes/proxy as a namespaced-binding near miss', () => {
    const perms = indexOf(
      clusterRole('dd', NODES_PROXY) +
        binding('RoleBinding', 'dd', 'kind: ClusterRole, name: dd', SA, 'golang'),
    ).permissionsOf(golangDefault);
    const d = perms.check(get('nodes', 'proxy'));
    expect(d.nearMisses.map((m) => [m.reason, m.rule.applied.binding.meta.name])).toEqual([
      ['namespaced-binding', 'dd'],
    ]);
  });

  it('explains a resourceNames rule as a resource-names near miss', () => {
    const perms = indexOf(
      clusterRole(
        'rn',
        '[{apiGroups: [""], resources: [nodes], resourceNames: [a], verbs: [list]}]',
      ) + binding('ClusterRoleBinding', 'rn', 'kind: ClusterRole, name: rn', SA),
    ).permissionsOf(golangDefault);
    expect(
      perms.check({ verb: 'list', group: '', resource: 'nodes' }).nearMisses.map((m) => m.reason),
    ).toEqual(['resource-names']);
  });

  it.each([
    ['missing-role', binding('ClusterRoleBinding', 'dd', 'kind: ClusterRole, name: gone', SA)],
    ['missing-role', binding('RoleBinding', 'dd', 'kind: Role, name: gone', SA, 'golang')],
    ['invalid-role-ref', binding('ClusterRoleBinding', 'dd', 'kind: Role, name: gone', SA)],
    [
      'subject-without-namespace',
      clusterRole('r', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: r',
          '[{kind: ServiceAccount, name: x}]',
        ),
    ],
  ])('records a %s problem for a binding that cannot grant', (code, yaml) => {
    expect(indexOf(yaml).problems.map((p) => p.code)).toEqual([code]);
  });

  it('lists a binding that applies through several subjects once', () => {
    const perms = indexOf(
      clusterRole('dd', NODES_PROXY) +
        binding(
          'ClusterRoleBinding',
          'dd',
          'kind: ClusterRole, name: dd',
          '[{kind: ServiceAccount, name: default, namespace: golang}, {kind: Group, name: "system:serviceaccounts"}]',
        ),
    ).permissionsOf(golangDefault);
    expect(perms.bindings).toHaveLength(1);
    expect(perms.bindings[0]!.via).toBe('ServiceAccount golang/default');
  });

  it('computes the permissions of 5,000 namespaces of ServiceAccounts without scanning every binding per account', () => {
    const {
      roles,
      roleBindings: bindings,
      clusterRoles,
      clusterRoleBindings,
    } = manyNamespacesRbac(5000);
    // Reads of any binding's subjects, counted: the index reads each once to build itself; an
    // evaluator that scanned every binding per account would read 5,000 per account (25 million).
    let subjectReads = 0;
    const counted = <B extends { subjects: unknown[] }>(b: B): B => {
      const { subjects, ...rest } = b;
      return Object.defineProperty({ ...rest }, 'subjects', {
        enumerable: true,
        get: () => {
          subjectReads += 1;
          return subjects;
        },
      }) as B;
    };
    const index = new RbacIndex({
      clusterRoles,
      roles,
      clusterRoleBindings: clusterRoleBindings.map(counted),
      roleBindings: bindings.map(counted),
    });
    const readsToIndex = subjectReads;
    let allowed = 0;
    for (let i = 0; i < 5000; i++) {
      const perms = index.permissionsOf({ namespace: `ns-${i}`, name: 'app' });
      if (perms.allows({ verb: 'list', group: '', resource: 'endpoints', namespace: `ns-${i}` }))
        allowed++;
      if (perms.allows(get('nodes', 'proxy'))) allowed++;
      expect(perms.bindings).toHaveLength(2);
    }
    expect(allowed).toBe(10000);
    // At most a few reads per account; how long it takes is a benchmark figure (npm run bench).
    expect(subjectReads - readsToIndex).toBeLessThan(5000 * 10);
  });
});
