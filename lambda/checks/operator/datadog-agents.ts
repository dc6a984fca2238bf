/**
 * The Datadog Operator's view of a cluster, computed from its DatadogAgents once and shared: which
 * DatadogAgents drive the agents (for setup detection), and which Secret keys carry the Datadog
 * API/app keys (for the key-consumer model). The Cluster Agent token is part of the shared token
 * model (token/consumers.ts), which reads DatadogAgents through kube/operator-refs.ts.
 */
import {
  datadogAgentsOf,
  operatorKeyRefs,
  operatorTokenRef,
  type OperatorKeyRef,
  type OperatorTokenRef,
} from '../../kube/operator-refs.js';
import type { ClusterSnapshot, DatadogAgent, SecretDigest, SecretLookup } from '../../snapshot.js';
import { esLabel, tokenExternalSecretYaml, tokenMappings } from '../external-secrets/eso.js';
import { secretLookups } from '../token/consumers.js';

export { datadogAgentsOf, operatorTokenRef, type OperatorTokenRef };

/** `DatadogAgent datadog/datadog`. */
export function ddaLabel(dda: DatadogAgent): string {
  return `DatadogAgent ${dda.meta.namespace ?? ''}/${dda.meta.name}`;
}

export function ddaResource(dda: DatadogAgent): { kind: string; namespace: string; name: string } {
  return { kind: 'DatadogAgent', namespace: dda.meta.namespace ?? '', name: dda.meta.name };
}

/**
 * The DatadogAgents found, sorted by namespace/name: the "Datadog Operator" entry of setup
 * detection (one per DatadogAgent; the Operator reconciles each into its own Cluster Agent).
 */
export function operatorSetups(snapshot: ClusterSnapshot): { namespace: string; name: string }[] {
  return datadogAgentsOf(snapshot)
    .map((d) => ({ namespace: d.meta.namespace ?? '', name: d.meta.name }))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** One Datadog API or application key a DatadogAgent makes the Operator's agents read. */
export interface OperatorKeyConsumer extends OperatorKeyRef {
  /** The DatadogAgent naming it (`spec.global.credentials`). */
  datadogAgent: { namespace: string; name: string };
  /** `spec.global.credentials.apiSecret` / `appSecret`, or the literal `apiKey` / `appKey` (value never kept). */
  field: string;
  lookup?: SecretLookup;
  /** Digest of the key when the Secret was read and has it. */
  digest?: SecretDigest;
}

const KEY_CONSUMERS_CACHE = new WeakMap<ClusterSnapshot, OperatorKeyConsumer[]>();

/**
 * The API/app key Secret keys of every DatadogAgent (spec.global.credentials), with the Secret as
 * read (digests only). For the key-consumer model: the Operator's node agents, Cluster Agent and
 * cluster checks runners read these keys. Computed once per snapshot; callers must not change it.
 */
export function operatorKeyConsumers(snapshot: ClusterSnapshot): OperatorKeyConsumer[] {
  let out = KEY_CONSUMERS_CACHE.get(snapshot);
  if (!out) {
    const lookups = secretLookups(snapshot);
    out = datadogAgentsOf(snapshot).flatMap((dda) =>
      operatorKeyRefs(dda).map((k): OperatorKeyConsumer => {
        const lookup = lookups.get(`${k.namespace}/${k.secret}`);
        const digest =
          lookup?.result.status === 'found' ? lookup.result.secret.data[k.key] : undefined;
        const which = k.kind === 'api-key' ? 'api' : 'app';
        return {
          ...k,
          datadogAgent: { namespace: dda.meta.namespace ?? '', name: dda.meta.name },
          field:
            k.source === 'secret'
              ? `spec.global.credentials.${which}Secret`
              : `spec.global.credentials.${which}Key`,
          ...(lookup ? { lookup } : {}),
          ...(digest ? { digest } : {}),
        };
      }),
    );
    KEY_CONSUMERS_CACHE.set(snapshot, out);
  }
  return out;
}

/**
 * The `clusterAgentTokenSecret` to recommend for a DatadogAgent, and how to get it written: an
 * ExternalSecret that already maps the Secrets Manager token in the DatadogAgent's namespace
 * (any key: the Operator follows keyName), else a new one whose YAML is given.
 */
export function suggestedTokenSecret(
  snapshot: ClusterSnapshot,
  dda: DatadogAgent,
): { secretName: string; keyName: string; how: string } {
  const ns = dda.meta.namespace ?? '';
  const mapped = tokenMappings(snapshot).find((m) => m.namespace === ns && m.propertyMatches);
  if (mapped) {
    return {
      secretName: mapped.target,
      keyName: mapped.secretKey,
      how: `${esLabel(mapped.es)} already writes the Secrets Manager token there.`,
    };
  }
  const secretName = `${dda.meta.name}-cluster-agent-token`;
  return {
    secretName,
    keyName: 'token',
    how: `Let an ExternalSecret write it from Secrets Manager:\n${tokenExternalSecretYaml(snapshot, ns, secretName, 'token')}`,
  };
}
