import type { KubeKindSpec } from './port.js';

/**
 * Every Kubernetes kind the collectors read, and how. This list is the single source for the
 * collector, the auditor's RBAC manifest (print-rbac, infra/kubernetes/auditor-rbac.yaml) and the
 * least-privilege tests. Secrets are read with `get` by name only, never listed.
 */
export const KUBE_KINDS: readonly KubeKindSpec[] = [
  {
    key: 'namespaces',
    group: '',
    version: 'v1',
    resource: 'namespaces',
    namespaced: false,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'nodes',
    group: '',
    version: 'v1',
    resource: 'nodes',
    namespaced: false,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'pods',
    group: '',
    version: 'v1',
    resource: 'pods',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'services',
    group: '',
    version: 'v1',
    resource: 'services',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'serviceAccounts',
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'deployments',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'daemonsets',
    group: 'apps',
    version: 'v1',
    resource: 'daemonsets',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'statefulsets',
    group: 'apps',
    version: 'v1',
    resource: 'statefulsets',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'endpoints',
    group: 'discovery.k8s.io',
    version: 'v1',
    resource: 'endpointslices',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'clusterRoles',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    namespaced: false,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'clusterRoleBindings',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
    namespaced: false,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'roles',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'roles',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'roleBindings',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'rolebindings',
    namespaced: true,
    optional: false,
    verbs: ['list'],
  },
  {
    key: 'externalSecrets',
    group: 'external-secrets.io',
    version: 'v1',
    fallbackVersions: ['v1beta1'],
    resource: 'externalsecrets',
    namespaced: true,
    optional: true,
    verbs: ['list'],
  },
  {
    key: 'secretStores',
    group: 'external-secrets.io',
    version: 'v1',
    fallbackVersions: ['v1beta1'],
    resource: 'secretstores',
    namespaced: true,
    optional: true,
    verbs: ['list'],
  },
  {
    key: 'clusterSecretStores',
    group: 'external-secrets.io',
    version: 'v1',
    fallbackVersions: ['v1beta1'],
    resource: 'clustersecretstores',
    namespaced: false,
    optional: true,
    verbs: ['list'],
  },
  {
    key: 'clusterExternalSecrets',
    group: 'external-secrets.io',
    version: 'v1',
    fallbackVersions: ['v1beta1'],
    resource: 'clusterexternalsecrets',
    namespaced: false,
    optional: true,
    verbs: ['list'],
  },
  {
    key: 'pushSecrets',
    group: 'external-secrets.io',
    version: 'v1alpha1',
    resource: 'pushsecrets',
    namespaced: true,
    optional: true,
    verbs: ['list'],
  },
  {
    key: 'securityGroupPolicies',
    group: 'vpcresources.k8s.aws',
    version: 'v1beta1',
    resource: 'securitygrouppolicies',
    namespaced: true,
    optional: true,
    verbs: ['list'],
  },
  {
    key: 'secrets',
    group: '',
    version: 'v1',
    resource: 'secrets',
    namespaced: true,
    optional: false,
    verbs: ['get'],
  },
];

export function kindByKey(key: string): KubeKindSpec {
  const spec = KUBE_KINDS.find((k) => k.key === key);
  if (!spec) throw new Error(`unknown Kubernetes kind key ${key}`);
  return spec;
}

/** `pods`, `externalsecrets.external-secrets.io`: how failures and RBAC name a kind. */
export function qualifiedResource(spec: KubeKindSpec): string {
  return spec.group ? `${spec.resource}.${spec.group}` : spec.resource;
}
