import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot, ExternalSecret } from '../../snapshot/snapshot.js';
import { externalSecretTarget } from '../../snapshot/secret-refs.js';
import type { Check } from '../check.js';
import { generatedTokenOf } from '../token/generated-token.js';
import { esLabel, tokenDataEntryYaml, tokenMappings } from '../../snapshot/eso.js';
import {
  COPY_MODEL,
  copiesOf,
  type HeldKey,
  tokenExternalSecrets,
  tokenKeys,
} from '../../snapshot/copies/model.js';
import { describeUsers } from '../../snapshot/copies/readers.js';
import { TOKEN_ENV } from '../../snapshot/copies/values.js';
import { copyPath } from '../../snapshot/copies/writers.js';

function esResource(es: ExternalSecret) {
  return { kind: 'ExternalSecret', namespace: es.meta.namespace ?? '', name: es.meta.name };
}

function remoteRefText(snapshot: ClusterSnapshot): string {
  const p = snapshot.settings.tokenSecretProperty;
  return `remoteRef.key ${snapshot.settings.tokenSecretId}${p ? ` with property ${p}` : ' (no property)'}`;
}

/**
 * ExternalSecrets write the token where the consumers read it: the target Secret name (explicit or
 * defaulted to the ExternalSecret's name) is the one the agents reference, a `data[]` entry maps
 * the configured Secrets Manager secret (and JSON property) into the key they read, and a
 * creationPolicy of None or Merge has a target Secret to write into.
 */
export const externalsecretMapping: Check = {
  id: 'externalsecret-mapping',
  area: 'external-secrets',
  title:
    'ExternalSecrets map the Secrets Manager token into the Secret name and key the agents read',
  severity: 'high',
  resourceType: 'ExternalSecret',
  risk: 'An ExternalSecret that writes another Secret name, maps another remote key or property, or lacks the token key leaves the agents on a hand-made or missing token: 403 invalid session token now or at the next rotation.',
  remediation:
    'Make spec.target.name the Secret the agents reference and add a data[] entry with secretKey "token" and remoteRef.key set to the Secrets Manager token secret.',
  requires: ['kube.externalSecrets'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    if (snapshot.kube.externalSecrets.status !== 'ok') return [];
    const keys = tokenKeys(snapshot);
    const results: CheckResult[] = [];
    results.push(...unmanagedTargets(snapshot, keys));

    // (ExternalSecret, key) pairs to verify: keys agents read from its target, and keys it maps.
    const pairs = new Map<ExternalSecret, Map<string, HeldKey>>();
    const add = (es: ExternalSecret, k: HeldKey) => {
      const m = pairs.get(es) ?? new Map<string, HeldKey>();
      m.set(k.key, k);
      pairs.set(es, m);
    };
    for (const k of keys) {
      for (const m of k.mappings) add(m.es, k);
      if (k.users.length > 0) for (const w of k.writers) add(w, k);
    }

    for (const es of tokenExternalSecrets(keys)) {
      const creation = creationPolicyResult(es, keys);
      if (creation) results.push(creation);
      for (const k of [...(pairs.get(es)?.values() ?? [])].sort((a, b) =>
        a.key.localeCompare(b.key),
      )) {
        const r = keyResult(snapshot, es, k);
        if (r) results.push(r);
      }
    }
    return results;
  },
};

/**
 * Agents read the token from a Secret no ExternalSecret writes, while an ExternalSecret in the
 * same namespace writes the token under another name. A reference to a Secret that does not exist
 * at all is token-ref-resolves' finding (with this ExternalSecret as the hint), not repeated here.
 */
function unmanagedTargets(snapshot: ClusterSnapshot, keys: HeldKey[]): CheckResult[] {
  const mappings = tokenMappings(snapshot);
  const results: CheckResult[] = [];
  for (const k of keys) {
    if (k.users.length === 0 || k.writers.length > 0) continue;
    if (k.lookup?.result.status !== 'found') continue;
    // The Operator writes its own `<name>-token`; the fix is in the DatadogAgent, and
    // token-not-chart-generated / operator-token-not-literal give it.
    if (generatedTokenOf(snapshot, k, k.lookup.result.secret, false)?.by === 'datadog-operator')
      continue;
    const other = mappings.find((m) => m.namespace === k.namespace && m.target !== k.secret);
    if (!other) continue;
    results.push({
      status: 'FAIL',
      resource: { kind: 'Secret', namespace: k.namespace, name: k.secret },
      messageId: `unmanaged-token-secret:${k.key}`,
      message: `${describeUsers(k.users)} read the token from Secret ${k.namespace}/${k.secret}, which no ExternalSecret writes, while ${esLabel(other.es)} writes the token into Secret ${k.namespace}/${other.target}: the Secret they read does not follow Secrets Manager.`,
      remediation: `Either set spec.target.name: ${k.secret} in ${esLabel(other.es)} (delete the hand-made Secret first, or add creationPolicy: Merge), or set ${TOKEN_ENV}.valueFrom.secretKeyRef.name to "${other.target}" (key "${other.secretKey}") in the pod templates.`,
    });
  }
  return results;
}

function keyResult(
  snapshot: ClusterSnapshot,
  es: ExternalSecret,
  k: HeldKey,
): CheckResult | undefined {
  const resource = esResource(es);
  const target = externalSecretTarget(es);
  const readers = k.users.length ? ` (read by ${describeUsers(k.users)})` : '';
  const mapping = k.mappings.find((m) => m.es === es);
  const snippet = `\nspec:\n  target:\n    name: ${target}\n  data:\n${tokenDataEntryYaml(snapshot.settings, k.key, '    ')}`;
  if (mapping) {
    if (!mapping.propertyMatches) {
      return {
        status: 'FAIL',
        resource,
        messageId: `wrong-property:${k.key}`,
        message: `${esLabel(es)} maps ${mapping.remoteKey} into Secret ${k.namespace}/${target} key "${k.key}"${readers} with ${
          mapping.property ? `property "${mapping.property}"` : 'no property'
        }, but the token is ${
          snapshot.settings.tokenSecretProperty
            ? `JSON property "${snapshot.settings.tokenSecretProperty}"`
            : 'the whole secret string (no property)'
        }: the key receives the wrong value.`,
        remediation: `In ${esLabel(es)} set the data[] entry with secretKey "${k.key}" to ${remoteRefText(snapshot)}:${snippet}`,
      };
    }
    return {
      status: 'PASS',
      resource,
      messageId: `maps-token:${k.key}`,
      message: `${esLabel(es)} maps ${remoteRefText(snapshot)} into Secret ${k.namespace}/${target} key "${k.key}"${readers}.`,
      remediation: '',
    };
  }
  const entry = es.data.find((d) => d.secretKey === k.key);
  // A chain through a kubernetes-provider store that ends at the token secret maps it too.
  const chained = copiesOf(snapshot, k.namespace, target, k.key).find(
    (c) => c.value === 'token' && c.writer.hops[0]?.es === es && c.writer.hops.length > 1,
  );
  if (entry && chained) {
    return {
      status: 'PASS',
      resource,
      messageId: `maps-token:${k.key}`,
      message: `${esLabel(es)} maps the Cluster Agent token into Secret ${k.namespace}/${target} key "${k.key}"${readers} through a chain: ${copyPath(chained)}.`,
      remediation: '',
    };
  }
  if (entry) {
    return {
      status: 'FAIL',
      resource,
      messageId: `wrong-remote-key:${k.key}`,
      message: `${esLabel(es)} fills key "${k.key}" of Secret ${k.namespace}/${target}${readers} from remote key ${entry.remoteRef.key}${
        entry.remoteRef.property ? ` (property ${entry.remoteRef.property})` : ''
      }, not from the configured Cluster Agent token ${snapshot.settings.tokenSecretId}.`,
      remediation: `Set the data[] entry with secretKey "${k.key}" of ${esLabel(es)} to ${remoteRefText(snapshot)} (or, if ${entry.remoteRef.key} is the real token, set tokenSecret.id in the auditor config):${snippet}`,
    };
  }
  // A template or dataFrom can produce the key in ways the snapshot does not show.
  if (es.target.hasTemplate || es.dataFrom.length > 0) return undefined;
  return {
    status: 'FAIL',
    resource,
    messageId: `token-key-missing:${k.key}`,
    message: `${esLabel(es)} writes Secret ${k.namespace}/${target}${readers} but has no data[] entry with secretKey "${k.key}": the token never reaches that key.`,
    remediation: `Add the token to ${esLabel(es)}:${snippet}`,
  };
}

function creationPolicyResult(es: ExternalSecret, keys: HeldKey[]): CheckResult | undefined {
  const policy = es.target.creationPolicy;
  if (policy !== 'None' && policy !== 'Merge') return undefined;
  const ns = es.meta.namespace ?? '';
  const target = externalSecretTarget(es);
  const lookup = keys.find((k) => k.namespace === ns && k.secret === target)?.lookup;
  if (lookup?.result.status !== 'not-found') return undefined;
  return {
    status: 'FAIL',
    resource: esResource(es),
    messageId: 'target-missing-for-policy',
    message: `${esLabel(es)} has creationPolicy ${policy}, so ESO ${
      policy === 'Merge' ? 'only merges into an existing Secret' : 'never creates the Secret'
    }, but Secret ${ns}/${target} does not exist: the token is never written.`,
    remediation: `Set spec.target.creationPolicy: Owner in ${esLabel(es)} so ESO creates ${ns}/${target}, or create the Secret first.`,
  };
}
