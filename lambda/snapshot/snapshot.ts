/**
 * The ClusterSnapshot: everything a check may see about one cluster.
 *
 * Collectors build it (all I/O happens there); checks read it and nothing else. Secret material
 * appears here only as {@link SecretDigest}: the raw bytes are dropped by the function that read
 * them. Timestamps are ISO-8601 strings so the snapshot is plain JSON (fixtures, archives).
 */

/** A secret value reduced to what checks may compare: never the value itself. */
export interface SecretDigest {
  /** Lowercase hex SHA-256 of the raw bytes. Compare with `digestsEqual`, never `===`. */
  sha256: string;
  /** Length in bytes. */
  length: number;
  flags: {
    leadingWhitespace: boolean;
    trailingWhitespace: boolean;
    /** Control characters or bytes outside printable ASCII/UTF-8 (e.g. a stray NUL or CR). */
    nonPrintable: boolean;
  };
}

/** Why a collection failed, kept per resource kind so checks can say "not evaluated". */
export interface CollectionFailure {
  source: 'kubernetes' | 'aws';
  /** Resource kind as the API names it: `pods`, `externalsecrets.external-secrets.io`, `eks:DescribeCluster`. */
  kind: string;
  /** Namespace/name when the failure is about one object (a secret GET), else absent. */
  namespace?: string;
  name?: string;
  /** HTTP status for Kubernetes; absent for network errors and timeouts. */
  status?: number;
  /** Short machine code: Forbidden, Unauthorized, NotFound, Gone, TooManyRequests, Timeout, BadResponse, Network, AccessDenied, ... */
  code: string;
  /** Human message naming what failed; never contains secret values. */
  message: string;
}

/**
 * Outcome of collecting one kind. `not-installed` is for optional CRDs (ESO, SecurityGroupPolicy):
 * it is a fact about the cluster, not an error.
 */
export type Collected<T> =
  | { status: 'ok'; value: T }
  | { status: 'not-installed'; detail: string }
  | { status: 'error'; error: CollectionFailure };

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  creationTimestamp?: string;
  resourceVersion?: string;
  ownerReferences: { apiVersion?: string; kind: string; name: string; controller?: boolean }[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------

/**
 * One environment variable. Literal values of sensitive names (token, key, secret, password,
 * credential) are replaced by `valueDigest`, so a plaintext token can be detected and compared
 * without being kept.
 */
export interface EnvVar {
  name: string;
  /** Literal value, only for names that are not sensitive. */
  value?: string;
  /** Digest of a literal value whose name is sensitive. */
  valueDigest?: SecretDigest;
  secretKeyRef?: { name: string; key: string; optional?: boolean };
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
  fieldRef?: { fieldPath: string; apiVersion?: string };
  resourceFieldRef?: { resource: string; containerName?: string };
}

export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}

export interface Container {
  name: string;
  image: string;
  env: EnvVar[];
  envFrom: EnvFromSource[];
  ports: { name?: string; containerPort: number; protocol: string }[];
}

export interface PodSpec {
  serviceAccountName: string;
  nodeName?: string;
  containers: Container[];
  initContainers: Container[];
  /** Names of secrets mounted as volumes (projected or plain). */
  secretVolumes: string[];
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  reason?: string;
  startedAt?: string;
}

export interface Pod {
  meta: ObjectMeta;
  spec: PodSpec;
  status: {
    phase: string;
    startTime?: string;
    podIP?: string;
    hostIP?: string;
    /** Pod condition type -> status ("True"/"False"/"Unknown"). */
    conditions: Record<string, string>;
    containerStatuses: ContainerStatus[];
  };
}

export type WorkloadKind = 'Deployment' | 'DaemonSet' | 'StatefulSet';

export interface Workload {
  kind: WorkloadKind;
  meta: ObjectMeta;
  selector?: LabelSelector;
  template: { meta: Pick<ObjectMeta, 'labels' | 'annotations'>; spec: PodSpec };
  replicas?: number;
  readyReplicas?: number;
}

export interface Namespace {
  meta: ObjectMeta;
  phase?: string;
}

export interface Node {
  meta: ObjectMeta;
  providerID?: string;
  /** EC2 instance id parsed from providerID (`aws:///<az>/i-...`); absent on Fargate. */
  instanceId?: string;
  /** From label `eks.amazonaws.com/compute-type` or a `fargate-` name. */
  computeType: 'fargate' | 'ec2' | 'unknown';
  /** Managed node group name (label `eks.amazonaws.com/nodegroup`), when any. */
  nodegroup?: string;
  internalIP?: string;
  ready: boolean;
}

// ---------------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------------

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol: string;
}

export interface Service {
  meta: ObjectMeta;
  type: string;
  clusterIP?: string;
  selector: Record<string, string>;
  ports: ServicePort[];
}

/** Endpoints of one Service, normalised from EndpointSlices (preferred) or core Endpoints. */
export interface ServiceEndpoints {
  namespace: string;
  serviceName: string;
  source: 'endpointslices' | 'endpoints';
  readyAddresses: number;
  notReadyAddresses: number;
  ports: { name?: string; port: number; protocol: string }[];
}

export interface ServiceAccount {
  meta: ObjectMeta;
}

// ---------------------------------------------------------------------------------------------
// RBAC
// ---------------------------------------------------------------------------------------------

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

export interface Role {
  kind: 'Role' | 'ClusterRole';
  meta: ObjectMeta;
  rules: PolicyRule[];
  /** ClusterRole aggregation selectors; the API server fills `rules` from them. */
  aggregationSelectors: LabelSelector[];
}

export interface Subject {
  kind: 'ServiceAccount' | 'User' | 'Group' | string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleBinding {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  meta: ObjectMeta;
  roleRef: { apiGroup: string; kind: 'Role' | 'ClusterRole' | string; name: string };
  subjects: Subject[];
}

/**
 * One SubjectAccessReview the collector asked the API server, to confirm a static RBAC verdict.
 * The collector asks for `plannedAccessReviews(snapshot)` (lambda/snapshot/rbac/access-review.ts) with
 * spec.user `system:serviceaccount:<namespace>:<serviceAccount>` and spec.groups
 * `system:serviceaccounts`, `system:serviceaccounts:<namespace>`, `system:authenticated` (the
 * authorizer sees only the groups the review names).
 */
export interface AccessReview {
  serviceAccount: string;
  /** Namespace of the ServiceAccount. */
  namespace: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** spec.resourceAttributes.namespace; absent for cluster-scoped and all-namespaces requests. */
  resourceNamespace?: string;
  /** spec.resourceAttributes.name, when the request is about one object. */
  name?: string;
  /** status.allowed. */
  allowed: boolean;
  /** status.denied (an authorizer explicitly denied). */
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

// ---------------------------------------------------------------------------------------------
// External Secrets Operator, Security Groups for Pods
// ---------------------------------------------------------------------------------------------

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** ESO `spec.syncWindows`: cron windows (UTC) that allow or deny periodic refreshes. */
export interface SyncWindows {
  /** `allow` or `deny` as written; ESO ignores the windows for any other value. */
  kind: string;
  windows: { schedule: string; duration?: string }[];
}

/** What `spec.target.template` does to each key, without the template text. */
export interface ExternalSecretTemplate {
  /** `Replace` (default) or `Merge`. */
  mergePolicy?: string;
  /** `templateFrom` entries exist: keys may come from ConfigMaps or Secrets the auditor does not read. */
  hasTemplateFrom: boolean;
  /**
   * `template.data` keys. `passthrough` names the data key when the template is exactly
   * `{{ .key }}` (the value verbatim); absent when it rewrites the value.
   */
  data: Record<string, { passthrough?: string }>;
}

export interface ExternalSecret {
  meta: ObjectMeta;
  /** `external-secrets.io/v1` or `external-secrets.io/v1beta1`. */
  apiVersion: string;
  /** As written (`1h`, `15m`, `0`); absent means the ESO default of 1h. */
  refreshInterval?: string;
  refreshPolicy?: string;
  /** `spec.syncWindows` (ESO 2.7+): when periodic refreshes are allowed or denied. */
  syncWindows?: SyncWindows;
  secretStoreRef: { name: string; kind: 'SecretStore' | 'ClusterSecretStore' | string };
  target: {
    /** Explicit `spec.target.name`; the effective name defaults to `meta.name`. */
    name?: string;
    creationPolicy?: string;
    deletionPolicy?: string;
    hasTemplate: boolean;
    /**
     * `spec.target.template`, reduced to what decides whether a key holds the remote value
     * verbatim (the template text itself is not kept). Absent without a template.
     */
    template?: ExternalSecretTemplate;
  };
  data: { secretKey: string; remoteRef: { key: string; property?: string; version?: string } }[];
  dataFrom: {
    extract?: { key: string; property?: string };
    find?: { name?: string; path?: string };
  }[];
  status: {
    conditions: Condition[];
    refreshTime?: string;
    syncedResourceVersion?: string;
    binding?: string;
  };
}

/**
 * A ClusterExternalSecret (cluster-scoped): one child ExternalSecret per selected namespace,
 * named `externalSecretName` (default: the ClusterExternalSecret's name).
 */
export interface ClusterExternalSecret {
  meta: ObjectMeta;
  /** `spec.namespaceSelectors`, ORed. */
  namespaceSelectors: LabelSelector[];
  /** Deprecated `spec.namespaceSelector`, ORed with the others. */
  namespaceSelector?: LabelSelector;
  /** Deprecated `spec.namespaces`, ORed with the selectors. */
  namespaces: string[];
  externalSecretName?: string;
  /** `spec.externalSecretSpec`, read as an ExternalSecret without metadata or status. */
  externalSecretSpec: ExternalSecret;
  /** `spec.refreshTime`: how often namespaces are re-selected. */
  refreshTime?: string;
  status: {
    externalSecretName?: string;
    provisionedNamespaces: string[];
    failedNamespaces: { namespace: string; reason?: string }[];
    conditions: Condition[];
  };
}

/** A PushSecret (`external-secrets.io/v1alpha1`): writes a Kubernetes Secret into a provider. */
export interface PushSecret {
  meta: ObjectMeta;
  /** `spec.selector.secret.name`: the Kubernetes Secret pushed. */
  sourceSecret?: string;
  secretStoreRefs: { name: string; kind: string }[];
  /** `spec.data[].match`: which Secret key goes to which remote key (and property). */
  data: { secretKey?: string; remoteKey: string; property?: string }[];
  refreshInterval?: string;
  updatePolicy?: string;
  conditions: Condition[];
}

/**
 * A ClusterPushSecret (`external-secrets.io/v1alpha1`, cluster-scoped): one child PushSecret per
 * selected namespace, named `pushSecretName` (default: its own name), each carrying its controller
 * ownerReference; ESO recreates a deleted child (external-secrets
 * `pkg/controllers/clusterpushsecret`).
 */
export interface ClusterPushSecret {
  meta: ObjectMeta;
  /** `spec.namespaceSelectors`, ORed. */
  namespaceSelectors: LabelSelector[];
  pushSecretName?: string;
  /** `spec.pushSecretSpec`, read as a PushSecret without metadata or status. */
  pushSecretSpec: PushSecret;
  status: {
    provisionedNamespaces: string[];
    failedNamespaces: { namespace: string; reason?: string }[];
    conditions: Condition[];
  };
}

export interface SecretStore {
  kind: 'SecretStore' | 'ClusterSecretStore';
  meta: ObjectMeta;
  /** First key under `spec.provider` (`aws`, `vault`, ...). */
  provider?: string;
  /** For the aws provider: `SecretsManager` or `ParameterStore`. */
  service?: string;
  region?: string;
  /** For the kubernetes provider: `spec.provider.kubernetes.remoteNamespace` (default `default`). */
  remoteNamespace?: string;
  conditions: Condition[];
}

export interface SecurityGroupPolicy {
  meta: ObjectMeta;
  podSelector?: LabelSelector;
  serviceAccountSelector?: LabelSelector;
  groupIds: string[];
}

// ---------------------------------------------------------------------------------------------
// Admission webhooks
// ---------------------------------------------------------------------------------------------

/** One webhook of a MutatingWebhookConfiguration (the CA bundle is not kept). */
export interface MutatingWebhook {
  name: string;
  /** `Fail` or `Ignore`; the API server defaults it to `Fail` for admissionregistration/v1. */
  failurePolicy?: string;
  /** clientConfig.service; absent when the webhook is called by URL. */
  service?: { namespace: string; name: string; port?: number; path?: string };
  /** clientConfig.url, when the webhook is called by URL instead of a Service. */
  url?: string;
  objectSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  /** Operations of every rule, flattened (`CREATE`, `UPDATE`, `*`). */
  operations: string[];
  /** Resources of every rule, flattened (`pods`). */
  resources: string[];
}

/** A MutatingWebhookConfiguration (admissionregistration.k8s.io/v1, cluster-scoped). */
export interface MutatingWebhookConfiguration {
  meta: ObjectMeta;
  webhooks: MutatingWebhook[];
}

// ---------------------------------------------------------------------------------------------
// The Datadog Operator (datadoghq.com/v2alpha1 DatadogAgent)
// ---------------------------------------------------------------------------------------------

/** `{secretName, keyName}` as the Operator's SecretConfig names a Secret key. */
export interface OperatorSecretRef {
  secretName: string;
  /** Absent when the resource leaves it empty (the Operator then falls back to its default). */
  keyName?: string;
}

/**
 * A DatadogAgent, reduced at conversion time to what the checks need. The literal
 * `spec.global.clusterAgentToken`, `status.clusterAgent.generatedToken`, literal API/app keys and
 * every annotation (kubectl's last-applied-configuration repeats the whole spec) are dropped by
 * the converter: only their presence (and the literal token's length) is kept.
 */
export interface DatadogAgent {
  /** Name, namespace, uid, creation time; labels and annotations are not kept. */
  meta: ObjectMeta;
  apiVersion: string;
  /** `spec.global.clusterAgentTokenSecret`. */
  clusterAgentTokenSecret?: OperatorSecretRef;
  /** `spec.global.clusterAgentToken` is set (non-empty); the value itself is never kept. */
  literalClusterAgentToken?: { length: number };
  /** `status.clusterAgent.generatedToken` is set: the Operator generated the token. */
  statusHasGeneratedToken: boolean;
  /** `spec.global.credentials`: Secret refs, and whether literal keys are set (never their values). */
  credentials: {
    apiSecret?: OperatorSecretRef;
    appSecret?: OperatorSecretRef;
    literalApiKey: boolean;
    literalAppKey: boolean;
  };
  /** `spec.features.admissionController`, absent when the resource does not set it. */
  admissionController?: {
    enabled?: boolean;
    mutateUnlabelled?: boolean;
    serviceName?: string;
    webhookName?: string;
    failurePolicy?: string;
    agentSidecarInjection?: {
      enabled?: boolean;
      clusterAgentCommunicationEnabled?: boolean;
      provider?: string;
      selectors: { objectSelector?: LabelSelector; namespaceSelector?: LabelSelector }[];
      /** Profile env as for containers (sensitive literal values become digests). */
      profiles: { env: EnvVar[] }[];
    };
  };
  /** `spec.override.clusterAgent.disabled`. */
  clusterAgentDisabled: boolean;
  /** The Cluster Agent Deployment and Service the Operator renders: `<name>-cluster-agent`. */
  clusterAgentName: string;
  /** `status.clusterAgent.deploymentName` when the Operator reported one. */
  statusClusterAgentDeployment?: string;
}

// ---------------------------------------------------------------------------------------------
// Secrets (read by name only)
// ---------------------------------------------------------------------------------------------

/** Why a secret was read: the metadata that named it. */
export interface SecretReference {
  via:
    | 'env-secretKeyRef'
    | 'envFrom-secretRef'
    | 'volume'
    | 'externalsecret-target'
    | 'cluster-agent-token'
    | 'admission-sidecar'
    | 'datadogagent';
  /** The object that names the secret, e.g. `Pod golang/app-7d9f` or `ExternalSecret datadog/datadog-secrets`. */
  from: string;
  /** For secretKeyRef: the key named. */
  key?: string;
}

export interface SecretSnapshot {
  meta: ObjectMeta;
  type: string;
  /** Field managers and when they last wrote (from managedFields): when the value last changed. */
  managedFields: {
    manager: string;
    operation: string;
    time?: string;
    /**
     * Data keys this manager owns (from fieldsV1 `f:data`); `[]` for a metadata-only manager;
     * absent when the API server sent no fieldsV1.
     */
    dataKeys?: string[];
  }[];
  /** Key -> digest of the decoded value. */
  data: Record<string, SecretDigest>;
}

export interface SecretLookup {
  namespace: string;
  name: string;
  references: SecretReference[];
  result:
    | { status: 'found'; secret: SecretSnapshot }
    | { status: 'not-found' }
    | { status: 'error'; error: CollectionFailure };
}

// ---------------------------------------------------------------------------------------------
// AWS
// ---------------------------------------------------------------------------------------------

export interface EksCluster {
  name: string;
  arn?: string;
  version?: string;
  status?: string;
  platformVersion?: string;
  endpoint?: string;
  endpointPublicAccess: boolean;
  endpointPrivateAccess: boolean;
  publicAccessCidrs: string[];
  clusterSecurityGroupId?: string;
  /** Additional security groups from resourcesVpcConfig.securityGroupIds. */
  securityGroupIds: string[];
  subnetIds: string[];
  vpcId?: string;
  /** API, API_AND_CONFIG_MAP or CONFIG_MAP. */
  authenticationMode?: string;
}

export interface FargateProfile {
  name: string;
  arn?: string;
  status: string;
  podExecutionRoleArn?: string;
  subnets: string[];
  selectors: { namespace: string; labels: Record<string, string> }[];
  healthIssues: { code?: string; message?: string; resourceIds: string[] }[];
}

/** One flattened security group rule (one source/destination per rule). */
export interface SgRule {
  direction: 'ingress' | 'egress';
  /** `-1` (all), `tcp`, `udp`, `icmp`, `icmpv6` or an IP protocol number as a string. */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  referencedGroupId?: string;
  prefixListId?: string;
  description?: string;
}

export interface SecurityGroup {
  groupId: string;
  groupName?: string;
  vpcId?: string;
  rules: SgRule[];
}

export interface Subnet {
  subnetId: string;
  vpcId?: string;
  cidrBlock?: string;
  ipv6CidrBlocks: string[];
  availabilityZone?: string;
  mapPublicIpOnLaunch: boolean;
}

export interface Route {
  destinationCidrBlock?: string;
  destinationIpv6CidrBlock?: string;
  destinationPrefixListId?: string;
  /** `igw-...`, `local`, `vgw-...` */
  gatewayId?: string;
  natGatewayId?: string;
  transitGatewayId?: string;
  vpcPeeringConnectionId?: string;
  networkInterfaceId?: string;
  state?: string;
}

export interface RouteTable {
  routeTableId: string;
  vpcId?: string;
  /** True for the VPC's main route table (applies to subnets without an explicit association). */
  main: boolean;
  subnetIds: string[];
  routes: Route[];
}

export interface Ec2Instance {
  instanceId: string;
  subnetId?: string;
  vpcId?: string;
  privateIpAddress?: string;
  securityGroupIds: string[];
}

/** One entry of aws-auth's `data.mapRoles`, as aws-iam-authenticator reads it (keys any case). */
export interface AwsAuthRoleMapping {
  rolearn: string;
  username?: string;
  groups: string[];
  /** Line of `data.mapRoles` (1-based) the entry starts on. */
  line: number;
}

/** Why a part of `data.mapRoles` cannot be used, at its line (1-based, within `data.mapRoles`). */
export interface AwsAuthProblem {
  line: number;
  message: string;
  /** True when EKS maps no role of `data.mapRoles` at all (bad YAML, not a list). */
  fatal: boolean;
}

/**
 * `kube-system/aws-auth`, read by name (one GET): only its role mappings, which name IAM roles and
 * Kubernetes groups, never credentials. `present: false` when the ConfigMap does not exist.
 */
export interface AwsAuth {
  present: boolean;
  mapRoles: AwsAuthRoleMapping[];
  problems: AwsAuthProblem[];
}

export interface AccessEntry {
  principalArn: string;
  type?: string;
  kubernetesGroups: string[];
}

/** The Cluster Agent token in Secrets Manager, reduced to digests at the moment it was read. */
export interface TokenSource {
  secretId: string;
  arn?: string;
  /** JSON property selected, when configured. */
  property?: string;
  /**
   * What the AWSCURRENT value turned out to be. `json-property-missing` and `not-json` only occur
   * when a property is configured.
   */
  valueKind:
    'string' | 'binary' | 'json-property-missing' | 'not-json' | 'json-property-not-string';
  current?: SecretDigest;
  /** Digest of the AWSPENDING version, when one exists (rotation in progress). */
  pending?: SecretDigest;
  lastChangedDate?: string;
  rotationEnabled: boolean;
  /** DescribeSecret LastRotatedDate / NextRotationDate, when rotation ever ran / is scheduled. */
  lastRotatedDate?: string;
  nextRotationDate?: string;
  /** Version id -> stages, from DescribeSecret. */
  versionStages: Record<string, string[]>;
}

// ---------------------------------------------------------------------------------------------
// The snapshot
// ---------------------------------------------------------------------------------------------

/** The settings the snapshot was collected and is judged with (from the configuration). */
import type { AuditSettings } from '../config/config.js';
export type { AuditSettings };

export interface KubeSnapshot {
  namespaces: Collected<Namespace[]>;
  nodes: Collected<Node[]>;
  pods: Collected<Pod[]>;
  deployments: Collected<Workload[]>;
  daemonsets: Collected<Workload[]>;
  statefulsets: Collected<Workload[]>;
  services: Collected<Service[]>;
  endpoints: Collected<ServiceEndpoints[]>;
  serviceAccounts: Collected<ServiceAccount[]>;
  clusterRoles: Collected<Role[]>;
  clusterRoleBindings: Collected<RoleBinding[]>;
  roles: Collected<Role[]>;
  roleBindings: Collected<RoleBinding[]>;
  externalSecrets: Collected<ExternalSecret[]>;
  secretStores: Collected<SecretStore[]>;
  clusterSecretStores: Collected<SecretStore[]>;
  /** DatadogAgents of the Datadog Operator; `not-installed` without its CRD. */
  datadogAgents: Collected<DatadogAgent[]>;
  securityGroupPolicies: Collected<SecurityGroupPolicy[]>;
  /** Cluster-scoped; the Cluster Agent's admission controller writes one (default `datadog-webhook`). */
  mutatingWebhooks: Collected<MutatingWebhookConfiguration[]>;
  /** Optional CRD; absent in snapshots made before it was collected. */
  clusterExternalSecrets?: Collected<ClusterExternalSecret[]>;
  /** Optional CRD (`v1alpha1`); absent in snapshots made before it was collected. */
  pushSecrets?: Collected<PushSecret[]>;
  /** Optional CRD (`v1alpha1`); absent in snapshots made before it was collected. */
  clusterPushSecrets?: Collected<ClusterPushSecret[]>;
  /**
   * SubjectAccessReviews confirming the RBAC checks' static verdicts. Absent when not run;
   * `not-installed` when the auditor may not create subjectaccessreviews (optional confirmation).
   */
  accessReviews?: Collected<AccessReview[]>;
  /**
   * `kube-system/aws-auth` (GET by name) for the CONFIG_MAP and API_AND_CONFIG_MAP authentication
   * modes; `not-installed` in API mode (EKS does not read it). Absent in older snapshots.
   */
  awsAuth?: Collected<AwsAuth>;
  /** Only the secrets named by the objects above, each read with one GET. */
  secrets: SecretLookup[];
}

export interface AwsSnapshot {
  cluster: Collected<EksCluster>;
  fargateProfiles: Collected<FargateProfile[]>;
  securityGroups: Collected<SecurityGroup[]>;
  subnets: Collected<Subnet[]>;
  routeTables: Collected<RouteTable[]>;
  instances: Collected<Ec2Instance[]>;
  accessEntries: Collected<AccessEntry[]>;
  tokenSource: Collected<TokenSource>;
  /**
   * The Datadog API and application keys in Secrets Manager, reduced like the token. Absent in
   * snapshots made before they were collected.
   */
  keySources?: { apiKey: Collected<TokenSource>; appKey: Collected<TokenSource> };
}

export interface CollectionStats {
  kubeListPages: number;
  kubeGets: number;
  /** SubjectAccessReviews asked, when the RBAC confirmation ran. */
  kubeAccessReviews?: number;
  awsCalls: number;
  durationMs: number;
}

export interface ClusterSnapshot {
  schemaVersion: 1;
  cluster: {
    name: string;
    region?: string;
    /** How the Kubernetes side was reached. */
    access: 'eks-iam' | 'kubeconfig' | 'demo';
  };
  /** When collection started; checks use this instead of the clock. */
  collectedAt: string;
  settings: AuditSettings;
  kube: KubeSnapshot;
  /** Absent when the AWS side was not collected (kubeconfig mode without AWS credentials). */
  aws: AwsSnapshot;
  stats: CollectionStats;
  /**
   * The previous run's copy record (from its archived report), added by the handler after
   * collection so checks can tell what changed between runs. Absent on a first run, without an
   * archive, and in the CLI.
   */
  previousRun?: CopyRecordSet;
}

/**
 * One Secret key holding the token or a Datadog key as one run saw it
 * (lambda/snapshot/copies/record.ts): fingerprints and times, never a value or its digest.
 */
export interface CopyRecord {
  namespace: string;
  secret: string;
  key: string;
  /** Keyed, truncated SHA-256 of the value's digest: equal across runs exactly when the value is. */
  fingerprint: string;
  /** The same for ESO's data-hash annotation (a hash of the whole data map), when present. */
  dataHash?: string;
  /** When the key was last written at the latest, as that run saw it. */
  lastWrite?: string;
  resourceVersion?: string;
}

export interface CopyRecordSet {
  /** The run's collection time. */
  collectedAt: string;
  copies: CopyRecord[];
}

export type KubeKey = Exclude<keyof KubeSnapshot, 'secrets'>;
export type AwsKey = keyof AwsSnapshot;
/** A piece of the snapshot a check can declare it needs: `kube.pods`, `aws.cluster`. */
export type DataKey = `kube.${KubeKey}` | `aws.${AwsKey}`;

/** The value of a collected kind, or an empty list when it failed or is not installed. */
export function itemsOf<T>(c: Collected<T[]>): T[] {
  return c.status === 'ok' ? c.value : [];
}

export function valueOf<T>(c: Collected<T>): T | undefined {
  return c.status === 'ok' ? c.value : undefined;
}

export function collectedAt(snapshot: ClusterSnapshot, key: DataKey): Collected<unknown> {
  const [side, name] = key.split('.') as ['kube' | 'aws', string];
  const bucket = snapshot[side] as unknown as Record<string, Collected<unknown>>;
  const found = bucket[name];
  if (!found) throw new Error(`snapshot has no ${key}`);
  return found;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function refOf(meta: Pick<ObjectMeta, 'name' | 'namespace'>): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}
