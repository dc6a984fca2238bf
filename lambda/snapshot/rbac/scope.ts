/**
 * Which resources are cluster-scoped. The authorizer never sees a namespace on requests for these,
 * so only ClusterRoleBindings can grant them: a RoleBinding to a ClusterRole that lists `nodes`
 * grants nothing on nodes. Subresources share their parent's scope.
 */
const CLUSTER_SCOPED = new Set([
  '/nodes',
  '/namespaces',
  '/persistentvolumes',
  '/componentstatuses',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'storage.k8s.io/storageclasses',
  'storage.k8s.io/csinodes',
  'storage.k8s.io/csidrivers',
  'storage.k8s.io/volumeattachments',
  'apiextensions.k8s.io/customresourcedefinitions',
  'apiregistration.k8s.io/apiservices',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'certificates.k8s.io/certificatesigningrequests',
  'scheduling.k8s.io/priorityclasses',
  'node.k8s.io/runtimeclasses',
  'networking.k8s.io/ingressclasses',
  'flowcontrol.apiserver.k8s.io/flowschemas',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations',
  'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authentication.k8s.io/tokenreviews',
  'external-secrets.io/clustersecretstores',
]);

export function isClusterScoped(group: string, resource: string): boolean {
  return CLUSTER_SCOPED.has(`${group}/${resource}`);
}
