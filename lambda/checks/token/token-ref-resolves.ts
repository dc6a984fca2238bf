import type { CheckResult, Severity } from '../../config/findings.js';
import {
  itemsOf,
  type ClusterSnapshot,
  type Container,
  type Pod,
  type SecretLookup,
} from '../../snapshot/snapshot.js';
import { externalSecretTarget } from '../../snapshot/secret-refs.js';
import type { Check } from '../check.js';
import { expectedWriter } from '../external-secrets/clusterexternalsecret-coverage.js';
import { COPY_MODEL, copyModel, type SecretCopyModel } from '../../snapshot/copies/model.js';
import { podSpecPlace, podWithOwner, type EnvRef } from '../../snapshot/copies/readers.js';
import { TOKEN_ENV } from '../../snapshot/copies/values.js';

/** Variables whose absence leaves the agent unable to authenticate at all. */
const CREDENTIAL_ENVS = new Set([TOKEN_ENV, 'DD_API_KEY']);

interface Candidate {
  name: string;
  /** `ExternalSecret golang/golang-secrets` when an ExternalSecret writes it. */
  writer?: string;
  exists: boolean;
}

/**
 * Every `DD_*` secretKeyRef (and every envFrom secretRef of a Datadog container) of a running pod
 * names a Secret that exists in the pod's namespace and has the key. The field report's app
 * referenced `go-secrets` while ESO created `golang-secrets`.
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
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const model = copyModel(snapshot);
    const { workloads } = model;
    const results: CheckResult[] = [];

    for (const { pod, container, env, resolved } of model.envSecretRefs) {
      const ns = pod.meta.namespace ?? '';
      const { name: secretName, key, optional } = env.secretKeyRef;
      const resource = { kind: 'Pod', namespace: ns, name: pod.meta.name };
      const at = `${podWithOwner(pod, workloads)} container ${container.name} env ${env.name}`;
      const field = `${env.name}.valueFrom.secretKeyRef`;
      const messageKey = `${container.name}.${env.name}`;
      const lookup = model.lookup(ns, secretName);

      if (!lookup || lookup.result.status === 'error') {
        results.push(unreadable(resource, `unreadable:${messageKey}`, ns, secretName, at, lookup));
        continue;
      }
      // A missing optional ref sets nothing: the variable keeps what the kubelet resolved before
      // it (an earlier env entry, an envFrom Secret), or a later entry overrides it anyway.
      const elsewhere =
        optional && resolved && !(resolved.secret === secretName && resolved.key === key)
          ? resolved
          : undefined;
      const consequence = !optional
        ? 'The container cannot start (CreateContainerConfigError).'
        : elsewhere
          ? `The ref is optional, so the kubelet skips it and the container takes ${env.name} from ${sourceText(elsewhere, ns)} instead.`
          : `The ref is optional, so the container starts without ${env.name}${
              CREDENTIAL_ENVS.has(env.name) ? ' and cannot authenticate' : ''
            }.`;
      const severity: Severity | undefined = !optional
        ? undefined
        : elsewhere
          ? 'low'
          : CREDENTIAL_ENVS.has(env.name)
            ? 'high'
            : 'medium';

      if (lookup.result.status === 'not-found') {
        const hint = closestSecret(snapshot, model, ns, secretName, key);
        const writer = expectedWriter(snapshot, ns, secretName);
        results.push({
          status: 'FAIL',
          ...(severity ? { severity } : {}),
          resource,
          messageId: `${optional ? 'missing-optional-secret' : 'missing-secret'}:${messageKey}`,
          message: `${at} references Secret "${secretName}" (key "${key}"), which does not exist in namespace ${ns}. ${consequence}${
            hint
              ? ` Closest Secret with key "${key}" in ${ns}: "${hint.name}"${describeCandidate(hint)}.`
              : ` No Secret in ${ns} is known to have key "${key}".`
          }${writer ? ` ${writer}` : ''}`,
          remediation: writer
            ? writer
            : hint
              ? `Set ${field}.name to "${hint.name}" in ${podSpecPlace(pod, workloads)}, or set spec.target.name of ${hint.writer ?? 'the ExternalSecret'} to "${secretName}".`
              : `Create Secret ${ns}/${secretName} with key "${key}" (an ExternalSecret with spec.target.name "${secretName}" and a data[] entry with secretKey "${key}"), or fix ${field}.name in ${podSpecPlace(pod, workloads)}.`,
        });
        continue;
      }
      const data = lookup.result.secret.data;
      if (!(key in data)) {
        const keys = Object.keys(data).sort();
        const near = closestKey(key, keys);
        results.push({
          status: 'FAIL',
          ...(severity ? { severity } : {}),
          resource,
          messageId: `${optional ? 'missing-optional-key' : 'missing-key'}:${messageKey}`,
          message: `${at} references key "${key}" of Secret ${ns}/${secretName}, which has keys [${keys.join(', ')}] but not "${key}". ${consequence}`,
          remediation: `Add secretKey "${key}" to the ExternalSecret that writes ${ns}/${secretName}, or set ${field}.key${
            near ? ` to "${near}"` : ` to one of [${keys.join(', ')}]`
          } in ${podSpecPlace(pod, workloads)}.`,
        });
        continue;
      }
      results.push({
        status: 'PASS',
        resource,
        messageId: `resolves:${messageKey}`,
        message: `${at} resolves to Secret ${ns}/${secretName} key "${key}".`,
        remediation: '',
      });
    }

    for (const { pod, container, secretRef } of model.envFromSecretRefs) {
      results.push(envFromResult(pod, container, secretRef, model));
    }
    return results;
  },
};

function envFromResult(
  pod: Pod,
  container: Container,
  ref: { name: string; optional?: boolean },
  model: SecretCopyModel,
): CheckResult {
  const ns = pod.meta.namespace ?? '';
  const { workloads } = model;
  const resource = { kind: 'Pod', namespace: ns, name: pod.meta.name };
  const at = `${podWithOwner(pod, workloads)} container ${container.name} envFrom`;
  const messageKey = `${container.name}.envFrom.${ref.name}`;
  const lookup = model.lookup(ns, ref.name);
  if (!lookup || lookup.result.status === 'error') {
    return unreadable(resource, `unreadable:${messageKey}`, ns, ref.name, at, lookup);
  }
  if (lookup.result.status === 'not-found') {
    return {
      status: 'FAIL',
      ...(ref.optional ? { severity: 'medium' as const } : {}),
      resource,
      messageId: `${ref.optional ? 'missing-optional-envfrom-secret' : 'missing-envfrom-secret'}:${messageKey}`,
      message: `${at} reads Secret "${ref.name}", which does not exist in namespace ${ns}. ${
        ref.optional
          ? 'The ref is optional, so the container starts without any of its variables.'
          : 'The container cannot start (CreateContainerConfigError).'
      }`,
      remediation: `Create Secret ${ns}/${ref.name} (an ExternalSecret with spec.target.name "${ref.name}"), or fix envFrom[].secretRef.name of container ${container.name} in ${podSpecPlace(pod, workloads)}.`,
    };
  }
  return {
    status: 'PASS',
    resource,
    messageId: `envfrom-resolves:${messageKey}`,
    message: `${at} reads Secret ${ns}/${ref.name}, which exists.`,
    remediation: '',
  };
}

/** `envFrom Secret golang/agent-env (key "DD_API_KEY")`, `Secret golang/x key "k" (another env entry)`. */
function sourceText(ref: EnvRef, ns: string): string {
  return ref.via === 'envFrom'
    ? `envFrom Secret ${ns}/${ref.secret} (key "${ref.key}")`
    : `Secret ${ns}/${ref.secret} key "${ref.key}" (another env entry)`;
}

function unreadable(
  resource: { kind: string; namespace: string; name: string },
  messageId: string,
  ns: string,
  secretName: string,
  at: string,
  lookup: SecretLookup | undefined,
): CheckResult {
  return {
    status: 'ERROR',
    resource,
    messageId,
    message: `Could not read Secret ${ns}/${secretName} referenced by ${at}${
      lookup?.result.status === 'error' ? `: ${lookup.result.error.message}` : ''
    }.`,
    remediation: `Grant the auditor "get" on secrets/${secretName} in namespace ${ns} and re-run.`,
  };
}

function describeCandidate(c: Candidate): string {
  if (c.writer && c.exists) return ` (written by ${c.writer})`;
  if (c.writer) return ` (target of ${c.writer}; not created yet)`;
  return '';
}

/** A Secret in the namespace that has (or will have) the wanted key, with the most similar name. */
function closestSecret(
  snapshot: ClusterSnapshot,
  model: SecretCopyModel,
  ns: string,
  wanted: string,
  key: string,
): Candidate | undefined {
  const candidates = new Map<string, Candidate>();
  for (const l of snapshot.kube.secrets) {
    if (l.namespace !== ns || l.name === wanted) continue;
    if (l.result.status === 'found' && key in l.result.secret.data) {
      candidates.set(l.name, { name: l.name, exists: true });
    }
  }
  for (const es of itemsOf(snapshot.kube.externalSecrets)) {
    if (es.meta.namespace !== ns) continue;
    const target = externalSecretTarget(es);
    if (target === wanted || !es.data.some((d) => d.secretKey === key)) continue;
    const l = model.lookup(ns, target);
    candidates.set(target, {
      name: target,
      writer: `ExternalSecret ${ns}/${es.meta.name}`,
      exists: l?.result.status === 'found',
    });
  }
  let best: Candidate | undefined;
  let bestScore = Infinity;
  for (const c of [...candidates.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const score = editDistance(wanted, c.name);
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

function closestKey(wanted: string, keys: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_.]/g, '');
  return keys.find((k) => norm(k) === norm(wanted));
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
