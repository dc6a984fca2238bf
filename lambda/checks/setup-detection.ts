/**
 * Which way Datadog gets onto this cluster's pods: hand-written sidecars, a DaemonSet on EC2 nodes,
 * admission-controller injection, the Datadog Operator. One answer per snapshot, computed from the
 * shared agent discovery, shown in every report's cluster summary and used by the checks that must
 * say "there is nothing to audit" instead of passing.
 *
 * A new setup is one more detector in SETUP_DETECTORS, not a change to each renderer.
 */
import type { ClusterSnapshot } from '../snapshot.js';
import { discoverAgents, isClusterChecksRunner, type AgentDiscovery } from './agent-discovery.js';
import { operatorSetups } from './operator/datadog-agents.js';

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

/** In report order. Append a detector to teach the auditor a new setup. */
export const SETUP_DETECTORS: SetupDetector[] = [
  operator,
  admissionInjection,
  handWrittenSidecars,
  daemonSets,
];

const SETUP_CACHE = new WeakMap<ClusterSnapshot, ClusterSetup>();

export function detectSetup(snapshot: ClusterSnapshot): ClusterSetup {
  let setup = SETUP_CACHE.get(snapshot);
  if (!setup) {
    const d = discoverAgents(snapshot);
    const kinds = SETUP_DETECTORS.flatMap((detect) => detect(snapshot, d));
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
