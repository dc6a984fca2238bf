/**
 * Small cluster worlds for the RBAC and wiring tests: inline YAML manifests, parsed like fixtures.
 * Each builder returns manifests; tests concatenate them and call snapshotFromManifests.
 */
import { parseAllDocuments } from 'yaml';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import type { CheckResult } from '../../lambda/config/findings.js';

export function manifests(text: string): Raw[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Raw)
    .filter(Boolean);
}

export interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

export const NODENAME_FIELDREF: EnvEntry = {
  name: 'DD_KUBERNETES_KUBELET_NODENAME',
  valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } },
};

export const CA_URL = 'https://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005';

/** The env of a correctly wired Fargate sidecar. */
export function sidecarEnv(overrides: Record<string, EnvEntry | null> = {}): EnvEntry[] {
  const base: Record<string, EnvEntry> = {
    DD_EKS_FARGATE: { name: 'DD_EKS_FARGATE', value: 'true' },
    DD_KUBERNETES_KUBELET_NODENAME: NODENAME_FIELDREF,
    DD_CLUSTER_AGENT_ENABLED: { name: 'DD_CLUSTER_AGENT_ENABLED', value: 'true' },
    DD_CLUSTER_AGENT_URL: { name: 'DD_CLUSTER_AGENT_URL', value: CA_URL },
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) delete base[k];
    else base[k] = v;
  }
  return Object.values(base);
}

/** An application pod on Fargate with the agent sidecar (the field report's `golang` app). */
export function fargateApp(
  opts: {
    namespace?: string;
    name?: string;
    serviceAccount?: string;
    env?: EnvEntry[];
    nodeName?: string;
    deployment?: boolean;
  } = {},
): Raw[] {
  const ns = opts.namespace ?? 'golang';
  const name = opts.name ?? 'app';
  const sa = opts.serviceAccount ?? 'default';
  const nodeName = opts.nodeName ?? 'fargate-ip-10-0-1-23.ap-northeast-1.compute.internal';
  const containers = [
    { name: 'app', image: 'golang-app:1.0' },
    {
      name: 'datadog-agent',
      image: 'public.ecr.aws/datadog/agent:7.50.0',
      env: opts.env ?? sidecarEnv(),
    },
  ];
  const pod: Raw = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.deployment ? `${name}-7d9f8c6b5-x2x4k` : `${name}-0`,
      namespace: ns,
      labels: { app: name, 'eks.amazonaws.com/fargate-profile': `fp-${ns}` },
      ...(opts.deployment
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: `${name}-7d9f8c6b5`,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: { serviceAccountName: sa, nodeName, containers },
    status: { phase: 'Running' },
  };
  const out: Raw[] = [
    pod,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns } },
  ];
  if (opts.deployment) {
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { serviceAccountName: sa, containers },
        },
      },
    });
  }
  return out;
}

/** The Cluster Agent as the Helm chart deploys it in namespace `datadog`, with its Service. */
export function clusterAgent(
  opts: {
    namespace?: string;
    service?: string;
    port?: number;
    targetPort?: number | string;
    env?: EnvEntry[];
    readyEndpoints?: number;
    endpoints?: boolean;
  } = {},
): Raw[] {
  const ns = opts.namespace ?? 'datadog';
  const svc = opts.service ?? 'datadog-agent-cluster-agent';
  const labels = {
    app: 'datadog-agent-cluster-agent',
    'app.kubernetes.io/component': 'cluster-agent',
  };
  const container = {
    name: 'cluster-agent',
    image: 'gcr.io/datadoghq/cluster-agent:7.50.0',
    env: opts.env ?? [
      { name: 'DD_LEADER_ELECTION', value: 'true' },
      { name: 'DD_LEADER_LEASE_NAME', value: 'datadog-agent-leader-election' },
    ],
    ports: [{ name: 'agentport', containerPort: 5005, protocol: 'TCP' }],
  };
  const out: Raw[] = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'datadog-agent-cluster-agent', namespace: ns, labels },
      spec: {
        selector: { matchLabels: { app: 'datadog-agent-cluster-agent' } },
        template: {
          metadata: { labels },
          spec: { serviceAccountName: 'datadog-agent-cluster-agent', containers: [container] },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'datadog-agent-cluster-agent-5f7c9d8b6-abcde',
        namespace: ns,
        labels,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'datadog-agent-cluster-agent-5f7c9d8b6',
            controller: true,
          },
        ],
      },
      spec: { serviceAccountName: 'datadog-agent-cluster-agent', containers: [container] },
      status: { phase: 'Running' },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'datadog-agent-cluster-agent', namespace: ns },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svc, namespace: ns },
      spec: {
        selector: { app: 'datadog-agent-cluster-agent' },
        ports: [
          {
            name: 'agentport',
            port: opts.port ?? 5005,
            targetPort: opts.targetPort ?? 5005,
            protocol: 'TCP',
          },
        ],
      },
    },
  ];
  if (opts.endpoints !== false) {
    const ready = opts.readyEndpoints ?? 1;
    out.push({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: svc, namespace: ns },
      subsets: [
        {
          ...(ready > 0
            ? { addresses: Array.from({ length: ready }, (_, i) => ({ ip: `10.0.2.${10 + i}` })) }
            : {}),
          ...(ready === 0 ? { notReadyAddresses: [{ ip: '10.0.2.99' }] } : {}),
          ports: [{ name: 'agentport', port: 5005, protocol: 'TCP' }],
        },
      ],
    });
  }
  return out;
}

/** Datadog's documented EKS Fargate ClusterRole. */
export const FARGATE_ROLE = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: datadog-agent
rules:
  - apiGroups: [""]
    resources: [nodes, namespaces, endpoints]
    verbs: [get, list]
  - apiGroups: [""]
    resources: [nodes/metrics, nodes/spec, nodes/stats, nodes/proxy, nodes/pods, nodes/healthz]
    verbs: [get]
`;

/** The field report's ClusterRole: the documented one without `endpoints`. */
export const FIELD_REPORT_ROLE = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: datadog-agent
rules:
  - apiGroups: [""]
    resources: [nodes, namespaces]
    verbs: [get, list]
  - apiGroups: [""]
    resources: [nodes/metrics, nodes/spec, nodes/stats, nodes/proxy, nodes/pods, nodes/healthz]
    verbs: [get]
`;

export function clusterRoleBinding(name: string, role: string, subjects: string): string {
  return `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ${name}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${role}}
subjects: ${subjects}
`;
}

export const SA_GOLANG_DEFAULT = '[{kind: ServiceAccount, name: default, namespace: golang}]';

/** The Helm chart's Cluster Agent ClusterRole (core rules) and its binding. */
export const CLUSTER_AGENT_RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: datadog-agent-cluster-agent
rules:
  - apiGroups: [""]
    resources: [services, endpoints, pods, nodes, namespaces, componentstatuses, limitranges]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [events]
    verbs: [get, list, watch, create]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [get, list, watch]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    resourceNames: [datadog-agent-leader-election]
    verbs: [get, update]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: datadog-agent-cluster-agent
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: datadog-agent-cluster-agent}
subjects: [{kind: ServiceAccount, name: datadog-agent-cluster-agent, namespace: datadog}]
`;

/** `FAIL missing:endpoints` lines, sorted: compact expectations for tables. */
export function summary(results: CheckResult[]): string[] {
  return results.map((r) => `${r.status} ${r.messageId}`).sort();
}

/**
 * `n` namespaces, each with a Role and a RoleBinding for its ServiceAccount `app` and its
 * ServiceAccounts group, plus one ClusterRoleBinding for every ServiceAccount (nodes/proxy): the
 * evaluator's scale case (test/rbac/evaluator.test.ts) and its benchmark figure (bench/timings.ts).
 */
export function manyNamespacesRbac(n: number) {
  const roles = [];
  const bindings = [];
  const meta = { labels: {}, annotations: {}, ownerReferences: [] };
  const rule = {
    apiGroups: [''],
    resources: ['endpoints'],
    verbs: ['get', 'list'],
    resourceNames: [],
    nonResourceURLs: [],
  };
  for (let i = 0; i < n; i++) {
    const ns = `ns-${i}`;
    roles.push({
      kind: 'Role' as const,
      meta: { ...meta, name: 'reader', namespace: ns },
      rules: [rule],
      aggregationSelectors: [],
    });
    bindings.push({
      kind: 'RoleBinding' as const,
      meta: { ...meta, name: 'reader', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [
        { kind: 'ServiceAccount', name: 'app', namespace: ns },
        { kind: 'Group', name: `system:serviceaccounts:${ns}` },
      ],
    });
  }
  const clusterRoles = [
    {
      kind: 'ClusterRole' as const,
      meta: { ...meta, name: 'dd' },
      rules: [{ ...rule, resources: ['nodes/proxy'], verbs: ['get'] }],
      aggregationSelectors: [],
    },
  ];
  const clusterRoleBindings = [
    {
      kind: 'ClusterRoleBinding' as const,
      meta: { ...meta, name: 'dd' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'dd' },
      subjects: [{ kind: 'Group', name: 'system:serviceaccounts' }],
    },
  ];
  return { roles, roleBindings: bindings, clusterRoles, clusterRoleBindings };
}
