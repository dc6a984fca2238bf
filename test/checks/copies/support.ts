/**
 * Manifest builders for the copies model: ClusterExternalSecrets, PushSecrets and stores with the
 * `kubernetes` provider, shaped as ESO writes them: a child carries its parent's controller
 * ownerReference and only the labels of the parent's metadata template, never a label naming it
 * (external-secrets `pkg/controllers/clusterexternalsecret`, `clusterpushsecret`).
 */
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { TOKEN_ID } from '../token/support.js';

export interface CesOpts {
  externalSecretName?: string;
  namespaceSelectors?: Raw[];
  namespaces?: string[];
  data?: { secretKey: string; key: string; property?: string; version?: string }[];
  store?: { name: string; kind?: string };
  refreshInterval?: string;
  refreshPolicy?: string;
  creationPolicy?: string;
  provisioned?: string[];
  failed?: { namespace: string; reason?: string }[];
  ready?: { status: string; message?: string };
}

export function clusterExternalSecret(name: string, o: CesOpts = {}): Raw {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterExternalSecret',
    metadata: { name },
    spec: {
      ...(o.externalSecretName ? { externalSecretName: o.externalSecretName } : {}),
      namespaceSelectors: o.namespaceSelectors ?? [
        { matchLabels: { 'datadog.example.com/agents': 'true' } },
      ],
      ...(o.namespaces ? { namespaces: o.namespaces } : {}),
      refreshTime: '1m',
      externalSecretSpec: esSpec(o),
    },
    status: {
      externalSecretName: o.externalSecretName ?? name,
      provisionedNamespaces: o.provisioned ?? [],
      ...(o.failed ? { failedNamespaces: o.failed } : {}),
      conditions: [
        {
          type: 'Ready',
          status: o.ready?.status ?? 'True',
          ...(o.ready?.message ? { message: o.ready.message } : {}),
        },
      ],
    },
  };
}

function esSpec(o: CesOpts): Raw {
  return {
    refreshInterval: o.refreshInterval ?? '1h',
    ...(o.refreshPolicy ? { refreshPolicy: o.refreshPolicy } : {}),
    secretStoreRef: o.store ?? { name: 'aws-secrets-manager', kind: 'ClusterSecretStore' },
    target: { name: 'datadog-secret', creationPolicy: o.creationPolicy ?? 'Owner' },
    data: (o.data ?? [{ secretKey: 'token', key: TOKEN_ID }]).map((d) => ({
      secretKey: d.secretKey,
      remoteRef: {
        key: d.key,
        ...(d.property ? { property: d.property } : {}),
        ...(d.version ? { version: d.version } : {}),
      },
    })),
  };
}

/** The child ExternalSecret ESO creates in `ns` from a ClusterExternalSecret. */
export function cesChild(ns: string, cesName: string, o: CesOpts = {}): Raw {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: {
      name: o.externalSecretName ?? cesName,
      namespace: ns,
      ownerReferences: [
        {
          apiVersion: 'external-secrets.io/v1',
          kind: 'ClusterExternalSecret',
          name: cesName,
          controller: true,
        },
      ],
    },
    spec: esSpec(o),
    status: {
      conditions: [
        { type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'secret synced' },
      ],
      refreshTime: '2026-11-24T01:30:00Z',
    },
  };
}

export function clusterStore(
  name: string,
  provider: Raw = { aws: { service: 'SecretsManager', region: 'eu-west-1' } },
): Raw {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: { name },
    spec: { provider },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Valid' }] },
  };
}

/** A store reading Secrets of `remoteNamespace` through the kubernetes provider. */
export function kubernetesStore(name: string, remoteNamespace: string): Raw {
  return clusterStore(name, {
    kubernetes: {
      remoteNamespace,
      server: { caProvider: { type: 'ConfigMap', name: 'kube-root-ca.crt', key: 'ca.crt' } },
      auth: { serviceAccount: { name: 'eso-reader', namespace: 'external-secrets' } },
    },
  });
}

export function pushSecret(
  ns: string,
  name: string,
  o: {
    secret: string;
    secretKey: string;
    remoteKey: string;
    store?: { name: string; kind: string };
    updatePolicy?: string;
  },
): Raw {
  return {
    apiVersion: 'external-secrets.io/v1alpha1',
    kind: 'PushSecret',
    metadata: { name, namespace: ns },
    spec: {
      refreshInterval: '1h',
      ...(o.updatePolicy ? { updatePolicy: o.updatePolicy } : {}),
      secretStoreRefs: [o.store ?? { name: 'aws-secrets-manager', kind: 'ClusterSecretStore' }],
      selector: { secret: { name: o.secret } },
      data: [{ match: { secretKey: o.secretKey, remoteRef: { remoteKey: o.remoteKey } } }],
    },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced' }] },
  };
}

/** A ClusterPushSecret (`v1alpha1`) as its CRD shapes it, with the namespaces it provisioned. */
export function clusterPushSecret(
  name: string,
  o: { secret: string; secretKey: string; remoteKey: string; provisioned: string[] },
): Raw {
  const child = pushSecret('unused', name, o);
  return {
    apiVersion: 'external-secrets.io/v1alpha1',
    kind: 'ClusterPushSecret',
    metadata: { name },
    spec: {
      namespaceSelectors: [{ matchLabels: { 'datadog.example.com/agents': 'true' } }],
      refreshTime: '1m',
      pushSecretSpec: child.spec,
    },
    status: {
      provisionedNamespaces: o.provisioned,
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

/** The child PushSecret ESO creates in `ns`: the parent's spec and its controller ownerReference. */
export function cpsChild(ns: string, parent: Raw): Raw {
  return {
    apiVersion: 'external-secrets.io/v1alpha1',
    kind: 'PushSecret',
    metadata: {
      name: parent.metadata.name,
      namespace: ns,
      ownerReferences: [
        {
          apiVersion: 'external-secrets.io/v1alpha1',
          kind: 'ClusterPushSecret',
          name: parent.metadata.name,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: parent.spec.pushSecretSpec,
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced' }] },
  };
}
