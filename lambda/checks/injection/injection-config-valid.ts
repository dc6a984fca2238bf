import {
  SIDECAR_ENV,
  describeSelectors,
  settingField,
} from '../../snapshot/admission/sidecar-config.js';
import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import { discoverAgents } from '../../snapshot/agents.js';
import type { Check } from '../check.js';
import { clusterAgentLabel, clusterAgentResource } from './injection-model.js';

/**
 * The Cluster Agent registers no sidecar webhook, and says so only in one log line, when its
 * selectors or profiles are not valid JSON, list more than one entry, or name a provider it does not
 * support. Read from the Cluster Agent's own environment, which is what the webhook obeys.
 */
export const injectionConfigValid: Check = {
  id: 'injection-config-valid',
  area: 'injection',
  title: 'Admission-controller sidecar injection is configured so that the webhook is on',
  severity: 'high',
  resourceType: 'Deployment',
  risk: 'A second selector, a selector or profile that is not valid JSON, an unsupported provider or a disabled admission controller turns injection off with one log line: new pods start without the agent and nothing alerts.',
  remediation:
    'Keep one selector and at most one profile as valid JSON, provider "fargate", and the admission controller enabled, in the Cluster Agent env (Helm clusterAgent.admissionController.*).',
  requires: ['kube.pods', 'kube.deployments'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const d = discoverAgents(snapshot);
    const ca = d.clusterAgent;
    const inj = d.injection;
    if (!ca || !inj || !inj.configured) return [];
    const resource = clusterAgentResource(ca);
    const where = clusterAgentLabel(ca);
    if (inj.sidecarEnabled === false) {
      return [
        {
          status: 'PASS',
          severity: 'info',
          resource,
          messageId: 'disabled',
          message: `${where} sets sidecar injection settings but ${SIDECAR_ENV.sidecarEnabled.name} is not true: injection is switched off on purpose.`,
          remediation: '',
        },
      ];
    }
    const results: CheckResult[] = inj.problems.map((p) => ({
      status: 'FAIL',
      resource,
      messageId: p.id,
      message: `${where}: ${p.message}`,
      remediation: p.fix,
    }));
    if (inj.state === 'unknown' && !results.length) {
      results.push({
        status: 'ERROR',
        severity: 'info',
        resource,
        messageId: 'not-evaluated',
        message: `${where} takes ${inj.notEvaluated.join(', ')}, which the auditor does not read: whether the sidecar webhook is on is not evaluated.`,
        remediation: `Set these as literal env values on the Cluster Agent container (${inj.source?.kind === 'operator' ? settingField(inj.source, 'agentSidecarInjection.*') : 'Helm clusterAgent.admissionController.agentSidecarInjection.*'}) so they can be audited, or check the Cluster Agent log for "selectors", "profiles" or "provider" errors.`,
      });
    }
    if (!results.length) {
      results.push({
        status: 'PASS',
        resource,
        messageId: 'on',
        message: `${where} registers the sidecar webhook (provider ${inj.provider}) for ${describeSelectors(inj.selectors)}.`,
        remediation: '',
      });
    }
    return results;
  },
};
