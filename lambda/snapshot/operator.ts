/**
 * The Datadog Operator's view of a cluster: which DatadogAgents drive the agents (for setup
 * detection). The Secret keys a DatadogAgent makes the Operator's components read (the Cluster
 * Agent token, spec.global.credentials) are readers in the one copy model
 * (lambda/snapshot/copies/model.ts), which reads DatadogAgents through kube/operator-refs.ts.
 */
import { datadogAgentsOf, operatorTokenRef, type OperatorTokenRef } from './operator-refs.js';
import type { ClusterSnapshot, DatadogAgent } from './snapshot.js';
import { esLabel, tokenExternalSecretYaml, tokenMappings } from './eso.js';

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
