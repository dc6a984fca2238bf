import { SIDECAR_WEBHOOK, describeSelectors } from '../../snapshot/admission/sidecar-config.js';
import type { CheckResult } from '../../config/findings.js';
import { itemsOf, type ClusterSnapshot } from '../../snapshot/snapshot.js';
import { discoverAgents } from '../../snapshot/agents.js';
import type { Check } from '../check.js';
import { clusterAgentLabel } from './injection-model.js';

/**
 * The Cluster Agent writes the MutatingWebhookConfiguration named by DD_ADMISSION_CONTROLLER_WEBHOOK_NAME
 * (default `datadog-webhook`) with the sidecar webhook `datadog.webhook.agent.sidecar`, served by its
 * admission Service. If the configuration or the webhook is missing, or the Service has no ready
 * endpoint, pods are created without the sidecar; with failurePolicy Ignore nothing says so.
 */
export const injectionWebhookRegistered: Check = {
  id: 'injection-webhook-registered',
  area: 'injection',
  title: 'The sidecar injection webhook is registered and its Service has ready endpoints',
  severity: 'high',
  resourceType: 'MutatingWebhookConfiguration',
  risk: 'Without the webhook (or with its Service down) new pods start without the agent; failurePolicy Ignore hides it, so missing sidecars go unnoticed until someone looks for their data.',
  remediation:
    'Let the Cluster Agent write its webhook (admission controller enabled, leader elected, RBAC on mutatingwebhookconfigurations) and keep its admission Service backed by ready pods.',
  requires: [
    'kube.pods',
    'kube.deployments',
    'kube.mutatingWebhooks',
    'kube.services',
    'kube.endpoints',
  ],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const d = discoverAgents(snapshot);
    const inj = d.injection;
    const ca = d.clusterAgent;
    // Also when the configuration turned the webhook off: the missing webhook is what users observe.
    if (!ca || !inj || (inj.state !== 'on' && inj.sidecarEnabled !== true)) return [];
    const why =
      inj.state === 'off'
        ? ` The Cluster Agent's sidecar settings turn it off (${inj.problems.map((p) => p.id).join(', ')}): fix them first (see injection-config-valid).`
        : '';
    const where = clusterAgentLabel(ca);
    const name = inj.webhookName;
    const resource = { kind: 'MutatingWebhookConfiguration', name };
    const config = itemsOf(snapshot.kube.mutatingWebhooks).find((c) => c.meta.name === name);
    if (!config) {
      return [
        {
          status: 'FAIL',
          resource,
          messageId: 'config-missing',
          message: `${where} names MutatingWebhookConfiguration ${name} (DD_ADMISSION_CONTROLLER_WEBHOOK_NAME), which does not exist: no pod is injected with the agent.${why}`,
          remediation: `Check the Cluster Agent log of ${where} for admission controller errors: it must be the leader and its ClusterRole must allow get, list, watch, create, update on mutatingwebhookconfigurations (admissionregistration.k8s.io); or correct DD_ADMISSION_CONTROLLER_WEBHOOK_NAME to the configuration it writes.`,
        },
      ];
    }
    const hook = config.webhooks.find((w) => w.name === SIDECAR_WEBHOOK);
    if (!hook) {
      return [
        {
          status: 'FAIL',
          resource,
          messageId: 'webhook-missing',
          message: `MutatingWebhookConfiguration ${name} has no webhook ${SIDECAR_WEBHOOK} (it has ${config.webhooks.map((w) => w.name).join(', ') || 'none'}): the Cluster Agent did not register sidecar injection, so no pod gets the agent.${why}`,
          remediation: `${why ? why.trim() + ' Then r' : 'R'}estart the Cluster Agent (kubectl -n ${ca.namespace} rollout restart deployment/${ca.deployment?.meta.name ?? 'cluster-agent'}) and check its log for "agent sidecar" errors.`,
        },
      ];
    }
    const results: CheckResult[] = [];
    const svc = hook.service;
    if (svc) {
      const ep = itemsOf(snapshot.kube.endpoints).find(
        (e) => e.namespace === svc.namespace && e.serviceName === svc.name,
      );
      const exists = itemsOf(snapshot.kube.services).some(
        (s) => s.meta.namespace === svc.namespace && s.meta.name === svc.name,
      );
      if (!exists || !ep || ep.readyAddresses < 1) {
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'service-not-ready',
          message: `Webhook ${SIDECAR_WEBHOOK} of ${name} calls Service ${svc.namespace}/${svc.name}, which ${exists ? 'has no ready endpoint' : 'does not exist'}: the API server cannot call it, and pods are created without the agent${hook.failurePolicy === 'Fail' ? ' or rejected' : ''}.`,
          remediation: `Make Service ${svc.namespace}/${svc.name} select the ready Cluster Agent pods of ${where} on the admission port (DD_ADMISSION_CONTROLLER_PORT, default 8000), then restart the workloads that should have the sidecar.`,
        });
      }
    }
    // Ignore is the chart default and keeps applications starting while the Cluster Agent is down;
    // the pods it lets through are found by injection-pods-injected, so it is said, not failed.
    const policy = hook.failurePolicy ?? 'Fail';
    const policyNote =
      policy === 'Ignore'
        ? ` failurePolicy Ignore: whenever the Cluster Agent is unreachable, pods start without the agent and nothing reports it but injection-pods-injected (set DD_ADMISSION_CONTROLLER_FAILURE_POLICY=Fail to block them instead).`
        : ` failurePolicy ${policy}.`;
    if (!results.some((r) => r.messageId === 'service-not-ready')) {
      results.push({
        status: 'PASS',
        ...(policy === 'Ignore' ? { severity: 'info' as const } : {}),
        resource,
        messageId: policy === 'Ignore' ? 'ok-failure-policy-ignore' : 'ok',
        message: `MutatingWebhookConfiguration ${name} has webhook ${SIDECAR_WEBHOOK} for ${describeSelectors(inj.selectors)}${svc ? `, served by Service ${svc.namespace}/${svc.name} with ready endpoints` : ''};${policyNote}`,
        remediation: '',
      });
    }
    return results;
  },
};
