/**
 * Finds the Datadog Cluster Agent and every node agent container in a snapshot. Shared by the
 * wiring, RBAC, token and network checks so they agree on what "an agent" is.
 */
import {
  INJECTED_CONTAINER,
  readInjectionConfig,
  sidecarRequestMatcher,
  sidecarSecretInputs,
  type InjectionConfig,
  type InjectionSource,
  type SidecarRequestMatcher,
  type SidecarSecretInput,
} from './admission/sidecar-config.js';
import {
  itemsOf,
  type ClusterSnapshot,
  type Container,
  type Node,
  type Pod,
  type Service,
  type Workload,
} from './snapshot.js';
import { onFargateNode, templateOnFargate } from './workloads/fargate-profiles.js';
import { ownerWorkload, workloadIndex } from './workloads/owners.js';
import { isLivePod } from './workloads/pods.js';

/** Labels the Datadog Helm chart and the Datadog Operator put on the Cluster Agent. */
const CLUSTER_AGENT_LABELS: [string, RegExp][] = [
  ['app.kubernetes.io/component', /^cluster-agent$/],
  ['agent.datadoghq.com/component', /^cluster-agent$/],
  ['app', /cluster-agent$/],
];

export function isClusterAgentContainer(c: Container): boolean {
  return /cluster-agent/i.test(c.image) || /^cluster-agent$/.test(c.name);
}

function hasClusterAgentLabels(labels: Record<string, string>): boolean {
  return CLUSTER_AGENT_LABELS.some(([k, re]) => labels[k] !== undefined && re.test(labels[k]!));
}

/** A node agent container: the Datadog agent image, a `datadog-agent*` name, or DD_API_KEY + DD_CLUSTER_AGENT_*. */
export function isNodeAgentContainer(c: Container): boolean {
  if (isClusterAgentContainer(c)) return false;
  if (/cluster-checks|clusterchecks/i.test(c.image)) return false;
  const names = new Set(c.env.map((e) => e.name));
  return (
    /(^|\/)(datadog\/)?agent(:|@|$)/i.test(c.image) ||
    /datadoghq\/agent|datadog\/agent/i.test(c.image) ||
    /^datadog-agent/i.test(c.name) ||
    (names.has('DD_API_KEY') && [...names].some((n) => n.startsWith('DD_CLUSTER_AGENT_')))
  );
}

/** Whether a pod runs on a Fargate node (the one rule in workloads/fargate-profiles.ts). */
export function isOnFargate(pod: Pod, nodes: Map<string, Node>): boolean {
  const node = pod.spec.nodeName ? nodes.get(pod.spec.nodeName) : undefined;
  return onFargateNode(pod.meta.labels, pod.spec.nodeName, node);
}

export interface AgentContainer {
  /** The running pod, when the agent runs; absent for a workload template with no pods. */
  pod?: Pod;
  /** The owning Deployment/DaemonSet/StatefulSet when known (by owner reference or template). */
  workload?: Workload;
  namespace: string;
  container: Container;
  serviceAccountName: string;
  onFargate: boolean;
  /** The admission controller added this container (`datadog-agent-injected`). */
  injected?: boolean;
}

/** A running pod that the admission controller's selectors pick (or were meant to pick). */
export interface SidecarRequest {
  pod: Pod;
  workload?: Workload;
  namespace: string;
  /** True when the pod got its `datadog-agent-injected` container. */
  injected: boolean;
  onFargate: boolean;
}

export interface ClusterAgent {
  namespace: string;
  deployment?: Workload;
  pods: Pod[];
  containers: Container[];
  serviceAccountName: string;
  /** The Service selecting the Cluster Agent pods (port 5005 by default), when found. */
  service?: Service;
  /** `namespace/name` of the DatadogAgent whose Operator renders this Cluster Agent, when it does. */
  datadogAgent?: string;
}

export interface AgentDiscovery {
  clusterAgent?: ClusterAgent;
  /** Node agent containers (sidecars on Fargate, DaemonSet pods on EC2), one per pod/container. */
  agents: AgentContainer[];
  nodesByName: Map<string, Node>;
  /** Sidecar injection as the Cluster Agent's own environment configures it. */
  injection?: InjectionConfig;
  /** Pods asking for an injected sidecar (by the effective selector) or carrying one. */
  sidecarRequests: SidecarRequest[];
  /** Whether labels in a namespace ask for a sidecar; for workload templates. */
  asksForSidecar: SidecarRequestMatcher;
  /**
   * The Secret keys an injected sidecar reads (datadog-secret, or what the profile names instead),
   * including for pods that have yet to be injected.
   */
  sidecarInputs: SidecarSecretInput[];
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/**
 * The DatadogAgent that renders a Cluster Agent: the Deployment's owner reference, else the labels
 * the Operator puts on everything it manages (`agent.datadoghq.com/name`, managed-by).
 */
function operatorOwner(w: Workload | undefined, pod: Pod | undefined): string | undefined {
  const meta = w?.meta ?? pod?.meta;
  if (!meta) return undefined;
  const ns = meta.namespace ?? '';
  const owner = w?.meta.ownerReferences.find((o) => o.kind === 'DatadogAgent');
  if (owner) return `${ns}/${owner.name}`;
  const labels = meta.labels;
  if (
    labels['app.kubernetes.io/managed-by'] === 'datadog-operator' &&
    labels['agent.datadoghq.com/name']
  ) {
    return `${ns}/${labels['agent.datadoghq.com/name']}`;
  }
  return undefined;
}

/** Most checks start from the agents of the same snapshot; they are found once per snapshot. */
const DISCOVERY_CACHE = new WeakMap<ClusterSnapshot, AgentDiscovery>();

/**
 * The Cluster Agent and the node agents of a snapshot. Callers get their own `agents` array; the
 * entries and the node map are shared between them and must not be changed.
 */
export function discoverAgents(snapshot: ClusterSnapshot): AgentDiscovery {
  let found = DISCOVERY_CACHE.get(snapshot);
  if (!found) {
    found = findAgents(snapshot);
    DISCOVERY_CACHE.set(snapshot, found);
  }
  return { ...found, agents: [...found.agents], sidecarRequests: [...found.sidecarRequests] };
}

function findAgents(snapshot: ClusterSnapshot): AgentDiscovery {
  const nodesByName = new Map(itemsOf(snapshot.kube.nodes).map((n) => [n.meta.name, n]));
  const workloadList = [
    ...itemsOf(snapshot.kube.deployments),
    ...itemsOf(snapshot.kube.daemonsets),
    ...itemsOf(snapshot.kube.statefulsets),
  ];
  const workloads = workloadIndex(snapshot);
  const pods = itemsOf(snapshot.kube.pods).filter(isLivePod);
  const override = snapshot.settings.clusterAgent;

  // Cluster Agent: configured namespace first, then chart/operator labels, then the image.
  const caPods = pods.filter(
    (p) =>
      (!override.namespace || p.meta.namespace === override.namespace) &&
      (hasClusterAgentLabels(p.meta.labels) || p.spec.containers.some(isClusterAgentContainer)),
  );
  const caDeployment =
    (caPods[0] && ownerWorkload(caPods[0], workloads)) ??
    workloadList.find(
      (w) =>
        w.kind === 'Deployment' &&
        (!override.namespace || w.meta.namespace === override.namespace) &&
        (hasClusterAgentLabels(w.template.meta.labels) ||
          w.template.spec.containers.some(isClusterAgentContainer)),
    );
  let clusterAgent: ClusterAgent | undefined;
  const caNamespace = caDeployment?.meta.namespace ?? caPods[0]?.meta.namespace;
  if (caNamespace) {
    const spec = caPods[0]?.spec ?? caDeployment!.template.spec;
    const podLabels = caPods[0]?.meta.labels ?? caDeployment?.template.meta.labels ?? {};
    const services = itemsOf(snapshot.kube.services).filter(
      (s) => s.meta.namespace === caNamespace,
    );
    const service =
      (override.serviceName && services.find((s) => s.meta.name === override.serviceName)) ||
      services.find(
        (s) => selects(s.selector, podLabels) && s.ports.some((p) => p.port === override.port),
      ) ||
      services.find((s) => selects(s.selector, podLabels));
    const datadogAgent = operatorOwner(caDeployment, caPods[0]);
    clusterAgent = {
      ...(datadogAgent ? { datadogAgent } : {}),
      namespace: caNamespace,
      pods: caPods.filter((p) => p.meta.namespace === caNamespace),
      containers: spec.containers.filter(isClusterAgentContainer),
      serviceAccountName: spec.serviceAccountName,
      ...(caDeployment ? { deployment: caDeployment } : {}),
      ...(service ? { service } : {}),
    };
  }

  const caContainer = clusterAgent?.containers[0];
  const source: InjectionSource | undefined = clusterAgent?.datadogAgent
    ? { kind: 'operator', datadogAgent: clusterAgent.datadogAgent }
    : undefined;
  const injection =
    caContainer && readInjectionConfig(caContainer, clusterAgent!.namespace, source);
  const asksForSidecar = sidecarRequestMatcher(injection, itemsOf(snapshot.kube.namespaces));
  const caPodSet = new Set(clusterAgent?.pods ?? []);

  const agents: AgentContainer[] = [];
  const sidecarRequests: SidecarRequest[] = [];
  const coveredWorkloads = new Set<Workload>();
  for (const pod of pods) {
    const workload = ownerWorkload(pod, workloads);
    const namespace = pod.meta.namespace ?? '';
    let injected = false;
    for (const container of pod.spec.containers) {
      if (container.name === INJECTED_CONTAINER) injected = true;
      if (!isNodeAgentContainer(container) && container.name !== INJECTED_CONTAINER) continue;
      if (workload) coveredWorkloads.add(workload);
      agents.push({
        pod,
        namespace,
        container,
        serviceAccountName: pod.spec.serviceAccountName,
        onFargate: isOnFargate(pod, nodesByName),
        ...(workload ? { workload } : {}),
        ...(container.name === INJECTED_CONTAINER ? { injected: true } : {}),
      });
    }
    if (injected || (!caPodSet.has(pod) && asksForSidecar(pod.meta.labels, namespace))) {
      sidecarRequests.push({
        pod,
        namespace,
        injected,
        onFargate: isOnFargate(pod, nodesByName),
        ...(workload ? { workload } : {}),
      });
    }
  }
  // Templates without running pods still carry the wiring that the next pod will get; whether that
  // pod lands on Fargate is decided by the Fargate profiles' selectors.
  const profiles = snapshot.aws?.fargateProfiles ? itemsOf(snapshot.aws.fargateProfiles) : [];
  for (const w of workloadList) {
    if (coveredWorkloads.has(w)) continue;
    for (const container of w.template.spec.containers) {
      if (!isNodeAgentContainer(container)) continue;
      agents.push({
        workload: w,
        namespace: w.meta.namespace ?? '',
        container,
        serviceAccountName: w.template.spec.serviceAccountName,
        onFargate: templateOnFargate(w, profiles),
      });
    }
  }
  return {
    ...(clusterAgent ? { clusterAgent } : {}),
    agents,
    nodesByName,
    ...(injection ? { injection } : {}),
    sidecarRequests,
    asksForSidecar,
    sidecarInputs: sidecarSecretInputs(injection),
  };
}

/**
 * A cluster checks runner: the agent image running checks the Cluster Agent dispatches
 * (`DD_CLC_RUNNER_ENABLED`, or the chart's/operator's labels). It never reads the kubelet, so the
 * Fargate sidecar rules (kubelet proxy mode, the Fargate ClusterRole) do not apply to it.
 */
export function isClusterChecksRunner(a: AgentContainer): boolean {
  const labels = a.pod?.meta.labels ?? a.workload?.template.meta.labels ?? {};
  if (
    labels['app.kubernetes.io/component'] === 'clusterchecks-agent' ||
    labels['agent.datadoghq.com/component'] === 'cluster-checks-runner'
  ) {
    return true;
  }
  let enabled: string | undefined;
  for (const e of a.container.env) if (e.name === 'DD_CLC_RUNNER_ENABLED') enabled = e.value;
  return /^(1|t|true)$/i.test(enabled?.trim() ?? '');
}

/** Human label for where an agent runs: `Pod golang/app-7d9f` or `Deployment golang/app`. */
export function agentLocation(a: AgentContainer): string {
  return a.pod
    ? `Pod ${a.namespace}/${a.pod.meta.name}`
    : `${a.workload!.kind} ${a.namespace}/${a.workload!.meta.name}`;
}
