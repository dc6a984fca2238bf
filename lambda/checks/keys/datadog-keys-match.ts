import type { CheckResult } from '../../findings.js';
import { ADMISSION_SIDECAR_SECRET, SIDECAR_INJECTION_LABEL } from '../../kube/secret-refs.js';
import { digestsEqual } from '../../secret-digest.js';
import { itemsOf, type ClusterSnapshot, type Collected, type TokenSource } from '../../snapshot.js';
import type { Check } from '../check.js';
import { COPIED_LABEL, secretCopies, type CopiedValue } from '../external-secrets/copies.js';
import { forceSyncCommand } from '../external-secrets/eso.js';
import { operatorKeyConsumers } from '../operator/datadog-agents.js';
import { datadogEnvSecretRefs, secretLookups } from '../token/consumers.js';

type KeyValue = Extract<CopiedValue, 'api-key' | 'app-key'>;

const ENV: Record<KeyValue, string> = { 'api-key': 'DD_API_KEY', 'app-key': 'DD_APP_KEY' };

/** One Secret key holding the API or app key, with who reads and who writes it. */
interface KeyCopy {
  value: KeyValue;
  namespace: string;
  secret: string;
  key: string;
  readers: Set<string>;
  writers: Set<string>;
  syncCommands: Set<string>;
}

/**
 * Every Secret key holding the Datadog API key or application key: DD_API_KEY / DD_APP_KEY
 * references of running pods, the injected sidecar's `datadog-secret` key `api-key` for pods that
 * ask for one, the Secrets a DatadogAgent's spec.global.credentials names, and every copy an ExternalSecret writes from the keys' Secrets Manager secrets.
 * The Operator's DatadogAgents add the Secrets named by spec.global.credentials.
 */
export function keyCopies(snapshot: ClusterSnapshot): KeyCopy[] {
  const byId = new Map<string, KeyCopy>();
  const entry = (value: KeyValue, namespace: string, secret: string, key: string): KeyCopy => {
    const id = `${value}|${namespace}/${secret}/${key}`;
    let e = byId.get(id);
    if (!e) {
      e = {
        value,
        namespace,
        secret,
        key,
        readers: new Set(),
        writers: new Set(),
        syncCommands: new Set(),
      };
      byId.set(id, e);
    }
    return e;
  };
  for (const ref of datadogEnvSecretRefs(snapshot)) {
    const value = (Object.keys(ENV) as KeyValue[]).find((v) => ENV[v] === ref.env.name);
    if (!value) continue;
    const ns = ref.pod.meta.namespace ?? '';
    entry(value, ns, ref.env.secretKeyRef.name, ref.env.secretKeyRef.key).readers.add(
      `Pod ${ns}/${ref.pod.meta.name} (${ref.container.name})`,
    );
  }
  for (const pod of itemsOf(snapshot.kube.pods)) {
    if (!pod.meta.labels[SIDECAR_INJECTION_LABEL]) continue;
    if (pod.spec.containers.some((c) => c.name === 'datadog-agent-injected')) continue;
    const ns = pod.meta.namespace ?? '';
    entry('api-key', ns, ADMISSION_SIDECAR_SECRET, 'api-key').readers.add(
      `Pod ${ns}/${pod.meta.name} (sidecar to be injected)`,
    );
  }
  for (const k of operatorKeyConsumers(snapshot)) {
    entry(k.kind, k.namespace, k.secret, k.key).readers.add(
      `DatadogAgent ${k.datadogAgent.namespace}/${k.datadogAgent.name} (${k.field})`,
    );
  }
  for (const c of secretCopies(snapshot)) {
    if (c.value !== 'api-key' && c.value !== 'app-key') continue;
    const e = entry(c.value, c.namespace, c.secret, c.key);
    e.writers.add(c.writer.label);
    const first = c.writer.hops[0];
    if (first) e.syncCommands.add(forceSyncCommand(first.es));
  }
  return [...byId.values()].sort((a, b) =>
    `${a.namespace}/${a.secret}/${a.key}`.localeCompare(`${b.namespace}/${b.secret}/${b.key}`),
  );
}

function sourceOf(snapshot: ClusterSnapshot, value: KeyValue): Collected<TokenSource> | undefined {
  const s = snapshot.aws.keySources;
  return s ? (value === 'api-key' ? s.apiKey : s.appKey) : undefined;
}

/**
 * Every copy of the Datadog API key and application key holds the bytes Secrets Manager holds.
 * An agent with another API key is refused by the intake; another app key breaks the Cluster
 * Agent's metrics provider and API calls.
 */
export const datadogKeysMatch: Check = {
  id: 'datadog-keys-match',
  area: 'keys',
  title: 'Every copy of the Datadog API and application keys equals Secrets Manager',
  severity: 'critical',
  resourceType: 'Secret',
  risk: 'An agent holding another API key has its data refused by the intake ("API Key invalid"); a Cluster Agent with another app key cannot query Datadog (external metrics, autoscaling).',
  remediation:
    'Write every key Secret from the one Secrets Manager secret with an ExternalSecret, force a sync, then restart the pods that read it.',
  requires: ['kube.pods'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const lookups = secretLookups(snapshot);
    const results: CheckResult[] = [];
    const notEvaluated = new Set<KeyValue>();
    for (const k of keyCopies(snapshot)) {
      const resource = { kind: 'Secret', namespace: k.namespace, name: k.secret };
      const source = sourceOf(snapshot, k.value);
      const label = COPIED_LABEL[k.value];
      if (!source || source.status !== 'ok' || !source.value.current) {
        if (notEvaluated.has(k.value)) continue;
        notEvaluated.add(k.value);
        const why = !source
          ? 'it was not collected in this run'
          : source.status === 'not-installed'
            ? source.detail
            : source.status === 'error'
              ? `${source.error.message}`
              : `${source.value.secretId} holds no usable value (${source.value.valueKind})`;
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource: { kind: 'SecretsManagerSecret', name: k.value },
          messageId: `source-unavailable:${k.value}`,
          message: `The ${label} copies were not compared with Secrets Manager: ${why}`,
          remediation: `Configure ${k.value === 'api-key' ? 'apiKeySecret' : 'appKeySecret'}.id (and .property) with the Secrets Manager secret that holds the ${label}, and allow the auditor secretsmanager:GetSecretValue and DescribeSecret on it.`,
        });
        continue;
      }
      const l = lookups.get(`${k.namespace}/${k.secret}`);
      const digest = l?.result.status === 'found' ? l.result.secret.data[k.key] : undefined;
      // A missing Secret or key is the missing-reference checks' finding, not a mismatch.
      if (!digest) continue;
      const where = `Secret ${k.namespace}/${k.secret} key "${k.key}"`;
      const readers = k.readers.size
        ? `Read by ${[...k.readers].slice(0, 6).join(', ')}.`
        : 'No running pod reads it.';
      const writers = k.writers.size
        ? `Written by ${[...k.writers].join(', ')}.`
        : 'No ExternalSecret writes it.';
      if (digestsEqual(digest, source.value.current)) {
        results.push({
          status: 'PASS',
          resource,
          messageId: `matches-source:${k.key}`,
          message: `${where} holds the ${label} in Secrets Manager (${source.value.secretId}). ${readers}`,
          remediation: '',
        });
        continue;
      }
      const impact =
        k.value === 'api-key'
          ? 'The intake refuses data sent with it ("API Key invalid"): these agents report nothing.'
          : 'Datadog API calls made with it fail (Cluster Agent external metrics, autoscaling).';
      results.push({
        status: 'FAIL',
        ...(k.value === 'app-key' ? { severity: 'high' as const } : {}),
        resource,
        messageId: `mismatch:${k.key}`,
        message: `${where} differs from the ${label} in Secrets Manager (${source.value.secretId}). ${readers} ${writers} ${impact}`,
        remediation: k.syncCommands.size
          ? `Sync it now: ${[...k.syncCommands].join('; ')}; if it still differs, fix the data[] entry with secretKey "${k.key}" (remoteRef.key ${source.value.secretId}). Then restart the readers (env is read at start).`
          : `Write ${k.namespace}/${k.secret} key "${k.key}" with an ExternalSecret from ${source.value.secretId} instead of by hand, then restart the readers.`,
      });
    }
    return results;
  },
};
