import type { CheckResult } from '../../findings.js';
import { itemsOf, type ClusterSnapshot, type SecretLookup } from '../../snapshot.js';
import { externalSecretTarget } from '../../kube/secret-refs.js';
import type { Check } from '../check.js';
import { datadogEnvSecretRefs } from './consumers.js';

/**
 * Every `DD_*` secretKeyRef of a running pod names a Secret that exists in the pod's namespace and
 * has the key. The field report's app referenced `go-secrets` while ESO created `golang-secrets`.
 */
export const tokenRefResolves: Check = {
  id: 'token-ref-resolves',
  area: 'token',
  title: 'Every DD_* secretKeyRef resolves to an existing Secret and key',
  severity: 'critical',
  resourceType: 'Pod',
  risk: 'A dangling secretKeyRef keeps the pod in CreateContainerConfigError, or (optional refs) starts the agent without its token: every call to the Cluster Agent then fails.',
  remediation:
    'Point the secretKeyRef at the Secret your ExternalSecret creates, or fix the ExternalSecret target name.',
  requires: ['kube.pods'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const lookups = new Map<string, SecretLookup>();
    for (const l of snapshot.kube.secrets) lookups.set(`${l.namespace}/${l.name}`, l);
    const targetsByNamespace = new Map<string, { name: string; keys: string[] }[]>();
    for (const es of itemsOf(snapshot.kube.externalSecrets)) {
      const ns = es.meta.namespace ?? '';
      const list = targetsByNamespace.get(ns) ?? [];
      list.push({ name: externalSecretTarget(es), keys: es.data.map((d) => d.secretKey) });
      targetsByNamespace.set(ns, list);
    }

    const results: CheckResult[] = [];
    for (const ref of datadogEnvSecretRefs(snapshot)) {
      const { pod, container, env } = ref;
      const ns = pod.meta.namespace ?? '';
      const secretName = env.secretKeyRef!.name;
      const key = env.secretKeyRef!.key;
      const resource = { kind: 'Pod', namespace: ns, name: pod.meta.name };
      const where = `container ${container.name} env ${env.name}`;
      const lookup = lookups.get(`${ns}/${secretName}`);
      const messageKey = `${container.name}.${env.name}`;
      if (!lookup || lookup.result.status === 'error') {
        results.push({
          status: 'ERROR',
          resource,
          messageId: `unreadable:${messageKey}`,
          message: `Could not read Secret ${ns}/${secretName} referenced by ${where}${
            lookup?.result.status === 'error' ? `: ${lookup.result.error.message}` : ''
          }.`,
          remediation: `Grant the auditor "get" on secrets/${secretName} in namespace ${ns} and re-run.`,
        });
        continue;
      }
      if (lookup.result.status === 'not-found') {
        const hint = closestSecret(
          secretName,
          key,
          ns,
          targetsByNamespace.get(ns) ?? [],
          snapshot.kube.secrets.filter((l) => l.namespace === ns),
        );
        results.push({
          status: 'FAIL',
          resource,
          messageId: `missing-secret:${messageKey}`,
          message: `Pod ${ns}/${pod.meta.name} ${where} references Secret "${secretName}" (key "${key}"), which does not exist in namespace ${ns}.${
            hint ? ` Closest existing secret with key "${key}": "${hint}".` : ''
          }`,
          remediation: hint
            ? `Set ${env.name}.valueFrom.secretKeyRef.name to "${hint}" in the pod template of ${ownerLabel(pod)}, or rename the ExternalSecret target to "${secretName}".`
            : `Create Secret ${ns}/${secretName} with key "${key}" (an ExternalSecret with target.name "${secretName}" and secretKey "${key}"), or fix ${env.name}.valueFrom.secretKeyRef.name in ${ownerLabel(pod)}.`,
        });
        continue;
      }
      if (!(key in lookup.result.secret.data)) {
        const keys = Object.keys(lookup.result.secret.data).sort();
        results.push({
          status: 'FAIL',
          resource,
          messageId: `missing-key:${messageKey}`,
          message: `Pod ${ns}/${pod.meta.name} ${where} references key "${key}" of Secret ${ns}/${secretName}, which has keys [${keys.join(', ')}] but not "${key}".`,
          remediation: `Add secretKey "${key}" to the ExternalSecret that writes ${ns}/${secretName}, or set ${env.name}.valueFrom.secretKeyRef.key to one of [${keys.join(', ')}].`,
        });
        continue;
      }
      results.push({
        status: 'PASS',
        resource,
        messageId: `resolves:${messageKey}`,
        message: `Pod ${ns}/${pod.meta.name} ${where} resolves to Secret ${ns}/${secretName} key "${key}".`,
        remediation: '',
      });
    }
    return results;
  },
};

function ownerLabel(pod: {
  meta: { ownerReferences: { kind: string; name: string }[]; name: string };
}): string {
  const owner = pod.meta.ownerReferences[0];
  return owner ? `${owner.kind} ${owner.name}` : `Pod ${pod.meta.name}`;
}

/** A secret in the namespace that has the wanted key, preferring the most similar name. */
function closestSecret(
  wanted: string,
  key: string,
  _ns: string,
  targets: { name: string; keys: string[] }[],
  lookups: SecretLookup[],
): string | undefined {
  const candidates = new Set<string>();
  for (const t of targets) if (t.keys.includes(key) && t.name !== wanted) candidates.add(t.name);
  for (const l of lookups) {
    if (l.result.status === 'found' && key in l.result.secret.data && l.name !== wanted)
      candidates.add(l.name);
  }
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of [...candidates].sort()) {
    const score = editDistance(wanted, c);
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
