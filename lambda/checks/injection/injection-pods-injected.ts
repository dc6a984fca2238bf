import {
  INJECTED_CONTAINER,
  INJECTION_STATUS_ANNOTATION,
  SIDECAR_ENV,
  describeSelectors,
  settingField,
} from '../../snapshot/admission/sidecar-config.js';
import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import { discoverAgents, type AgentDiscovery } from '../../snapshot/agents.js';
import type { Check } from '../check.js';
import { clusterAgentLabel, listOf, requestsByOwner } from './injection-model.js';

/** Why a pod that the selector picks runs without the injected agent. */
function causeOf(d: AgentDiscovery): { cause: string; fixFirst: string } {
  const inj = d.injection;
  if (!d.clusterAgent || !inj) {
    return {
      cause: 'no Cluster Agent was found, so no admission controller can inject the sidecar',
      fixFirst:
        'Install the Cluster Agent with clusterAgent.admissionController.agentSidecarInjection enabled (see datadog-setup-found)',
    };
  }
  const ca = clusterAgentLabel(d.clusterAgent);
  if (inj.sidecarEnabled !== true && inj.settings.sidecarEnabled.source !== 'opaque') {
    return {
      cause: `sidecar injection is off: ${SIDECAR_ENV.sidecarEnabled.name} is not "true" on ${ca}`,
      fixFirst:
        inj.source?.kind === 'operator'
          ? `Enable it: ${settingField(inj.source, 'agentSidecarInjection.enabled: true and provider: fargate')} (env ${SIDECAR_ENV.sidecarEnabled.name}="true" on ${ca})`
          : `Enable it: Helm clusterAgent.admissionController.agentSidecarInjection.enabled: true and provider: fargate (env ${SIDECAR_ENV.sidecarEnabled.name}="true" on ${ca})`,
    };
  }
  const disabling = inj.problems.filter((p) => p.id !== 'no-provider');
  if (inj.state === 'off' && disabling.length) {
    return {
      cause: `the Cluster Agent silently turned the webhook off (${disabling.map((p) => p.id).join(', ')}; see injection-config-valid)`,
      fixFirst: disabling.map((p) => p.fix).join(' '),
    };
  }
  if (inj.state === 'unknown') {
    return {
      cause: `the injection settings come from sources the auditor does not read (${inj.notEvaluated.join(', ')}), so injection may be off`,
      fixFirst: `Check the Cluster Agent log of ${ca} for sidecar webhook errors`,
    };
  }
  const policy = inj.failurePolicy ?? 'Ignore';
  return {
    cause:
      policy === 'Ignore'
        ? `the pod was created while the webhook "${inj.webhookName}" was missing or unreachable (or before injection was enabled), and failurePolicy Ignore let it start without the agent`
        : `the pod was created before injection was enabled or its selector matched`,
    fixFirst: `Make sure MutatingWebhookConfiguration ${inj.webhookName} exists with webhook datadog.webhook.agent.sidecar and its Service has ready endpoints (see injection-webhook-registered)`,
  };
}

/**
 * The webhook mutates on pod CREATE only. A pod its selector picks that runs without the
 * `datadog-agent-injected` container stays unmonitored until it is recreated, and nothing reports it.
 */
export const injectionPodsInjected: Check = {
  id: 'injection-pods-injected',
  area: 'injection',
  title: 'Pods the sidecar injection selector picks run the injected agent',
  severity: 'high',
  resourceType: 'Deployment',
  risk: 'A pod created while the webhook was off or unreachable starts without the agent (failurePolicy Ignore): no metrics, logs or traces from it, and no error anywhere until it is recreated.',
  remediation:
    'Fix the webhook (injection-config-valid, injection-webhook-registered), then restart the workload so its pods are created again: kubectl rollout restart.',
  requires: ['kube.pods', 'kube.deployments', 'kube.namespaces'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const d = discoverAgents(snapshot);
    const results: CheckResult[] = [];
    const selector = d.injection
      ? describeSelectors(d.injection.selectors)
      : 'pods labelled agent.datadoghq.com/sidecar';
    for (const g of requestsByOwner(d)) {
      // A pod the Cluster Agent annotated as skipped has its own reason (injection-status-annotations).
      const missing = g.requests.filter(
        (r) => !r.injected && r.pod.meta.annotations[INJECTION_STATUS_ANNOTATION] === undefined,
      );
      if (!missing.length) {
        if (g.requests.every((r) => r.injected)) {
          results.push({
            status: 'PASS',
            resource: g.resource,
            messageId: 'injected',
            message: `Every running pod of ${g.label} (${g.requests.length}) has the ${INJECTED_CONTAINER} container.`,
            remediation: '',
          });
        }
        continue;
      }
      const { cause, fixFirst } = causeOf(d);
      const pods = missing.map((r) => r.pod.meta.name);
      results.push({
        status: 'FAIL',
        resource: g.resource,
        messageId: 'sidecar-missing',
        message: `${missing.length} of ${g.requests.length} running pod(s) of ${g.label} (${listOf(pods)}) match the injection selector (${selector}) but run without the ${INJECTED_CONTAINER} container: ${cause}. They send no metrics, logs or traces until recreated.`,
        remediation: `${fixFirst.replace(/\.\s*$/, '')}. Then recreate the pods: ${g.restart}.`,
      });
    }
    return results;
  },
};
