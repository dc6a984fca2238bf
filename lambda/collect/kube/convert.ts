/**
 * Pure conversions from Kubernetes objects (JSON as served, or client-node models, whose
 * timestamps are Date objects) to snapshot types. No I/O here, so fixtures and the collector
 * share one definition of what the snapshot holds. Secrets are converted in secrets.ts only.
 */
import { redactProfileLiterals } from '../../snapshot/admission/sidecar-config.js';
import { digestSecret, isSensitiveName } from '../../snapshot/secret-digest.js';
import { convertEsTemplate, convertSyncWindows } from './convert-eso-settings.js';
import type { Raw } from './raw.js';
import type {
  Condition,
  Container,
  ContainerStatus,
  EnvVar,
  ExternalSecret,
  LabelSelector,
  MutatingWebhookConfiguration,
  Namespace,
  Node,
  ObjectMeta,
  PodSpec,
  Pod,
  PolicyRule,
  Role,
  RoleBinding,
  SecretStore,
  SecurityGroupPolicy,
  Service,
  ServiceAccount,
  ServiceEndpoints,
  Workload,
  WorkloadKind,
} from '../../snapshot/snapshot.js';

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

function arr<T = Raw>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function record(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = String(val);
  return out;
}

export function convertMeta(m: Raw): ObjectMeta {
  const meta: ObjectMeta = {
    name: String(m?.name ?? ''),
    labels: record(m?.labels),
    annotations: record(m?.annotations),
    ownerReferences: arr(m?.ownerReferences).map((o: Raw) => ({
      ...(o.apiVersion ? { apiVersion: String(o.apiVersion) } : {}),
      kind: String(o.kind),
      name: String(o.name),
      ...(o.controller !== undefined ? { controller: Boolean(o.controller) } : {}),
    })),
  };
  if (m?.namespace) meta.namespace = String(m.namespace);
  if (m?.uid) meta.uid = String(m.uid);
  const created = str(m?.creationTimestamp);
  if (created) meta.creationTimestamp = created;
  if (m?.resourceVersion) meta.resourceVersion = String(m.resourceVersion);
  return meta;
}

export function convertSelector(s: Raw): LabelSelector | undefined {
  if (!s || typeof s !== 'object') return undefined;
  const out: LabelSelector = {};
  if (s.matchLabels) out.matchLabels = record(s.matchLabels);
  if (s.matchExpressions) {
    out.matchExpressions = arr(s.matchExpressions).map((e: Raw) => ({
      key: String(e.key),
      operator: String(e.operator),
      ...(e.values ? { values: arr(e.values).map(String) } : {}),
    }));
  }
  return out;
}

/** Sidecar profiles may hold a literal token: the collector keeps their structure only. */
const SIDECAR_PROFILES_ENV = 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES';

export function convertEnvVar(e: Raw): EnvVar {
  const name = String(e.name);
  const out: EnvVar = { name };
  if (e.value !== undefined && e.value !== null) {
    // A literal token is itself a finding, but its value must not travel: keep a digest.
    if (isSensitiveName(name)) out.valueDigest = digestSecret(String(e.value));
    else if (name === SIDECAR_PROFILES_ENV) out.value = redactProfileLiterals(String(e.value));
    else out.value = String(e.value);
  }
  const vf = e.valueFrom;
  if (vf?.secretKeyRef) {
    out.secretKeyRef = {
      name: String(vf.secretKeyRef.name ?? ''),
      key: String(vf.secretKeyRef.key ?? ''),
      ...(vf.secretKeyRef.optional !== undefined
        ? { optional: Boolean(vf.secretKeyRef.optional) }
        : {}),
    };
  }
  if (vf?.configMapKeyRef) {
    out.configMapKeyRef = {
      name: String(vf.configMapKeyRef.name ?? ''),
      key: String(vf.configMapKeyRef.key ?? ''),
      ...(vf.configMapKeyRef.optional !== undefined
        ? { optional: Boolean(vf.configMapKeyRef.optional) }
        : {}),
    };
  }
  if (vf?.fieldRef) {
    out.fieldRef = {
      fieldPath: String(vf.fieldRef.fieldPath ?? ''),
      ...(vf.fieldRef.apiVersion ? { apiVersion: String(vf.fieldRef.apiVersion) } : {}),
    };
  }
  if (vf?.resourceFieldRef) {
    out.resourceFieldRef = {
      resource: String(vf.resourceFieldRef.resource ?? ''),
      ...(vf.resourceFieldRef.containerName
        ? { containerName: String(vf.resourceFieldRef.containerName) }
        : {}),
    };
  }
  return out;
}

function convertContainer(c: Raw): Container {
  return {
    name: String(c.name ?? ''),
    image: String(c.image ?? ''),
    env: arr(c.env).map(convertEnvVar),
    envFrom: arr(c.envFrom).map((f: Raw) => ({
      ...(f.prefix ? { prefix: String(f.prefix) } : {}),
      ...(f.secretRef
        ? {
            secretRef: {
              name: String(f.secretRef.name ?? ''),
              ...(f.secretRef.optional !== undefined
                ? { optional: Boolean(f.secretRef.optional) }
                : {}),
            },
          }
        : {}),
      ...(f.configMapRef
        ? {
            configMapRef: {
              name: String(f.configMapRef.name ?? ''),
              ...(f.configMapRef.optional !== undefined
                ? { optional: Boolean(f.configMapRef.optional) }
                : {}),
            },
          }
        : {}),
    })),
    ports: arr(c.ports).map((p: Raw) => ({
      ...(p.name ? { name: String(p.name) } : {}),
      containerPort: Number(p.containerPort),
      protocol: String(p.protocol ?? 'TCP'),
    })),
  };
}

export function convertPodSpec(s: Raw): PodSpec {
  const secretVolumes: string[] = [];
  for (const v of arr(s?.volumes)) {
    if (v.secret?.secretName) secretVolumes.push(String(v.secret.secretName));
    for (const src of arr(v.projected?.sources)) {
      if (src.secret?.name) secretVolumes.push(String(src.secret.name));
    }
  }
  const spec: PodSpec = {
    // Kubernetes admits pods without serviceAccountName into the `default` ServiceAccount.
    serviceAccountName: String(s?.serviceAccountName ?? s?.serviceAccount ?? 'default'),
    containers: arr(s?.containers).map(convertContainer),
    initContainers: arr(s?.initContainers).map(convertContainer),
    secretVolumes,
  };
  if (s?.nodeName) spec.nodeName = String(s.nodeName);
  return spec;
}

function convertContainerStatus(c: Raw): ContainerStatus {
  const st = c.state ?? {};
  const which = st.running
    ? 'running'
    : st.waiting
      ? 'waiting'
      : st.terminated
        ? 'terminated'
        : 'unknown';
  const detail = st.running ?? st.waiting ?? st.terminated ?? {};
  const out: ContainerStatus = {
    name: String(c.name ?? ''),
    ready: Boolean(c.ready),
    restartCount: Number(c.restartCount ?? 0),
    state: which,
  };
  if (detail.reason) out.reason = String(detail.reason);
  const started = str(detail.startedAt);
  if (started) out.startedAt = started;
  return out;
}

export function convertPod(p: Raw): Pod {
  const conditions: Record<string, string> = {};
  for (const c of arr(p.status?.conditions)) conditions[String(c.type)] = String(c.status);
  const status: Pod['status'] = {
    phase: String(p.status?.phase ?? 'Unknown'),
    conditions,
    containerStatuses: arr(p.status?.containerStatuses).map(convertContainerStatus),
  };
  const start = str(p.status?.startTime);
  if (start) status.startTime = start;
  if (p.status?.podIP) status.podIP = String(p.status.podIP);
  if (p.status?.hostIP) status.hostIP = String(p.status.hostIP);
  return { meta: convertMeta(p.metadata), spec: convertPodSpec(p.spec), status };
}

export function convertWorkload(kind: WorkloadKind, w: Raw): Workload {
  const out: Workload = {
    kind,
    meta: convertMeta(w.metadata),
    template: {
      meta: {
        labels: record(w.spec?.template?.metadata?.labels),
        annotations: record(w.spec?.template?.metadata?.annotations),
      },
      spec: convertPodSpec(w.spec?.template?.spec),
    },
  };
  const selector = convertSelector(w.spec?.selector);
  if (selector) out.selector = selector;
  if (w.spec?.replicas !== undefined) out.replicas = Number(w.spec.replicas);
  const ready = w.status?.readyReplicas ?? w.status?.numberReady;
  if (ready !== undefined) out.readyReplicas = Number(ready);
  return out;
}

export function convertNamespace(n: Raw): Namespace {
  return {
    meta: convertMeta(n.metadata),
    ...(n.status?.phase ? { phase: String(n.status.phase) } : {}),
  };
}

export function convertNode(n: Raw): Node {
  const meta = convertMeta(n.metadata);
  const providerID = n.spec?.providerID ? String(n.spec.providerID) : undefined;
  const instanceId = providerID?.match(/\/(i-[0-9a-f]+)$/)?.[1];
  const computeLabel = meta.labels['eks.amazonaws.com/compute-type'];
  const computeType: Node['computeType'] =
    computeLabel === 'fargate' || meta.name.startsWith('fargate-')
      ? 'fargate'
      : instanceId || computeLabel === 'ec2'
        ? 'ec2'
        : 'unknown';
  const internalIP = arr(n.status?.addresses).find((a: Raw) => a.type === 'InternalIP')?.address;
  const readyCond = arr(n.status?.conditions).find((c: Raw) => c.type === 'Ready');
  const out: Node = { meta, computeType, ready: readyCond?.status === 'True' };
  if (providerID) out.providerID = providerID;
  if (instanceId) out.instanceId = instanceId;
  const nodegroup = meta.labels['eks.amazonaws.com/nodegroup'];
  if (nodegroup) out.nodegroup = nodegroup;
  if (internalIP) out.internalIP = String(internalIP);
  return out;
}

export function convertService(s: Raw): Service {
  const out: Service = {
    meta: convertMeta(s.metadata),
    type: String(s.spec?.type ?? 'ClusterIP'),
    selector: record(s.spec?.selector),
    ports: arr(s.spec?.ports).map((p: Raw) => ({
      ...(p.name ? { name: String(p.name) } : {}),
      port: Number(p.port),
      ...(p.targetPort !== undefined
        ? { targetPort: typeof p.targetPort === 'number' ? p.targetPort : String(p.targetPort) }
        : {}),
      protocol: String(p.protocol ?? 'TCP'),
    })),
  };
  if (s.spec?.clusterIP) out.clusterIP = String(s.spec.clusterIP);
  return out;
}

/** Core v1 Endpoints of one Service. */
export function convertEndpoints(e: Raw): ServiceEndpoints {
  let ready = 0;
  let notReady = 0;
  const ports = new Map<string, { name?: string; port: number; protocol: string }>();
  for (const subset of arr(e.subsets)) {
    ready += arr(subset.addresses).length;
    notReady += arr(subset.notReadyAddresses).length;
    for (const p of arr(subset.ports)) {
      const port = {
        ...(p.name ? { name: String(p.name) } : {}),
        port: Number(p.port),
        protocol: String(p.protocol ?? 'TCP'),
      };
      ports.set(`${port.name ?? ''}/${port.port}/${port.protocol}`, port);
    }
  }
  return {
    namespace: String(e.metadata?.namespace ?? ''),
    serviceName: String(e.metadata?.name ?? ''),
    source: 'endpoints',
    readyAddresses: ready,
    notReadyAddresses: notReady,
    ports: [...ports.values()],
  };
}

/** EndpointSlices (discovery.k8s.io/v1), merged per owning Service. */
export function convertEndpointSlices(slices: Raw[]): ServiceEndpoints[] {
  const byService = new Map<string, ServiceEndpoints>();
  for (const s of slices) {
    const serviceName = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!serviceName) continue;
    const namespace = String(s.metadata?.namespace ?? '');
    const key = `${namespace}/${serviceName}`;
    let entry = byService.get(key);
    if (!entry) {
      entry = {
        namespace,
        serviceName: String(serviceName),
        source: 'endpointslices',
        readyAddresses: 0,
        notReadyAddresses: 0,
        ports: [],
      };
      byService.set(key, entry);
    }
    for (const ep of arr(s.endpoints)) {
      // conditions.ready unset means ready, per the EndpointSlice API.
      if (ep.conditions?.ready === false) entry.notReadyAddresses += 1;
      else entry.readyAddresses += 1;
    }
    for (const p of arr(s.ports)) {
      const port = {
        ...(p.name ? { name: String(p.name) } : {}),
        port: Number(p.port),
        protocol: String(p.protocol ?? 'TCP'),
      };
      if (
        !entry.ports.some(
          (q) => q.port === port.port && q.protocol === port.protocol && q.name === port.name,
        )
      ) {
        entry.ports.push(port);
      }
    }
  }
  return [...byService.values()];
}

export function convertServiceAccount(s: Raw): ServiceAccount {
  return { meta: convertMeta(s.metadata) };
}

function convertRule(r: Raw): PolicyRule {
  return {
    apiGroups: arr(r.apiGroups).map(String),
    resources: arr(r.resources).map(String),
    verbs: arr(r.verbs).map(String),
    resourceNames: arr(r.resourceNames).map(String),
    nonResourceURLs: arr(r.nonResourceURLs).map(String),
  };
}

export function convertRole(kind: Role['kind'], r: Raw): Role {
  return {
    kind,
    meta: convertMeta(r.metadata),
    rules: arr(r.rules).map(convertRule),
    aggregationSelectors: arr(r.aggregationRule?.clusterRoleSelectors)
      .map(convertSelector)
      .filter((s): s is LabelSelector => s !== undefined),
  };
}

export function convertRoleBinding(kind: RoleBinding['kind'], b: Raw): RoleBinding {
  return {
    kind,
    meta: convertMeta(b.metadata),
    roleRef: {
      apiGroup: String(b.roleRef?.apiGroup ?? 'rbac.authorization.k8s.io'),
      kind: String(b.roleRef?.kind ?? ''),
      name: String(b.roleRef?.name ?? ''),
    },
    subjects: arr(b.subjects).map((s: Raw) => ({
      kind: String(s.kind),
      name: String(s.name),
      ...(s.namespace ? { namespace: String(s.namespace) } : {}),
      ...(s.apiGroup ? { apiGroup: String(s.apiGroup) } : {}),
    })),
  };
}

export function convertConditions(v: unknown): Condition[] {
  return arr(v).map((c: Raw) => {
    const out: Condition = { type: String(c.type), status: String(c.status) };
    if (c.reason) out.reason = String(c.reason);
    if (c.message) out.message = String(c.message);
    const t = str(c.lastTransitionTime);
    if (t) out.lastTransitionTime = t;
    return out;
  });
}

export function convertExternalSecret(e: Raw): ExternalSecret {
  const spec = e.spec ?? {};
  const out: ExternalSecret = {
    meta: convertMeta(e.metadata),
    apiVersion: String(e.apiVersion ?? 'external-secrets.io/v1'),
    secretStoreRef: {
      name: String(spec.secretStoreRef?.name ?? ''),
      kind: String(spec.secretStoreRef?.kind ?? 'SecretStore'),
    },
    target: {
      ...(spec.target?.name ? { name: String(spec.target.name) } : {}),
      ...(spec.target?.creationPolicy
        ? { creationPolicy: String(spec.target.creationPolicy) }
        : {}),
      ...(spec.target?.deletionPolicy
        ? { deletionPolicy: String(spec.target.deletionPolicy) }
        : {}),
      hasTemplate: Boolean(spec.target?.template),
      ...(spec.target?.template ? { template: convertEsTemplate(spec.target.template) } : {}),
    },
    data: arr(spec.data).map((d: Raw) => ({
      secretKey: String(d.secretKey ?? ''),
      remoteRef: {
        key: String(d.remoteRef?.key ?? ''),
        ...(d.remoteRef?.property ? { property: String(d.remoteRef.property) } : {}),
        ...(d.remoteRef?.version ? { version: String(d.remoteRef.version) } : {}),
      },
    })),
    dataFrom: arr(spec.dataFrom).map((d: Raw) => ({
      ...(d.extract
        ? {
            extract: {
              key: String(d.extract.key ?? ''),
              ...(d.extract.property ? { property: String(d.extract.property) } : {}),
            },
          }
        : {}),
      ...(d.find
        ? {
            find: {
              ...(d.find.name?.regexp ? { name: String(d.find.name.regexp) } : {}),
              ...(d.find.path ? { path: String(d.find.path) } : {}),
            },
          }
        : {}),
    })),
    status: { conditions: convertConditions(e.status?.conditions) },
  };
  if (spec.refreshInterval !== undefined) out.refreshInterval = String(spec.refreshInterval);
  if (spec.refreshPolicy) out.refreshPolicy = String(spec.refreshPolicy);
  const windows = convertSyncWindows(spec.syncWindows);
  if (windows) out.syncWindows = windows;
  const refreshTime = str(e.status?.refreshTime);
  if (refreshTime) out.status.refreshTime = refreshTime;
  if (e.status?.syncedResourceVersion)
    out.status.syncedResourceVersion = String(e.status.syncedResourceVersion);
  if (e.status?.binding?.name) out.status.binding = String(e.status.binding.name);
  return out;
}

export function convertSecretStore(kind: SecretStore['kind'], s: Raw): SecretStore {
  const provider =
    s.spec?.provider && typeof s.spec.provider === 'object'
      ? Object.keys(s.spec.provider)[0]
      : undefined;
  const out: SecretStore = {
    kind,
    meta: convertMeta(s.metadata),
    conditions: convertConditions(s.status?.conditions),
  };
  if (provider) {
    out.provider = provider;
    const p = s.spec.provider[provider] ?? {};
    if (p.service) out.service = String(p.service);
    if (p.region) out.region = String(p.region);
    if (provider === 'kubernetes') out.remoteNamespace = String(p.remoteNamespace ?? 'default');
  }
  return out;
}

export function convertSecurityGroupPolicy(p: Raw): SecurityGroupPolicy {
  const out: SecurityGroupPolicy = {
    meta: convertMeta(p.metadata),
    groupIds: arr(p.spec?.securityGroups?.groupIds).map(String),
  };
  const pod = convertSelector(p.spec?.podSelector);
  if (pod) out.podSelector = pod;
  const sa = convertSelector(p.spec?.serviceAccountSelector);
  if (sa) out.serviceAccountSelector = sa;
  return out;
}

export function convertMutatingWebhookConfiguration(c: Raw): MutatingWebhookConfiguration {
  return {
    meta: convertMeta(c.metadata),
    webhooks: arr(c.webhooks).map((w: Raw) => {
      const svc = w.clientConfig?.service;
      const rules = arr(w.rules);
      const out: MutatingWebhookConfiguration['webhooks'][number] = {
        name: String(w.name ?? ''),
        operations: rules.flatMap((r: Raw) => arr(r.operations).map(String)),
        resources: rules.flatMap((r: Raw) => arr(r.resources).map(String)),
      };
      if (w.failurePolicy) out.failurePolicy = String(w.failurePolicy);
      if (svc) {
        out.service = {
          namespace: String(svc.namespace ?? ''),
          name: String(svc.name ?? ''),
          ...(svc.port !== undefined ? { port: Number(svc.port) } : {}),
          ...(svc.path ? { path: String(svc.path) } : {}),
        };
      }
      if (w.clientConfig?.url) out.url = String(w.clientConfig.url);
      const obj = convertSelector(w.objectSelector);
      if (obj) out.objectSelector = obj;
      const ns = convertSelector(w.namespaceSelector);
      if (ns) out.namespaceSelector = ns;
      return out;
    }),
  };
}
