/**
 * The Datadog Operator's DatadogAgent (datadoghq.com/v2alpha1) reduced to what the checks need.
 * Field names follow DataDog/datadog-operator api/datadoghq/v2alpha1/datadogagent_types.go.
 *
 * A DatadogAgent may carry the Cluster Agent token in plain text twice: `spec.global.clusterAgentToken`
 * and `status.clusterAgent.generatedToken` (and the API/app keys in `spec.global.credentials`).
 * This converter is where they stop: it keeps that they are set, the literal token's length, and
 * nothing else. Annotations are not kept either: kubectl's last-applied-configuration repeats the
 * whole spec, token included.
 */
import type { DatadogAgent, LabelSelector, OperatorSecretRef } from '../../snapshot/snapshot.js';
import { convertEnvVar, convertMeta, convertSelector } from './convert.js';
import type { Raw } from './raw.js';

/** What the Operator names the Cluster Agent's Deployment, Service and ServiceAccount after. */
export const OPERATOR_CLUSTER_AGENT_SUFFIX = 'cluster-agent';

function bool(v: unknown): boolean | undefined {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function arr(v: unknown): Raw[] {
  return Array.isArray(v) ? v : [];
}

function secretRef(v: Raw): OperatorSecretRef | undefined {
  const secretName = text(v?.secretName);
  if (!secretName) return undefined;
  const keyName = text(v?.keyName);
  return { secretName, ...(keyName ? { keyName } : {}) };
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && String(v) !== '';
}

function selector(v: Raw): LabelSelector | undefined {
  return v && typeof v === 'object' ? convertSelector(v) : undefined;
}

function admission(ac: Raw): DatadogAgent['admissionController'] {
  if (!ac || typeof ac !== 'object') return undefined;
  const out: NonNullable<DatadogAgent['admissionController']> = {};
  const enabled = bool(ac.enabled);
  if (enabled !== undefined) out.enabled = enabled;
  const unlabelled = bool(ac.mutateUnlabelled);
  if (unlabelled !== undefined) out.mutateUnlabelled = unlabelled;
  for (const k of ['serviceName', 'webhookName', 'failurePolicy'] as const) {
    const v = text(ac[k]);
    if (v) out[k] = v;
  }
  const asi = ac.agentSidecarInjection;
  if (asi && typeof asi === 'object') {
    const injection: NonNullable<typeof out.agentSidecarInjection> = {
      selectors: arr(asi.selectors).map((s: Raw) => {
        const objectSelector = selector(s?.objectSelector);
        const namespaceSelector = selector(s?.namespaceSelector);
        return {
          ...(objectSelector ? { objectSelector } : {}),
          ...(namespaceSelector ? { namespaceSelector } : {}),
        };
      }),
      profiles: arr(asi.profiles).map((p: Raw) => ({ env: arr(p?.env).map(convertEnvVar) })),
    };
    const on = bool(asi.enabled);
    if (on !== undefined) injection.enabled = on;
    const dca = bool(asi.clusterAgentCommunicationEnabled);
    if (dca !== undefined) injection.clusterAgentCommunicationEnabled = dca;
    const provider = text(asi.provider);
    if (provider) injection.provider = provider;
    out.agentSidecarInjection = injection;
  }
  return out;
}

export function convertDatadogAgent(d: Raw): DatadogAgent {
  const full = convertMeta(d?.metadata);
  const meta: DatadogAgent['meta'] = {
    name: full.name,
    labels: {},
    annotations: {},
    ownerReferences: [],
    ...(full.namespace ? { namespace: full.namespace } : {}),
    ...(full.uid ? { uid: full.uid } : {}),
    ...(full.creationTimestamp ? { creationTimestamp: full.creationTimestamp } : {}),
    ...(full.resourceVersion ? { resourceVersion: full.resourceVersion } : {}),
  };
  const global = d?.spec?.global ?? {};
  const creds = global.credentials ?? {};
  const literal = global.clusterAgentToken;
  const tokenSecret = secretRef(global.clusterAgentTokenSecret);
  const apiSecret = secretRef(creds.apiSecret);
  const appSecret = secretRef(creds.appSecret);
  const ac = admission(d?.spec?.features?.admissionController);
  const deployment = text(d?.status?.clusterAgent?.deploymentName);
  return {
    meta,
    apiVersion: String(d?.apiVersion ?? 'datadoghq.com/v2alpha1'),
    ...(tokenSecret ? { clusterAgentTokenSecret: tokenSecret } : {}),
    ...(present(literal)
      ? { literalClusterAgentToken: { length: Buffer.byteLength(String(literal)) } }
      : {}),
    statusHasGeneratedToken: present(d?.status?.clusterAgent?.generatedToken),
    credentials: {
      ...(apiSecret ? { apiSecret } : {}),
      ...(appSecret ? { appSecret } : {}),
      literalApiKey: present(creds.apiKey),
      literalAppKey: present(creds.appKey),
    },
    ...(ac ? { admissionController: ac } : {}),
    clusterAgentDisabled: bool(d?.spec?.override?.clusterAgent?.disabled) === true,
    clusterAgentName: `${meta.name}-${OPERATOR_CLUSTER_AGENT_SUFFIX}`,
    ...(deployment ? { statusClusterAgentDeployment: deployment } : {}),
  };
}
