/**
 * Which way Datadog gets onto this cluster's pods: hand-written sidecars, a DaemonSet on EC2 nodes,
 * admission-controller injection, the Datadog Operator. One answer per snapshot, computed from the
 * shared agent discovery, shown in every report's cluster summary and used by the checks that must
 * say "there is nothing to audit" instead of passing.
 *
 * A new setup is one more detector in SETUP_DETECTORS, not a change to each renderer.
 */
import type { ClusterSnapshot } from './snapshot.js';
import { discoverAgents, isClusterChecksRunner, type AgentDiscovery } from './agents.js';
import { operatorSetups } from './operator.js';

export type SetupKindId =
  'hand-written-sidecars' | 'daemonset' | 'admission-injection' | 'operator' | (string & {});

export interface SetupKind {
  kind: SetupKindId;
  /** One line for humans: `admission-controller injection (provider fargate): 3 pods injected`. */
  detail: string;
}

export interface ClusterSetup {
  /** Every way found, in detector order; empty when no Datadog agent setup was found. */
  kinds: SetupKind[];
  /** `Cluster Agent datadog/datadog-agent-cluster-agent`, or absent when none was found. */
  clusterAgent?: string;
  /** One line: the kinds' details joined, or `no Datadog agent setup found`. */
  summary: string;
}

export type SetupDetector = (snapshot: ClusterSnapshot, discovery: AgentDiscovery) => SetupKind[];

/** One way Datadog gets onto pods: how it is found, what is audited; the README's table is built from these. */
export interface SetupDetectorEntry {
  kind: SetupKindId;
  /** `Datadog Operator`: the setup's name in the README. */
  name: string;
  /** What in the cluster makes the detector report it. */
  recognisedBy: string;
  /** What the checks audit for it. */
  audited: string;
  detect: SetupDetector;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function handWrittenSidecars(_: ClusterSnapshot, d: AgentDiscovery): SetupKind[] {
  const places = new Set<string>();
  for (const a of d.agents) {
    if (a.injected || isClusterChecksRunner(a) || a.workload?.kind === 'DaemonSet') continue;
    places.add(
      a.workload
        ? `${a.workload.kind} ${a.namespace}/${a.workload.meta.name}`
        : `Pod ${a.namespace}/${a.pod!.meta.name}`,
    );
  }
  if (!places.size) return [];
  return [
    {
      kind: 'hand-written-sidecars',
      detail: `hand-written agent sidecars in ${plural(places.size, 'workload')}`,
    },
  ];
}

/**
 * A node agent DaemonSet, with where its pods run. Fargate runs no DaemonSet pods: a DaemonSet
 * with none (the Operator and the chart render one unless the node agent is disabled) is named as
 * such, never as running on EC2 nodes.
 */
function daemonSets(_: ClusterSnapshot, d: AgentDiscovery): SetupKind[] {
  const sets = new Map<string, Set<string>>();
  for (const a of d.agents) {
    if (a.workload?.kind !== 'DaemonSet') continue;
    const key = `${a.namespace}/${a.workload.meta.name}`;
    const pods = sets.get(key) ?? new Set<string>();
    if (a.pod) pods.add(a.pod.meta.name);
    sets.set(key, pods);
  }
  const ec2Nodes = [...d.nodesByName.values()].some((n) => n.computeType !== 'fargate');
  return [...sets].map(([s, pods]) => ({
    kind: 'daemonset',
    detail: pods.size
      ? `agent DaemonSet ${s} (${plural(pods.size, 'pod')} on EC2 nodes)`
      : `agent DaemonSet ${s} (no pods: ${
          ec2Nodes
            ? 'none scheduled on the EC2 nodes'
            : 'no EC2 nodes, and Fargate runs no DaemonSet pods'
        })`,
  }));
}

function admissionInjection(_: ClusterSnapshot, d: AgentDiscovery): SetupKind[] {
  const inj = d.injection;
  const injected = d.sidecarRequests.filter((r) => r.injected).length;
  const waiting = d.sidecarRequests.length - injected;
  if (!injected && !(inj && inj.configured)) return [];
  const provider = inj?.provider ? `provider ${inj.provider}` : 'no provider';
  const state =
    inj === undefined
      ? 'configuration not found'
      : inj.state === 'on'
        ? 'webhook on'
        : inj.state === 'off'
          ? 'webhook OFF'
          : 'configuration not evaluated';
  return [
    {
      kind: 'admission-injection',
      detail: `admission-controller sidecar injection (${provider}, ${state}): ${plural(injected, 'pod')} injected, ${waiting} waiting`,
    },
  ];
}

function operator(snapshot: ClusterSnapshot): SetupKind[] {
  return operatorSetups(snapshot).map((d) => ({
    kind: 'operator',
    detail: `Datadog Operator (DatadogAgent ${d.namespace}/${d.name})`,
  }));
}

/** In report order. Append a detector to teach the auditor a new setup (and the README's table). */
export const SETUP_DETECTORS: readonly SetupDetectorEntry[] = [
  {
    kind: 'operator',
    name: 'Datadog Operator',
    recognisedBy:
      'a `DatadogAgent` (`datadoghq.com/v2alpha1`, listed when its CRD is installed); the Cluster Agent it renders is tied to it by owner reference or the labels `app.kubernetes.io/managed-by: datadog-operator` and `agent.datadoghq.com/name`',
    audited:
      "the DatadogAgent's token (`spec.global.clusterAgentToken` literal, `clusterAgentTokenSecret` with both `secretName` and `keyName`, or one the Operator generated into `<name>-token`) and `credentials` Secrets; the Cluster Agent's RBAC against the rules the Operator renders; fixes name the DatadogAgent field, never a hand edit of an object the Operator rewrites",
    detect: operator,
  },
  {
    kind: 'admission-injection',
    name: 'Admission-controller injection',
    recognisedBy:
      '`DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_*` on the Cluster Agent container, or pods with a `datadog-agent-injected` container',
    audited:
      'the injection settings as the Cluster Agent reads them from its own env (a value from a ConfigMap/Secret/envFrom is "not evaluated"), the `datadog-webhook` MutatingWebhookConfiguration and its Service, pods the effective selector picks without the sidecar (per workload), skip annotations, `datadog-secret` (`api-key`, `token`) in each application namespace, the URL the webhook writes, the control plane path to the admission port; injected sidecars are agents for every other check',
    detect: admissionInjection,
  },
  {
    kind: 'hand-written-sidecars',
    name: 'Hand-written sidecars',
    recognisedBy:
      'an agent container in the application pod template (agent image, `datadog-agent*` name, or `DD_API_KEY` + `DD_CLUSTER_AGENT_*`)',
    audited:
      "token copies, sidecar mode, Cluster Agent URL, RBAC of the pod's ServiceAccount, network paths",
    detect: handWrittenSidecars,
  },
  {
    kind: 'daemonset',
    name: 'Agent DaemonSet',
    recognisedBy:
      'a DaemonSet running the agent; described with its pods on EC2 nodes, or as having none (Fargate runs no DaemonSet pods)',
    audited:
      "the same as sidecars, plus the EC2 node groups' security groups (`mixed-cluster-node-sg`)",
    detect: daemonSets,
  },
];

const SETUP_CACHE = new WeakMap<ClusterSnapshot, ClusterSetup>();

export function detectSetup(snapshot: ClusterSnapshot): ClusterSetup {
  let setup = SETUP_CACHE.get(snapshot);
  if (!setup) {
    const d = discoverAgents(snapshot);
    const kinds = SETUP_DETECTORS.flatMap((entry) => entry.detect(snapshot, d));
    const ca = d.clusterAgent;
    const caName = ca
      ? `${ca.namespace}/${ca.deployment?.meta.name ?? ca.pods[0]?.meta.name ?? '?'}`
      : undefined;
    setup = {
      kinds,
      ...(caName ? { clusterAgent: `Cluster Agent ${caName}` } : {}),
      summary:
        [
          ...(caName ? [`Cluster Agent ${caName}`] : ['no Cluster Agent']),
          ...kinds.map((k) => k.detail),
        ].join('; ') + (kinds.length ? '' : '; no Datadog agent setup found'),
    };
    SETUP_CACHE.set(snapshot, setup);
  }
  return setup;
}
