import type { CheckResult } from '../../config/findings.js';
import { digestsEqual } from '../../snapshot/secret-digest.js';
import {
  itemsOf,
  valueOf,
  type ClusterSnapshot,
  type PodSpec,
  type SecretDigest,
} from '../../snapshot/snapshot.js';
import { isLivePod } from '../../snapshot/workloads/pods.js';
import type { Check } from '../check.js';
import { ownerWorkload, workloadIndex } from '../../snapshot/workloads/owners.js';
import { TOKEN_ENV } from '../../snapshot/copies/values.js';

/** Credentials that must come from a Secret, never from a literal in the pod template. */
const PROTECTED_ENVS = [TOKEN_ENV, 'DD_API_KEY', 'DD_APP_KEY'];

interface Spot {
  resource: { kind: string; namespace: string; name: string };
  label: string;
  spec: PodSpec;
}

/**
 * `DD_CLUSTER_AGENT_AUTH_TOKEN`, `DD_API_KEY` and `DD_APP_KEY` come from a secretKeyRef, not a
 * literal `value:`. The snapshot holds literals of such names only as digests, which is enough to
 * see that one is there (and whether it is the real token) without keeping it.
 */
export const tokenNotPlaintext: Check = {
  id: 'token-not-plaintext',
  area: 'token',
  title: 'The Cluster Agent token and Datadog keys are not literal values in pod specs',
  severity: 'high',
  resourceType: 'Workload',
  risk: 'A literal token or API key is readable by anyone who can get the Deployment or Pod, lands in Git and Helm history, and does not follow rotation in Secrets Manager, so it drifts into 403 invalid session token.',
  remediation:
    'Replace the literal value: with valueFrom.secretKeyRef to the Secret your ExternalSecret writes, then rotate the exposed credential.',
  requires: ['kube.pods'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const workloads = workloadIndex(snapshot);
    const spots: Spot[] = [];
    // Templates are where the literal is fixed; pods only when no collected workload owns them.
    for (const w of workloads.values()) {
      const ns = w.meta.namespace ?? '';
      spots.push({
        resource: { kind: w.kind, namespace: ns, name: w.meta.name },
        label: `${w.kind} ${ns}/${w.meta.name}`,
        spec: w.template.spec,
      });
    }
    for (const pod of itemsOf(snapshot.kube.pods)) {
      if (ownerWorkload(pod, workloads)) continue;
      if (!isLivePod(pod)) continue;
      const ns = pod.meta.namespace ?? '';
      spots.push({
        resource: { kind: 'Pod', namespace: ns, name: pod.meta.name },
        label: `Pod ${ns}/${pod.meta.name}`,
        spec: pod.spec,
      });
    }
    const tokenDigest = valueOf(snapshot.aws.tokenSource)?.current;

    const results: CheckResult[] = [];
    for (const spot of spots) {
      for (const c of [...spot.spec.initContainers, ...spot.spec.containers]) {
        for (const env of c.env) {
          if (!PROTECTED_ENVS.includes(env.name)) continue;
          const messageId = `${c.name}.${env.name}`;
          const literal = env.valueDigest ?? (env.value !== undefined ? true : undefined);
          if (literal) {
            results.push({
              status: 'FAIL',
              resource: spot.resource,
              messageId: `literal:${messageId}`,
              message: `${spot.label} container ${c.name} sets ${env.name} as a literal value:${describeLiteral(
                env.name,
                env.valueDigest,
                tokenDigest,
              )}`,
              remediation: `In ${spot.label}, replace env ${env.name} of container ${c.name} with a Secret reference, then rotate the exposed value:\n- name: ${env.name}\n  valueFrom:\n    secretKeyRef:\n      name: <secret written by your ExternalSecret>\n      key: ${env.name === TOKEN_ENV ? 'token' : env.name === 'DD_API_KEY' ? 'api-key' : 'app-key'}`,
            });
          } else if (env.secretKeyRef) {
            results.push({
              status: 'PASS',
              resource: spot.resource,
              messageId: `from-secret:${messageId}`,
              message: `${spot.label} container ${c.name} reads ${env.name} from Secret ${spot.resource.namespace}/${env.secretKeyRef.name}.`,
              remediation: '',
            });
          }
        }
      }
    }
    return results;
  },
};

function describeLiteral(
  name: string,
  digest: SecretDigest | undefined,
  tokenDigest: SecretDigest | undefined,
): string {
  const parts = [' it is visible to anyone who can read this object and never follows rotation.'];
  if (name === TOKEN_ENV && digest && tokenDigest) {
    parts.push(
      digestsEqual(digest, tokenDigest)
        ? ' It equals the token in Secrets Manager, so the live token is exposed.'
        : ' It also differs from the token in Secrets Manager, so a Cluster Agent using the Secrets Manager token answers this container 403 invalid session token.',
    );
  }
  return parts.join('');
}
