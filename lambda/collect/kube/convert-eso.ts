/**
 * Converters for the External Secrets Operator kinds that fan a secret out or write it back:
 * ClusterExternalSecret (`external-secrets.io/v1`), PushSecret and ClusterPushSecret
 * (`external-secrets.io/v1alpha1`).
 * Field names follow external-secrets `apis/externalsecrets/v1/clusterexternalsecret_types.go`
 * and `apis/externalsecrets/v1alpha1/pushsecret_types.go` (ClusterPushSecret's fields: its CRD,
 * `config/crds/bases/external-secrets.io_clusterpushsecrets.yaml`).
 */
import type {
  ClusterExternalSecret,
  ClusterPushSecret,
  LabelSelector,
  PushSecret,
} from '../../snapshot/snapshot.js';
import {
  convertConditions,
  convertExternalSecret,
  convertMeta,
  convertSelector,
} from './convert.js';
import type { Raw } from './raw.js';

function arr(v: unknown): Raw[] {
  return Array.isArray(v) ? v : [];
}

/** `spec.namespaceSelectors` of a ClusterExternalSecret or ClusterPushSecret. */
function selectors(v: unknown): LabelSelector[] {
  return arr(v)
    .map(convertSelector)
    .filter((s): s is LabelSelector => s !== undefined);
}

/** The status both fan-out kinds share: provisioned and failed namespaces, conditions. */
function fanOutStatus(status: Raw): ClusterPushSecret['status'] {
  return {
    provisionedNamespaces: arr(status?.provisionedNamespaces).map(String),
    failedNamespaces: arr(status?.failedNamespaces).map((f: Raw) => ({
      namespace: String(f?.namespace ?? ''),
      ...(f?.reason ? { reason: String(f.reason) } : {}),
    })),
    conditions: convertConditions(status?.conditions),
  };
}

export function convertClusterExternalSecret(c: Raw): ClusterExternalSecret {
  const spec = c?.spec ?? {};
  const meta = convertMeta(c?.metadata);
  const out: ClusterExternalSecret = {
    meta,
    namespaceSelectors: selectors(spec.namespaceSelectors),
    namespaces: arr(spec.namespaces).map(String),
    // The child's spec, read with the ExternalSecret converter so every check sees one shape.
    externalSecretSpec: convertExternalSecret({
      apiVersion: c?.apiVersion ?? 'external-secrets.io/v1',
      metadata: { name: String(spec.externalSecretName || meta.name) },
      spec: spec.externalSecretSpec ?? {},
    }),
    status: fanOutStatus(c?.status),
  };
  const legacy = convertSelector(spec.namespaceSelector);
  if (legacy) out.namespaceSelector = legacy;
  if (spec.externalSecretName) out.externalSecretName = String(spec.externalSecretName);
  if (spec.refreshTime) out.refreshTime = String(spec.refreshTime);
  if (c?.status?.externalSecretName) {
    out.status.externalSecretName = String(c.status.externalSecretName);
  }
  return out;
}

export function convertPushSecret(p: Raw): PushSecret {
  const spec = p?.spec ?? {};
  const out: PushSecret = {
    meta: convertMeta(p?.metadata),
    secretStoreRefs: arr(spec.secretStoreRefs).map((r: Raw) => ({
      name: String(r?.name ?? ''),
      kind: String(r?.kind ?? 'SecretStore'),
    })),
    data: arr(spec.data).map((d: Raw) => ({
      ...(d?.match?.secretKey ? { secretKey: String(d.match.secretKey) } : {}),
      remoteKey: String(d?.match?.remoteRef?.remoteKey ?? ''),
      ...(d?.match?.remoteRef?.property ? { property: String(d.match.remoteRef.property) } : {}),
    })),
    conditions: convertConditions(p?.status?.conditions),
  };
  if (spec.selector?.secret?.name) out.sourceSecret = String(spec.selector.secret.name);
  if (spec.refreshInterval !== undefined) out.refreshInterval = String(spec.refreshInterval);
  if (spec.updatePolicy) out.updatePolicy = String(spec.updatePolicy);
  return out;
}

export function convertClusterPushSecret(c: Raw): ClusterPushSecret {
  const spec = c?.spec ?? {};
  const meta = convertMeta(c?.metadata);
  const out: ClusterPushSecret = {
    meta,
    namespaceSelectors: selectors(spec.namespaceSelectors),
    // The children's spec, read with the PushSecret converter so every check sees one shape.
    pushSecretSpec: convertPushSecret({
      metadata: { name: String(spec.pushSecretName || meta.name) },
      spec: spec.pushSecretSpec ?? {},
    }),
    status: fanOutStatus(c?.status),
  };
  if (spec.pushSecretName) out.pushSecretName = String(spec.pushSecretName);
  return out;
}
