import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import { discoverAgents } from '../../snapshot/agents.js';
import { esLabel, tokenExternalSecretYaml, tokenMappings } from '../../snapshot/eso.js';
import { generatedTokenOf, isEsoManaged } from './generated-token.js';
import { suggestedTokenSecret } from '../../snapshot/operator.js';
import { COPY_MODEL, clusterAgentKeys, tokenKeys } from '../../snapshot/copies/model.js';
import { TOKEN_ENV, TOKEN_KEY } from '../../snapshot/copies/values.js';

/**
 * The Cluster Agent's token Secret is not the one the Datadog Helm chart generates
 * (`<release>-cluster-agent`): without `clusterAgent.tokenExistingSecret` the chart renders a new
 * random token on every render, so under Argo CD or Flux the Cluster Agent's token changes behind
 * the agents' backs, and agents in other namespaces cannot read it anyway. The Datadog Operator
 * does the same with `<name>-token` when a DatadogAgent names no clusterAgentTokenSecret (see
 * generated-token.ts, the one definition of a generated token).
 */
export const tokenNotChartGenerated: Check = {
  id: 'token-not-chart-generated',
  area: 'token',
  title:
    'The Cluster Agent token comes from an existing Secret, not one the Helm chart or the Datadog Operator generates',
  severity: 'high',
  resourceType: 'Secret',
  risk: 'The chart generates a random token for <release>-cluster-agent on every render: each GitOps sync or helm upgrade changes the Cluster Agent token, and agents holding the previous one get 403 invalid session token. The Datadog Operator generates one into <name>-token (in plain text in the DatadogAgent status) when no clusterAgentTokenSecret is set: no agent outside its pods has it.',
  remediation:
    'Helm: set clusterAgent.tokenExistingSecret; Operator: set spec.global.clusterAgentTokenSecret {secretName, keyName}; either way to a Secret written by an ExternalSecret from the Secrets Manager token.',
  requires: ['kube.pods'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const ca = discoverAgents(snapshot).clusterAgent;
    if (!ca) return [];
    const keys = clusterAgentKeys(tokenKeys(snapshot)).filter((k) => k.namespace === ca.namespace);
    const mapped = tokenMappings(snapshot).find(
      (m) => m.namespace === ca.namespace && m.secretKey === TOKEN_KEY,
    );
    const suggested = mapped?.target ?? 'datadog-cluster-agent-token';
    const where = ca.deployment
      ? { kind: 'Deployment', namespace: ca.namespace, name: ca.deployment.meta.name }
      : { kind: 'Pod', namespace: ca.namespace, name: ca.pods[0]?.meta.name ?? 'cluster-agent' };

    if (keys.length === 0) {
      const literal = ca.containers.some((c) => c.env.some((e) => e.name === TOKEN_ENV));
      // A literal token is token-not-plaintext's finding; nothing to say about Secrets here.
      if (literal || ca.containers.length === 0) return [];
      return [
        {
          status: 'FAIL',
          resource: where,
          messageId: 'no-token-configured',
          message: `The Cluster Agent (${where.kind} ${where.namespace}/${where.name}) has no ${TOKEN_ENV}: it generates its own random token at start, which no agent outside its pod can know, so agents get 403 invalid session token.`,
          remediation: `Set clusterAgent.tokenExistingSecret: ${suggested} in the Datadog Helm values (the Secret needs key "${TOKEN_KEY}"), written by an ExternalSecret:\n${tokenExternalSecretYaml(snapshot, ca.namespace, suggested, TOKEN_KEY)}`,
        },
      ];
    }

    const results: CheckResult[] = [];
    for (const k of keys) {
      if (k.lookup?.result.status !== 'found') continue; // token-ref-resolves reports it
      const secret = k.lookup.result.secret;
      const resource = { kind: 'Secret', namespace: k.namespace, name: k.secret };
      const eso = isEsoManaged(secret, k.writers.length > 0);
      const generated = generatedTokenOf(snapshot, k, secret, k.writers.length > 0);
      if (generated?.by === 'datadog-operator') {
        // A literal clusterAgentToken is operator-token-not-literal's finding.
        if (generated.source === 'literal') continue;
        const dda = generated.datadogAgent;
        const label = `DatadogAgent ${dda.meta.namespace ?? ''}/${dda.meta.name}`;
        const ignored = generated.ref.ignoredTokenSecret;
        const use = suggestedTokenSecret(snapshot, dda);
        results.push({
          status: 'FAIL',
          resource,
          messageId: `operator-generated:${k.key}`,
          message: `The Cluster Agent reads its token from Secret ${k.namespace}/${k.secret}, which the Datadog Operator fills with a random token it generated for ${label} (kept in plain text in its status.clusterAgent.generatedToken): ${
            ignored
              ? `spec.global.clusterAgentTokenSecret names Secret ${ignored.secretName} without keyName, and the Operator ignores a clusterAgentTokenSecret unless both secretName and keyName are set.`
              : 'the DatadogAgent sets neither spec.global.clusterAgentTokenSecret nor clusterAgentToken.'
          } No agent outside the Operator's own pods holds that token, and it never follows Secrets Manager.`,
          remediation: `In ${label} set spec.global.clusterAgentTokenSecret: {secretName: ${use.secretName}, keyName: ${use.keyName}} (both fields) and point every agent's ${TOKEN_ENV} at the same token. ${use.how}`,
        });
        continue;
      }
      if (generated?.by === 'helm-chart') {
        const release = generated.release;
        results.push({
          status: 'FAIL',
          resource,
          messageId: `chart-generated:${k.key}`,
          message: `The Cluster Agent reads its token from Secret ${k.namespace}/${k.secret}, which Helm release "${release}" manages and no ExternalSecret writes: the chart's <release>-cluster-agent Secret, holding a random token regenerated on every render (or clusterAgent.token from your values). Each sync or upgrade changes the token under the agents.`,
          remediation: `In the Datadog Helm values set clusterAgent.tokenExistingSecret: ${suggested} (and remove clusterAgent.token), point every agent's ${TOKEN_ENV} at the same token, and let ESO write the Secret${
            mapped ? ` (${esLabel(mapped.es)} already maps the token into ${mapped.target})` : ''
          }:\n${tokenExternalSecretYaml(snapshot, k.namespace, suggested, TOKEN_KEY)}`,
        });
        continue;
      }
      results.push({
        status: 'PASS',
        resource,
        messageId: `existing-secret:${k.key}`,
        message: `The Cluster Agent reads its token from Secret ${k.namespace}/${k.secret} key "${k.key}", ${
          eso
            ? `written by ${k.writers[0] ? esLabel(k.writers[0]) : 'External Secrets Operator'}`
            : 'which neither the Helm chart nor the Datadog Operator generates'
        }.`,
        remediation: '',
      });
    }
    return results;
  },
};
