import {
  INJECTION_ERROR_ANNOTATION,
  INJECTION_STATUS_ANNOTATION,
  SIDECAR_API_KEY,
  SIDECAR_SECRET,
  SIDECAR_TOKEN_KEY,
} from '../../snapshot/admission/sidecar-config.js';
import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import { discoverAgents } from '../../snapshot/agents.js';
import type { Check } from '../check.js';

/** Reasons the Cluster Agent writes (agent_sidecar/constants.go, PR #56691) and what each needs. */
const REASONS: Record<string, (ns: string) => { what: string; fix: string }> = {
  secret_not_found: (ns) => ({
    what: `Secret ${ns}/${SIDECAR_SECRET} did not exist when the pod was created`,
    fix: `Create Secret ${SIDECAR_SECRET} in namespace ${ns} with keys ${SIDECAR_API_KEY} and ${SIDECAR_TOKEN_KEY}, written from Secrets Manager by an ExternalSecret (spec.target.name: ${SIDECAR_SECRET})`,
  }),
  api_key_not_found: (ns) => ({
    what: `Secret ${ns}/${SIDECAR_SECRET} has no key ${SIDECAR_API_KEY}`,
    fix: `Add key ${SIDECAR_API_KEY} to Secret ${ns}/${SIDECAR_SECRET} (its ExternalSecret's spec.data[].secretKey)`,
  }),
  token_not_found: (ns) => ({
    what: `Secret ${ns}/${SIDECAR_SECRET} has no key ${SIDECAR_TOKEN_KEY}`,
    fix: `Add key ${SIDECAR_TOKEN_KEY} (the Cluster Agent token) to Secret ${ns}/${SIDECAR_SECRET} (its ExternalSecret's spec.data[].secretKey)`,
  }),
};

/** Annotation values are machine codes; anything else is shown cut short and as plain characters. */
function code(value: string, max: number): string {
  const cut = value.slice(0, max).replace(/[^\w.:/-]/g, '?');
  return value.length > max ? `${cut}...` : cut;
}

/**
 * Newer Cluster Agents skip injection instead of leaving the pod in CreateContainerConfigError
 * when `datadog-secret` or one of its keys is missing, and say so only in pod annotations.
 */
export const injectionStatusAnnotations: Check = {
  id: 'injection-status-annotations',
  area: 'injection',
  title: 'No pod carries a "sidecar injection skipped" annotation from the Cluster Agent',
  severity: 'high',
  resourceType: 'Pod',
  risk: 'The Cluster Agent let the pod start without the agent because datadog-secret or one of its keys was missing; creating the Secret later does not add the sidecar to running pods.',
  remediation:
    'Create datadog-secret with keys api-key and token in the pod namespace, then recreate the pod (kubectl rollout restart).',
  requires: ['kube.pods'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const d = discoverAgents(snapshot);
    const results: CheckResult[] = [];
    for (const r of d.sidecarRequests) {
      const pod = r.pod;
      const resource = { kind: 'Pod', namespace: r.namespace, name: pod.meta.name };
      const status = pod.meta.annotations[INJECTION_STATUS_ANNOTATION];
      if (status === undefined) {
        if (r.injected) {
          results.push({
            status: 'PASS',
            resource,
            messageId: 'ok',
            message: `Pod ${r.namespace}/${pod.meta.name} was injected and carries no injection status annotation.`,
            remediation: '',
          });
        }
        continue;
      }
      const raw = pod.meta.annotations[INJECTION_ERROR_ANNOTATION];
      const known = raw !== undefined ? REASONS[raw] : undefined;
      const reason = known
        ? known(r.namespace)
        : {
            what: `the Cluster Agent gave reason "${code(raw ?? 'none', 80)}"`,
            fix: `Read the Cluster Agent log for pod ${r.namespace}/${pod.meta.name} and fix what it names`,
          };
      const restart = r.workload
        ? `kubectl -n ${r.namespace} rollout restart ${r.workload.kind.toLowerCase()}/${r.workload.meta.name}`
        : `kubectl -n ${r.namespace} delete pod ${pod.meta.name} (then recreate it)`;
      results.push({
        status: 'FAIL',
        resource,
        messageId: `skipped:${known ? raw : 'other'}`,
        message: `Pod ${r.namespace}/${pod.meta.name} runs without the agent: the Cluster Agent annotated ${INJECTION_STATUS_ANNOTATION}="${code(status, 40)}" because ${reason.what}.`,
        remediation: `${reason.fix}. Then recreate the pod so the webhook injects it: ${restart}.`,
      });
    }
    return results;
  },
};
