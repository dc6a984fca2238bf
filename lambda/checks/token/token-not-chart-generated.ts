import type { CheckResult } from '../../findings.js';
import type { ClusterSnapshot, SecretSnapshot } from '../../snapshot.js';
import type { Check } from '../check.js';
import { discoverAgents } from '../agent-discovery.js';
import { esLabel, tokenExternalSecretYaml, tokenMappings } from '../external-secrets/eso.js';
import { TOKEN_ENV, TOKEN_KEY, clusterAgentKeys, tokenSecretKeys } from './consumers.js';

function isEsoManaged(secret: SecretSnapshot, hasWriter: boolean): boolean {
  return (
    hasWriter ||
    secret.meta.ownerReferences.some((o) => o.kind === 'ExternalSecret') ||
    Object.keys(secret.meta.labels).some((k) => k.startsWith('reconcile.external-secrets.io/')) ||
    Object.keys(secret.meta.annotations).some((k) =>
      k.startsWith('reconcile.external-secrets.io/'),
    ) ||
    // `externalsecrets.external-secrets.io/<name>` since ESO 0.9, `external-secrets` before.
    secret.managedFields.some((m) => /(^|\.)external-secrets(\.io\/|$)/.test(m.manager))
  );
}

function helmRelease(secret: SecretSnapshot): string | undefined {
  const { labels, annotations } = secret.meta;
  const managedByHelm =
    labels['app.kubernetes.io/managed-by'] === 'Helm' ||
    annotations['meta.helm.sh/release-name'] !== undefined ||
    labels['helm.sh/chart'] !== undefined;
  if (!managedByHelm) return undefined;
  return (
    annotations['meta.helm.sh/release-name'] ??
    labels['app.kubernetes.io/instance'] ??
    labels['release'] ??
    '<release>'
  );
}

/**
 * The Cluster Agent's token Secret is not the one the Datadog Helm chart generates
 * (`<release>-cluster-agent`): without `clusterAgent.tokenExistingSecret` the chart renders a new
 * random token on every render, so under Argo CD or Flux the Cluster Agent's token changes behind
 * the agents' backs, and agents in other namespaces cannot read it anyway.
 */
export const tokenNotChartGenerated: Check = {
  id: 'token-not-chart-generated',
  area: 'token',
  title: 'The Cluster Agent token comes from an existing Secret, not one the Helm chart generates',
  severity: 'high',
  resourceType: 'Secret',
  risk: 'The chart generates a random token for <release>-cluster-agent on every render: each GitOps sync or helm upgrade changes the Cluster Agent token, and agents holding the previous one get 403 invalid session token.',
  remediation:
    'Set clusterAgent.tokenExistingSecret to a Secret written by an ExternalSecret (key "token") from the Secrets Manager token.',
  requires: ['kube.pods'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const ca = discoverAgents(snapshot).clusterAgent;
    if (!ca) return [];
    const keys = clusterAgentKeys(tokenSecretKeys(snapshot)).filter(
      (k) => k.namespace === ca.namespace,
    );
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
      const release = helmRelease(secret);
      if (!eso && release && k.secret.endsWith('-cluster-agent')) {
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
            : 'which the Helm chart does not generate'
        }.`,
        remediation: '',
      });
    }
    return results;
  },
};
