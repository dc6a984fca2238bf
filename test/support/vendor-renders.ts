/**
 * The vendors' own renders (../shared/vendor/ beside the checkout, unchanged; see vendored.ts; sources in test/fixtures/README.md) turned
 * into live clusters for the end-to-end tests. A render is what `helm template` or the Operator's
 * renderer writes; a cluster also holds what the API server and the controllers add once it is
 * applied. Everything added or changed here is one of those, and says so:
 *
 * - metadata the API server fills in (namespace of namespaced objects, creationTimestamp);
 * - what the Operator fills in from the DatadogAgent's namespace, which its golden renders leave
 *   empty (the `<namespace>-` prefix of cluster-scoped names, ServiceAccount subjects' namespace);
 * - the DatadogAgent's status, Deployment/DaemonSet status, the pods a Deployment's ReplicaSet
 *   starts on Fargate (one Fargate Node each) and the EndpointSlices of their Services;
 * - what the user adds around an install (the API key Secret the DatadogAgent names, the
 *   application and its sidecar), taken from the repository's own fixture clusters.
 *
 * The rendered objects themselves (RBAC rules, env, Secrets, labels) are never edited.
 */
import { join } from 'node:path';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import type { AwsFixture } from './aws-fixture.js';
import { FIXTURES_DIR, loadManifests } from './snapshot-builder.js';

import { VENDOR_DIR } from './vendored.js';

export { VENDOR_DIR };

/** Repository, path and commit of each vendored file (test/fixtures/README.md says the same). */
export const VENDORED = {
  operatorCrd: {
    repo: 'DataDog/datadog-operator',
    commit: '55db53165d173041aaf6d902fd3776d0b33bf811',
    path: 'config/crd/bases/v1/datadoghq.com_datadogagents.yaml',
  },
  operatorMinimalDda: {
    repo: 'DataDog/datadog-operator',
    commit: '55db53165d173041aaf6d902fd3776d0b33bf811',
    path: 'internal/controller/testutils/renderer/testdata/minimal-dda.yaml',
  },
  operatorMinimalGolden: {
    repo: 'DataDog/datadog-operator',
    commit: '55db53165d173041aaf6d902fd3776d0b33bf811',
    path: 'internal/controller/testutils/renderer/testdata/golden/minimal-baseline.golden.yaml',
  },
  helmMinimalInjection: {
    repo: 'DataDog/helm-charts',
    commit: '79f7c74fd2525288125d943f48b810431dbc8857',
    path: 'test/datadog/baseline/manifests/cluster-agent-deployment_default_minimal_AC_injection.yaml',
  },
} as const;

export function loadVendored(file: keyof typeof VENDORED): Raw[] {
  const { repo, path } = VENDORED[file];
  return loadManifests(join(VENDOR_DIR, repo, path));
}

const INSTALLED_AT = '2026-11-18T03:20:00Z';
const STARTED_AT = '2026-11-18T03:29:04Z';
const REGION = 'eu-west-1';

const isNamespaced = (d: Raw): boolean =>
  ![
    'Namespace',
    'Node',
    'ClusterRole',
    'ClusterRoleBinding',
    'MutatingWebhookConfiguration',
  ].includes(d.kind) && d.kind !== 'CustomResourceDefinition';

/** Namespace, creationTimestamp and ServiceAccount subjects' namespace, as applied to `namespace`. */
function applyTo(docs: Raw[], namespace: string): Raw[] {
  return docs.map((doc) => {
    const d = structuredClone(doc);
    d.metadata ??= {};
    if (isNamespaced(d)) d.metadata.namespace ??= namespace;
    d.metadata.creationTimestamp ??= INSTALLED_AT;
    for (const s of d.subjects ?? []) {
      if (s.kind === 'ServiceAccount' && !s.namespace) s.namespace = namespace;
    }
    return d;
  });
}

/** `fargate-ip-10-0-22-143.eu-west-1.compute.internal`: EKS names a Fargate node after its pod IP. */
function fargateNodeName(ip: string): string {
  return `fargate-ip-${ip.replace(/\./g, '-')}.${REGION}.compute.internal`;
}

function fargateNode(ip: string, zone: string): Raw {
  const host = `ip-${ip.replace(/\./g, '-')}.${REGION}.compute.internal`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: fargateNodeName(ip),
      creationTimestamp: STARTED_AT,
      labels: {
        'eks.amazonaws.com/compute-type': 'fargate',
        'kubernetes.io/hostname': host,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/region': REGION,
        'topology.kubernetes.io/zone': zone,
      },
    },
    spec: {
      taints: [{ effect: 'NoSchedule', key: 'eks.amazonaws.com/compute-type', value: 'fargate' }],
    },
    status: {
      addresses: [
        { address: ip, type: 'InternalIP' },
        { address: host, type: 'Hostname' },
      ],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  };
}

export interface RunOn {
  /** Deployment name -> pod IP (in the fixtures' private subnets). */
  podIps: Record<string, string>;
  /** The Fargate profile whose selector places the namespace. */
  fargateProfile: string;
}

/**
 * What the controllers add for the rendered workloads on a Fargate-only cluster: one running,
 * ready pod per Deployment replica on its own Fargate node, the Deployments' and DaemonSets' status
 * (Fargate runs no DaemonSet pods, so a DaemonSet schedules none), and EndpointSlices with the
 * ready pods each Service selects.
 */
export function runOnFargate(docs: Raw[], on: RunOn): Raw[] {
  const out: Raw[] = [];
  const pods: Raw[] = [];
  for (const d of docs) {
    if (d.kind === 'Deployment') {
      const ip = on.podIps[d.metadata.name];
      if (!ip) throw new Error(`no pod IP for Deployment ${d.metadata.name}`);
      const hash = '7c9d5f6b8d';
      const rs = `${d.metadata.name}-${hash}`;
      const pod: Raw = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${rs}-q4x7z`,
          generateName: `${rs}-`,
          namespace: d.metadata.namespace,
          creationTimestamp: '2026-11-18T03:27:55Z',
          labels: {
            ...d.spec.template.metadata?.labels,
            'pod-template-hash': hash,
            'eks.amazonaws.com/fargate-profile': on.fargateProfile,
          },
          annotations: { ...d.spec.template.metadata?.annotations },
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, controller: true },
          ],
        },
        spec: {
          ...structuredClone(d.spec.template.spec),
          serviceAccountName: d.spec.template.spec.serviceAccountName ?? 'default',
          nodeName: fargateNodeName(ip),
          schedulerName: 'fargate-scheduler',
        },
        status: {
          phase: 'Running',
          hostIP: ip,
          podIP: ip,
          podIPs: [{ ip }],
          startTime: '2026-11-18T03:28:47Z',
          conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
            type,
            status: 'True',
            lastTransitionTime: '2026-11-18T03:29:31Z',
          })),
          containerStatuses: d.spec.template.spec.containers.map((c: Raw) => ({
            name: c.name,
            image: c.image,
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: STARTED_AT } },
          })),
        },
      };
      pods.push(pod);
      out.push(
        {
          ...d,
          status: {
            observedGeneration: 1,
            replicas: 1,
            readyReplicas: 1,
            availableReplicas: 1,
            updatedReplicas: 1,
            conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
          },
        },
        pod,
        fargateNode(ip, `${REGION}a`),
      );
    } else if (d.kind === 'DaemonSet') {
      out.push({
        ...d,
        status: {
          currentNumberScheduled: 0,
          desiredNumberScheduled: 0,
          numberMisscheduled: 0,
          numberReady: 0,
          observedGeneration: 1,
        },
      });
    } else out.push(d);
  }
  for (const svc of docs.filter((d) => d.kind === 'Service')) {
    const selector: Record<string, string> = svc.spec?.selector ?? {};
    const backing = pods.filter(
      (p) =>
        p.metadata.namespace === svc.metadata.namespace &&
        Object.keys(selector).length > 0 &&
        Object.entries(selector).every(([k, v]) => p.metadata.labels[k] === v),
    );
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${svc.metadata.name}-x8k2p`,
        namespace: svc.metadata.namespace,
        creationTimestamp: INSTALLED_AT,
        labels: { 'kubernetes.io/service-name': svc.metadata.name },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name }],
      },
      addressType: 'IPv4',
      endpoints: backing.map((p) => ({
        addresses: [p.status.podIP],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: p.spec.nodeName,
        targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace },
      })),
      ports: (svc.spec?.ports ?? []).map((p: Raw) => ({
        ...(p.name ? { name: p.name } : {}),
        port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
        protocol: p.protocol ?? 'TCP',
      })),
    });
  }
  return out;
}

/** A fixture cluster without its Helm release of Datadog (namespace `datadog`, the chart's RBAC). */
export function withoutHelmRelease(fixture: string): Raw[] {
  const docs = loadManifests(join(FIXTURES_DIR, fixture));
  const release = (d: Raw) =>
    d.metadata?.labels?.['app.kubernetes.io/instance'] === 'datadog-agent';
  const removedPods = docs.filter((d) => d.kind === 'Pod' && d.metadata.namespace === 'datadog');
  const removedNodes = new Set(removedPods.map((p) => p.spec.nodeName));
  return docs.filter(
    (d) =>
      !(d.metadata?.namespace === 'datadog') &&
      !(d.kind !== 'Namespace' && !isNamespaced(d) && release(d)) &&
      !(d.kind === 'Node' && removedNodes.has(d.metadata.name)) &&
      !(d.kind === 'MutatingWebhookConfiguration' && d.metadata.name === 'datadog-webhook'),
  );
}

/** The golden render's empty namespace, filled in: `-datadog-agent-event-dca` in `datadog`. */
function operatorNames(docs: Raw[], namespace: string): Raw[] {
  return docs.map((doc) => {
    const d = structuredClone(doc);
    // The Operator prefixes cluster-scoped names with the DatadogAgent's namespace
    // (feature/*/const.go getRBACResourceName: `<namespace>-<name>-<suffix>`), and writes
    // `<namespace>-<name>` into app.kubernetes.io/part-of (object/partof.go); the golden
    // render's namespace is empty.
    if (!isNamespaced(d) && String(d.metadata?.name).startsWith('-')) {
      d.metadata.name = `${namespace}${d.metadata.name}`;
    }
    if (d.roleRef && String(d.roleRef.name).startsWith('-')) {
      d.roleRef.name = `${namespace}${d.roleRef.name}`;
    }
    const fill = (labels: Record<string, string> | undefined) => {
      const partOf = labels?.['app.kubernetes.io/part-of'];
      if (labels && partOf?.startsWith('-'))
        labels['app.kubernetes.io/part-of'] = `${namespace}${partOf}`;
    };
    fill(d.metadata?.labels);
    fill(d.spec?.template?.metadata?.labels);
    fill(d.spec?.selector);
    return d;
  });
}

/**
 * The Datadog Operator's golden render of `minimal-dda.yaml`, applied in namespace `datadog` of the
 * `healthy` golang cluster (Fargate only, hand-written sidecar reading `golang/golang-secrets`).
 * The DatadogAgent sets the literal `spec.global.clusterAgentToken` of the Operator's test data.
 */
export function operatorGoldenCluster(): Raw[] {
  const ns = 'datadog';
  const base = withoutHelmRelease('healthy');
  const [dda] = applyTo(loadVendored('operatorMinimalDda'), ns);
  // The status the Operator writes once the Cluster Agent runs.
  dda!.status = {
    conditions: [
      {
        type: 'ClusterAgentReconcile',
        status: 'True',
        reason: 'ClusterAgentReconcile',
        message: '',
        lastTransitionTime: '2026-11-18T03:27:50Z',
      },
    ],
    clusterAgent: {
      deploymentName: 'datadog-agent-cluster-agent',
      readyReplicas: 1,
      replicas: 1,
      availableReplicas: 1,
      updatedReplicas: 1,
      state: 'Running',
      status: 'Running (1/1/1)',
    },
  };
  const rendered = runOnFargate(
    applyTo(operatorNames(loadVendored('operatorMinimalGolden'), ns), ns),
    { podIps: { 'datadog-agent-cluster-agent': '10.0.22.143' }, fargateProfile: 'fp-datadog' },
  );
  // The user's API/app key Secret the DatadogAgent names (`datadog-secret`), written by ESO from
  // Secrets Manager: healthy's ExternalSecret `datadog-secrets` with its target renamed.
  const healthyDatadog = loadManifests(join(FIXTURES_DIR, 'healthy')).filter(
    (d) =>
      d.metadata?.namespace === ns && ['SecretStore', 'ExternalSecret', 'Secret'].includes(d.kind),
  );
  const keys = healthyDatadog.map((doc) => {
    const d = structuredClone(doc);
    if (d.kind === 'ExternalSecret') {
      d.spec.target.name = 'datadog-secret';
      d.spec.data = d.spec.data.filter((x: Raw) => x.secretKey !== 'token');
    }
    if (d.kind === 'Secret') {
      d.metadata.name = 'datadog-secret';
      delete d.stringData?.token;
      delete d.data?.token;
    }
    return d;
  });
  return [...base, dda!, ...rendered, ...keys];
}

/**
 * The token the chart renders into `<release>-cluster-agent` (`randAlphaNum 32`, on every render).
 * The chart's baseline test filters the `token` key out of its render; a live cluster holds one.
 */
export const HELM_GENERATED_TOKEN = 'q8ZkR2mVt5XwN1bLc7HdJ4pYs9FgA3eU';

const HELM_NAMESPACE = 'datadog-agent';

/** A Fargate profile for the release namespace, as the user adds one for the Cluster Agent. */
export function withReleaseProfile(f: AwsFixture): AwsFixture {
  const out = structuredClone(f);
  const base = out.DescribeFargateProfile!['fp-datadog']!.fargateProfile;
  out.ListFargateProfiles!.fargateProfileNames.push('fp-datadog-agent');
  out.DescribeFargateProfile!['fp-datadog-agent'] = {
    fargateProfile: {
      ...base,
      fargateProfileName: 'fp-datadog-agent',
      fargateProfileArn: base.fargateProfileArn!.replace('fp-datadog/', 'fp-datadog-agent/'),
      selectors: [{ namespace: HELM_NAMESPACE }],
    },
  };
  return out;
}

function envValue(container: Raw, name: string): string | undefined {
  return (container.env ?? []).find((e: Raw) => e.name === name)?.value;
}

/**
 * The Helm chart's baseline with admission-controller sidecar injection (release `datadog`,
 * namespace `datadog-agent`), installed on the `injection-healthy` golang cluster in place of its
 * own Helm release: the injected sidecar of `golang-app` reads `golang/datadog-secret` (written by
 * ESO from Secrets Manager) and now carries what this Cluster Agent's webhook writes.
 */
export function helmBaselineCluster(): Raw[] {
  const base = withoutHelmRelease('injection-healthy');
  const rendered = applyTo(loadVendored('helmMinimalInjection'), HELM_NAMESPACE).map((d) => {
    if (d.kind === 'Secret' && d.metadata.name === 'datadog-cluster-agent') {
      return { ...d, data: { token: Buffer.from(HELM_GENERATED_TOKEN).toString('base64') } };
    }
    return d;
  });
  const live = runOnFargate(rendered, {
    podIps: { 'datadog-cluster-agent': '10.0.22.143', 'datadog-operator': '10.0.51.18' },
    fargateProfile: 'fp-datadog-agent',
  });
  const ca = rendered.find(
    (d) => d.kind === 'Deployment' && d.metadata.name === 'datadog-cluster-agent',
  )!.spec.template.spec.containers[0];
  const registry = envValue(ca, 'DD_ADMISSION_CONTROLLER_CONTAINER_REGISTRY');
  const image = `${registry}/${envValue(ca, 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_IMAGE_NAME')}:${envValue(ca, 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_IMAGE_TAG')}`;
  const service = envValue(ca, 'DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME');
  const webhookService = envValue(ca, 'DD_ADMISSION_CONTROLLER_SERVICE_NAME');
  // What this Cluster Agent writes at runtime: its MutatingWebhookConfiguration (from
  // injection-healthy's, pointed at this release's Service) and, in the pods it injects, the
  // sidecar its env describes (image, URL of its Service; no DD_SITE or DD_CLUSTER_NAME to copy).
  const webhook = structuredClone(
    loadManifests(join(FIXTURES_DIR, 'injection-healthy')).find(
      (d) => d.kind === 'MutatingWebhookConfiguration',
    )!,
  );
  for (const w of webhook.webhooks) {
    w.clientConfig.service = {
      ...w.clientConfig.service,
      namespace: HELM_NAMESPACE,
      name: webhookService,
    };
  }
  const app = base.map((doc) => {
    if (doc.kind !== 'Pod' || doc.metadata.namespace !== 'golang') return doc;
    const d = structuredClone(doc);
    for (const c of d.spec.containers) {
      if (c.name !== 'datadog-agent-injected') continue;
      c.image = image;
      c.env = c.env
        .filter((e: Raw) => e.name !== 'DD_SITE' && e.name !== 'DD_CLUSTER_NAME')
        .map((e: Raw) =>
          e.name === 'DD_CLUSTER_AGENT_URL'
            ? { ...e, value: `https://${service}.${HELM_NAMESPACE}.svc.cluster.local:5005` }
            : e,
        );
    }
    for (const s of d.status.containerStatuses ?? []) {
      if (s.name === 'datadog-agent-injected') s.image = image;
    }
    return d;
  });
  const namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: HELM_NAMESPACE,
      creationTimestamp: INSTALLED_AT,
      labels: { 'kubernetes.io/metadata.name': HELM_NAMESPACE },
    },
  };
  return [...app, namespace, ...live, webhook];
}
