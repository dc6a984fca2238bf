import {
  SIDECAR_API_KEY_ENV,
  SIDECAR_ENV,
  SIDECAR_SECRET,
  SIDECAR_TOKEN_ENV,
  SIDECAR_TOKEN_KEY,
  settingField,
  type SidecarSecretInput,
} from '../../snapshot/admission/sidecar-config.js';
import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import { discoverAgents } from '../../snapshot/agents.js';
import type { Check } from '../check.js';
import { clusterAgentLabel, clusterAgentResource, listOf } from './injection-model.js';
import { COPY_MODEL, copyModel } from '../../snapshot/copies/model.js';

const TOKEN_ENV = SIDECAR_TOKEN_ENV;
const API_KEY_ENV = SIDECAR_API_KEY_ENV;

/**
 * The injected sidecar reads `datadog-secret` (keys `api-key`, `token`) in the pod's own namespace;
 * the name is fixed. A profile may point either variable elsewhere, and then that is followed. The
 * token's value is compared with Secrets Manager and the Cluster Agent by token-consumers-match,
 * through the shared token consumer model; this check is about the Secret being there, complete and
 * written from Secrets Manager.
 */
export const injectionSecretReady: Check = {
  id: 'injection-secret-ready',
  area: 'injection',
  title:
    'Every namespace with injected pods has datadog-secret (api-key, token) written from Secrets Manager',
  severity: 'critical',
  resourceType: 'Secret',
  risk: 'Without datadog-secret (or one of its keys) the injected agent cannot start (CreateContainerConfigError) or newer Cluster Agents skip injection; a hand-made copy does not follow token rotation, and the agents then get 403 from the Cluster Agent.',
  remediation:
    'Create datadog-secret in each application namespace with an ExternalSecret mapping the API key to api-key and the Cluster Agent token to token.',
  requires: ['kube.pods', 'kube.deployments'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const d = discoverAgents(snapshot);
    if (!d.sidecarRequests.length) return [];
    const inj = d.injection;
    const ca = d.clusterAgent;
    const results: CheckResult[] = [];
    const profile = new Map((inj?.profileEnv ?? []).map((e) => [e.name, e]));
    // A literal token or key in a profile is in plain text in the Cluster Agent's env and every pod.
    for (const name of [TOKEN_ENV, API_KEY_ENV]) {
      const e = profile.get(name);
      if (e?.hasValue && ca) {
        results.push({
          status: 'FAIL',
          resource: clusterAgentResource(ca),
          messageId: `profile-literal:${name}`,
          message: `The sidecar profile on ${clusterAgentLabel(ca)} sets ${name} to a literal value: it is stored in plain text in the Cluster Agent's env and in every injected pod spec, and does not follow rotation (value not shown).`,
          remediation: `In the profile (${inj?.source?.kind === 'operator' ? settingField(inj.source, 'agentSidecarInjection.profiles[0].env') : 'Helm clusterAgent.admissionController.agentSidecarInjection.profiles[0].env'}), replace the value of ${name} with valueFrom.secretKeyRef, or remove the entry so the sidecar reads ${SIDECAR_SECRET}.`,
        });
      }
    }
    const required = d.sidecarInputs;
    // Lookups, writers and token keys come indexed from the one copy model.
    const model = copyModel(snapshot);
    const namespaces = new Map<string, string[]>();
    for (const r of d.sidecarRequests) {
      const list = namespaces.get(r.namespace) ?? [];
      list.push(r.pod.meta.name);
      namespaces.set(r.namespace, list);
    }
    for (const [ns, pods] of [...namespaces.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const bySecret = new Map<string, SidecarSecretInput[]>();
      for (const req of required) {
        const list = bySecret.get(req.secret) ?? [];
        list.push(req);
        bySecret.set(req.secret, list);
      }
      for (const [secret, reqs] of bySecret) {
        const resource = { kind: 'Secret', namespace: ns, name: secret };
        const readers = `pods ${listOf(pods)}`;
        const named = reqs.some((r) => r.fromProfile)
          ? ` (named by the sidecar profile in ${SIDECAR_ENV.profiles.name})`
          : '';
        const lookup = model.lookup(ns, secret);
        const esSnippet = `an ExternalSecret in namespace ${ns} with spec.target.name: ${secret} and spec.data entries for ${reqs.map((r) => r.key).join(' and ')}`;
        if (!lookup) {
          results.push({
            status: 'ERROR',
            severity: 'info',
            resource,
            messageId: 'not-read',
            message: `Secret ${ns}/${secret}, read by the injected agent of ${readers} through a sidecar profile override, was not read by the auditor: not evaluated.`,
            remediation: `Check by hand that Secret ${ns}/${secret} has ${reqs.map((r) => `key ${r.key}`).join(' and ')}.`,
          });
          continue;
        }
        if (lookup.result.status === 'error') {
          results.push({
            status: 'ERROR',
            severity: 'info',
            resource,
            messageId: 'read-failed',
            message: `Secret ${ns}/${secret} could not be read (${lookup.result.error.message}): not evaluated.`,
            remediation: `Allow the auditor to get Secret ${secret} in namespace ${ns} (npm run print-rbac -- --secret-namespace ${ns}:${secret}).`,
          });
          continue;
        }
        if (lookup.result.status === 'not-found') {
          results.push({
            status: 'FAIL',
            resource,
            messageId: 'missing',
            message: `Secret ${ns}/${secret}${named} does not exist, but the injected agent of ${readers} reads ${reqs.map((r) => `${r.env} from key ${r.key}`).join(' and ')}: older Cluster Agents leave the pods in CreateContainerConfigError, newer ones start them without the agent.`,
            remediation: `Create ${esSnippet} from Secrets Manager (the API key, and ${snapshot.settings.tokenSecretId} for the token), then restart the workloads of ${readers} so the webhook injects them again.`,
          });
          continue;
        }
        const data = lookup.result.secret.data;
        const missingKeys = reqs.filter((r) => !(r.key in data));
        if (missingKeys.length) {
          results.push({
            status: 'FAIL',
            resource,
            messageId: 'missing-keys',
            message: `Secret ${ns}/${secret} has no key ${missingKeys.map((r) => r.key).join(' or ')}, which the injected agent of ${readers} reads as ${missingKeys.map((r) => r.env).join(' and ')}.`,
            remediation: `Add ${missingKeys.map((r) => `spec.data[].secretKey: ${r.key}`).join(' and ')} to the ExternalSecret writing Secret ${ns}/${secret} (or create ${esSnippet}).`,
          });
          continue;
        }
        const writers = model.writersOf(ns, secret);
        const tokenReq = reqs.find((r) => r.env === TOKEN_ENV);
        const tokenKey = tokenReq && model.heldKey('token', ns, secret, tokenReq.key);
        if (!writers.length) {
          results.push({
            status: 'FAIL',
            severity: 'medium',
            resource,
            messageId: 'not-managed',
            message: `Secret ${ns}/${secret} (read by the injected agent of ${readers}) is not written by any ExternalSecret: it is a hand-made copy that will not follow the next token rotation.`,
            remediation: `Create ${esSnippet}, remote keys from Secrets Manager (${snapshot.settings.tokenSecretId} for ${tokenReq?.key ?? SIDECAR_TOKEN_KEY}).`,
          });
          continue;
        }
        if (tokenReq && !tokenKey?.mappings.length) {
          const names = writers.map((w) => `${ns}/${w.meta.name}`).join(', ');
          results.push({
            status: 'FAIL',
            severity: 'medium',
            resource,
            messageId: 'token-not-from-source',
            message: `Secret ${ns}/${secret} is written by ExternalSecret ${names}, but its key ${tokenReq.key} is not mapped from the Cluster Agent token in Secrets Manager (${snapshot.settings.tokenSecretId}).`,
            remediation: `In ExternalSecret ${names}, map spec.data[] {secretKey: ${tokenReq.key}, remoteRef.key: ${snapshot.settings.tokenSecretId}}.`,
          });
          continue;
        }
        results.push({
          status: 'PASS',
          resource,
          messageId: 'ok',
          message: `Secret ${ns}/${secret} has ${reqs.map((r) => r.key).join(' and ')} for the injected agent of ${readers} and is written from Secrets Manager by ExternalSecret ${writers.map((w) => w.meta.name).join(', ')} (the token's value is compared by token-consumers-match).`,
          remediation: '',
        });
      }
    }
    return results;
  },
};
