/**
 * The permissions Datadog's agents need, as lists of API requests the RBAC evaluator can answer.
 * Every item names the vendor file it comes from (repository, path, commit), so a finding can say
 * whose rule it is and the vendor's own render of a supported version meets its contract.
 *
 * - Node agent on EKS Fargate: Datadog's documented ClusterRole for sidecars (neither the Helm
 *   chart nor the Operator renders one: the sidecar runs as the application's ServiceAccount). The
 *   agent reaches the kubelet through the API server (`/api/v1/nodes/<node>/proxy`), hence
 *   `nodes/proxy`.
 * - Cluster Agent: the rules that both the Helm chart's Cluster Agent ClusterRole and the Datadog
 *   Operator's render grant, plus leader election on its named lease when `DD_LEADER_ELECTION` is
 *   on (datadog-agent's leader election engine), plus `create` on events only where the Cluster
 *   Agent writes events: the external metrics provider (the Operator grants it with that feature).
 *   The leader elector's event recorder has no sink (`record.NewBroadcaster()` is never started
 *   to the API server), so leader election needs no events permission: the chart grants
 *   `create` on events, the Operator's core render does not, and both run.
 */
import type { Severity } from '../../config/findings.js';
import type { ClusterAgent } from '../agents.js';
import type { Container, PolicyRule } from '../snapshot.js';
import type { Decision, Permissions } from './evaluator.js';
import { resourceLabel, type AccessRequest } from './match.js';
import { isClusterScoped } from './scope.js';

/** A vendor file a contract rule comes from. */
export interface RuleSource {
  repo: string;
  path: string;
  commit: string;
}

export const RULE_SOURCES = {
  helmClusterAgent: {
    repo: 'DataDog/helm-charts',
    path: 'charts/datadog/templates/cluster-agent-rbac.yaml',
    commit: '79f7c74fd2525288125d943f48b810431dbc8857',
  },
  operatorClusterAgent: {
    repo: 'DataDog/datadog-operator',
    path: 'internal/controller/datadogagent/component/clusteragent/rbac.go',
    commit: '55db53165d173041aaf6d902fd3776d0b33bf811',
  },
  operatorExternalMetrics: {
    repo: 'DataDog/datadog-operator',
    path: 'internal/controller/datadogagent/feature/externalmetrics/rbac.go',
    commit: '55db53165d173041aaf6d902fd3776d0b33bf811',
  },
  agentLeaderElection: {
    repo: 'DataDog/datadog-agent',
    path: 'pkg/util/kubernetes/apiserver/leaderelection/leaderelection_engine.go',
    commit: '050b0dff248c66a2723a128da6edc8de18bba07c',
  },
  fargateAgentDocs: {
    repo: 'DataDog/integrations-core',
    path: 'eks_fargate/README.md',
    commit: '7f1109f3e672d366f6d584c62ca4d5f56ea7f9e0',
  },
} as const satisfies Record<string, RuleSource>;

/** `DataDog/helm-charts charts/datadog/templates/cluster-agent-rbac.yaml@79f7c74`. */
export function sourceLabel(s: RuleSource): string {
  return `${s.repo} ${s.path}@${s.commit.slice(0, 7)}`;
}

/** How the Cluster Agent was installed, which decides whose rules it is judged by. */
export type InstallMethod = 'helm' | 'operator' | 'manifests';

export function installMethodOf(ca: ClusterAgent): InstallMethod {
  if (ca.datadogAgent) return 'operator';
  const meta = ca.deployment?.meta ?? ca.pods[0]?.meta;
  if (
    meta &&
    (meta.labels['app.kubernetes.io/managed-by'] === 'Helm' ||
      meta.labels['helm.sh/chart'] !== undefined ||
      meta.annotations['meta.helm.sh/release-name'] !== undefined)
  ) {
    return 'helm';
  }
  return 'manifests';
}

/** The contract's name in findings, with the files it comes from. */
export function clusterAgentContractName(method: InstallMethod): string {
  const helm = sourceLabel(RULE_SOURCES.helmClusterAgent);
  const operator = sourceLabel(RULE_SOURCES.operatorClusterAgent);
  return method === 'operator'
    ? `the Cluster Agent rules the Datadog Operator renders (${operator})`
    : method === 'helm'
      ? `the Helm chart's Cluster Agent ClusterRole (${helm})`
      : `the Cluster Agent rules both the Helm chart (${helm}) and the Datadog Operator (${operator}) grant`;
}

export interface ContractItem {
  /** Stable id, part of message ids: `nodes/proxy`, `endpointslices.discovery.k8s.io`. */
  id: string;
  group: string;
  resource: string;
  subresource?: string;
  verbs: string[];
  /** Namespace the permission is needed in; absent means every namespace (or cluster-scoped). */
  namespace?: string;
  /** Object name when only one object is needed (a leader-election lease). */
  name?: string;
  severity: Severity;
  /** What breaks without it. */
  why: string;
  /** The vendor files that grant (or, for the agent's own code, need) this rule. */
  sources: readonly RuleSource[];
}

const NODE_SUBRESOURCE_WHY: Record<string, string> = {
  metrics: 'kubelet metrics (kubernetes.* and container metrics) are not collected',
  spec: 'the kubelet spec (node capacity) cannot be read',
  stats: 'kubelet stats (kubernetes.cpu.*, kubernetes.memory.*) are not collected',
  proxy:
    'on Fargate the agent reaches the kubelet only through /api/v1/nodes/<node>/proxy; without it the kubelet check, pod tags and container metrics all fail',
  pods: 'the pod list from the kubelet (autodiscovery, pod tags) cannot be read',
  healthz: 'the kubelet health check fails',
};

/** Datadog's EKS Fargate ClusterRole for agent sidecars, item by item. */
export const FARGATE_AGENT_CONTRACT: readonly ContractItem[] = [
  {
    id: 'nodes',
    group: '',
    resource: 'nodes',
    verbs: ['get', 'list'],
    severity: 'high',
    why: 'the agent cannot read its node object (node labels and host tags are missing)',
    sources: [RULE_SOURCES.fargateAgentDocs],
  },
  {
    id: 'namespaces',
    group: '',
    resource: 'namespaces',
    verbs: ['get', 'list'],
    severity: 'high',
    why: 'namespace labels and annotations cannot become tags',
    sources: [RULE_SOURCES.fargateAgentDocs],
  },
  {
    id: 'endpoints',
    group: '',
    resource: 'endpoints',
    verbs: ['get', 'list'],
    severity: 'high',
    why: 'the agent logs "endpoints is forbidden" and loses service tags and endpoint checks',
    sources: [RULE_SOURCES.fargateAgentDocs],
  },
  ...['metrics', 'spec', 'stats', 'proxy', 'pods', 'healthz'].map((sub): ContractItem => ({
    id: `nodes/${sub}`,
    group: '',
    resource: 'nodes',
    subresource: sub,
    verbs: ['get'],
    severity: sub === 'proxy' ? 'critical' : 'high',
    why: NODE_SUBRESOURCE_WHY[sub]!,
    sources: [RULE_SOURCES.fargateAgentDocs],
  })),
];

/** Default lease name of the Cluster Agent's leader election (`leader_lease_name`). */
export const DEFAULT_LEADER_LEASE = 'datadog-leader-election';

function envValue(c: Container | undefined, name: string): string | undefined {
  if (!c) return undefined;
  let value: string | undefined;
  for (const e of c.env) if (e.name === name) value = e.value;
  return value;
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

const BOTH_INSTALLERS = [RULE_SOURCES.helmClusterAgent, RULE_SOURCES.operatorClusterAgent];

/**
 * The Cluster Agent's rules: what both installers grant it, leader election when it is on, and
 * `create` on events only with the external metrics provider (see the file comment).
 */
export function clusterAgentContract(ca: ClusterAgent): ContractItem[] {
  const list = (resource: string, why: string, group = ''): ContractItem => ({
    id: resourceLabel(group, resource),
    group,
    resource,
    verbs: ['get', 'list', 'watch'],
    severity: 'high',
    why,
    sources: BOTH_INSTALLERS,
  });
  const items: ContractItem[] = [
    list('services', 'service metadata (kube_service tags) and cluster checks on services stop'),
    list('endpoints', 'endpoint checks and service tags stop working'),
    list('pods', 'pod metadata for the node agents (the metadata mapper) is missing'),
    list('nodes', 'node labels and cluster-level node metadata are missing'),
    list('namespaces', 'namespace labels and annotations cannot become tags'),
    list(
      'endpointslices',
      'the Cluster Agent cannot watch EndpointSlices (endpoint checks, service mapping)',
      'discovery.k8s.io',
    ),
  ];
  const main = ca.containers[0];
  const externalMetrics = envValue(main, 'DD_EXTERNAL_METRICS_PROVIDER_ENABLED');
  if (externalMetrics !== undefined && TRUE.has(externalMetrics.trim())) {
    items.push({
      id: 'events',
      group: '',
      resource: 'events',
      verbs: ['create'],
      severity: 'high',
      why: 'the external metrics provider cannot record its Kubernetes events (autoscaling errors are not surfaced on the HPAs)',
      sources: [RULE_SOURCES.helmClusterAgent, RULE_SOURCES.operatorExternalMetrics],
    });
  }
  const leaderElection = envValue(main, 'DD_LEADER_ELECTION');
  if (leaderElection !== undefined && TRUE.has(leaderElection.trim())) {
    const lease = envValue(main, 'DD_LEADER_LEASE_NAME') || DEFAULT_LEADER_LEASE;
    const onConfigMap = envValue(main, 'DD_LEADER_ELECTION_DEFAULT_RESOURCE') === 'configmap';
    const group = onConfigMap ? '' : 'coordination.k8s.io';
    const resource = onConfigMap ? 'configmaps' : 'leases';
    const why = `leader election fails, so no Cluster Agent replica becomes leader (no cluster checks, no external metrics)`;
    const sources = [RULE_SOURCES.agentLeaderElection, ...BOTH_INSTALLERS];
    items.push(
      {
        id: `${resourceLabel(group, resource)}:create`,
        group,
        resource,
        verbs: ['create'],
        namespace: ca.namespace,
        severity: 'high',
        why,
        sources,
      },
      {
        id: `${resourceLabel(group, resource)}:leader-lease`,
        group,
        resource,
        verbs: ['get', 'update'],
        namespace: ca.namespace,
        name: lease,
        severity: 'high',
        why,
        sources,
      },
    );
  }
  return items;
}

export function requestsOf(item: ContractItem): AccessRequest[] {
  return item.verbs.map((verb) => ({
    verb,
    group: item.group,
    resource: item.resource,
    ...(item.subresource ? { subresource: item.subresource } : {}),
    ...(item.namespace !== undefined ? { namespace: item.namespace } : {}),
    ...(item.name ? { name: item.name } : {}),
  }));
}

/** `get, list on endpoints in every namespace`, `get on nodes/proxy`. */
export function describeItem(item: ContractItem, verbs: string[] = item.verbs): string {
  const what = resourceLabel(item.group, item.resource, item.subresource);
  const named = item.name ? ` "${item.name}"` : '';
  const where =
    item.namespace !== undefined
      ? ` in namespace ${item.namespace}`
      : isClusterScoped(item.group, item.resource)
        ? ''
        : ' in every namespace';
  return `${verbs.map((v) => `"${v}"`).join(', ')} on ${what}${named}${where}`;
}

export interface ItemVerdict {
  item: ContractItem;
  /** Verb -> decision. */
  decisions: Map<string, Decision>;
  missingVerbs: string[];
}

export function evaluateContract(
  permissions: Permissions,
  items: readonly ContractItem[],
): ItemVerdict[] {
  return items.map((item) => {
    const decisions = new Map<string, Decision>();
    for (const req of requestsOf(item)) decisions.set(req.verb, permissions.check(req));
    const missingVerbs = item.verbs.filter((v) => !decisions.get(v)!.allowed);
    return { item, decisions, missingVerbs };
  });
}

/** Contract items as compact rules (grouped by API group, verbs and resourceNames), for YAML. */
export function rulesFor(items: readonly ContractItem[]): PolicyRule[] {
  const byKey = new Map<string, PolicyRule>();
  for (const item of items) {
    const key = [item.group, item.verbs.join(','), item.name ?? ''].join('\u0000');
    const resource = item.subresource ? `${item.resource}/${item.subresource}` : item.resource;
    const rule = byKey.get(key);
    if (rule) {
      if (!rule.resources.includes(resource)) rule.resources.push(resource);
    } else {
      byKey.set(key, {
        apiGroups: [item.group],
        resources: [resource],
        verbs: [...item.verbs],
        resourceNames: item.name ? [item.name] : [],
        nonResourceURLs: [],
      });
    }
  }
  return [...byKey.values()];
}
