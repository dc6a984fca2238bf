import type { CheckResult } from '../../config/findings.js';
import { digestSecret, digestsEqual } from '../../snapshot/secret-digest.js';
import type {
  ClusterSnapshot,
  Collected,
  DatadogAgent,
  TokenSource,
} from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import { forceSyncCommand } from '../../snapshot/eso.js';
import { ddaLabel } from '../../snapshot/operator.js';
import { COPY_MODEL, copyModel, type HeldKey } from '../../snapshot/copies/model.js';
import { readerDetail } from '../../snapshot/copies/readers.js';
import { COPIED_LABEL, type CopiedValue } from '../../snapshot/copies/values.js';
import { copyWriterLabel } from '../../snapshot/copies/writers.js';
import { helmRelease } from '../token/generated-token.js';

/** The Helm value that makes the chart read the key from an existing Secret instead of its own. */
const HELM_EXISTING_SECRET: Record<KeyValue, { value: string; key: string }> = {
  'api-key': { value: 'datadog.apiKeyExistingSecret', key: 'api-key' },
  'app-key': { value: 'datadog.appKeyExistingSecret', key: 'app-key' },
};

/**
 * The chart writes `MISSING` when `datadog.apiKey` is not set
 * (DataDog/helm-charts charts/datadog/templates/secret-api-key.yaml); compared by digest only.
 */
const CHART_PLACEHOLDER = digestSecret('MISSING');

type KeyValue = Extract<CopiedValue, 'api-key' | 'app-key'>;

/** One Secret key holding the API or app key: the keys' view of the one copy model. */
type KeyCopy = HeldKey & { value: KeyValue };

/**
 * Every Secret key holding the Datadog API key or application key, sorted by
 * namespace/secret/key: read through DD_API_KEY / DD_APP_KEY (running pods, workloads whose pods
 * do not run), by the injected sidecar of pods the admission controller selects, or named by a
 * DatadogAgent's spec.global.credentials; or written from the keys' Secrets Manager secrets.
 */
export function keyCopies(snapshot: ClusterSnapshot): KeyCopy[] {
  const { keys } = copyModel(snapshot);
  const all = [...keys['api-key'], ...keys['app-key']] as KeyCopy[];
  const collator = new Intl.Collator();
  return all
    .map((k) => ({ k, id: `${k.namespace}/${k.secret}/${k.key}` }))
    .sort((a, b) => collator.compare(a.id, b.id))
    .map(({ k }) => k);
}

const OPERATOR_LITERAL: Record<KeyValue, string> = {
  'api-key': 'spec.global.credentials.apiKey',
  'app-key': 'spec.global.credentials.appKey',
};

/**
 * The Operator rewrites `<name>-secret` from the DatadogAgent's literal key: an ExternalSecret
 * writing that Secret would be undone, so the fix is in the DatadogAgent.
 */
function operatorFix(
  snapshot: ClusterSnapshot,
  k: KeyCopy,
  dda: DatadogAgent,
  secretId: string,
): string {
  const which = k.value === 'api-key' ? 'api' : 'app';
  const written = copyModel(snapshot).keys[k.value].find(
    (o) => o.namespace === k.namespace && o.copies.length > 0,
  );
  const target = written
    ? `{secretName: ${written.secret}, keyName: ${written.key}} (already written from Secrets Manager by ${copyWriterLabel(written.copies[0]!.writer)})`
    : `{secretName: <a Secret an ExternalSecret writes from ${secretId}>, keyName: <its key>}`;
  return `In ${ddaLabel(dda)} replace spec.global.credentials.${which}Key with spec.global.credentials.${which}Secret: ${target}; the Operator then restarts its agents on it. The literal also sits in plain text in the DatadogAgent spec: rotate it in Datadog.`;
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
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
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
      const digest = k.digest;
      // A missing Secret or key is the missing-reference checks' finding, not a mismatch.
      if (!digest) continue;
      const where = `Secret ${k.namespace}/${k.secret} key "${k.key}"`;
      const readerList = [...new Set(k.users.map(readerDetail))];
      const readers = readerList.length
        ? `Read by ${readerList.slice(0, 6).join(', ')}.`
        : 'No running pod reads it.';
      const writerList = [...new Set(k.copies.map((c) => copyWriterLabel(c.writer)))];
      const byOperator = writerList.length === 0 ? k.operator?.datadogAgent : undefined;
      const found = k.lookup?.result.status === 'found' ? k.lookup.result.secret : undefined;
      const release =
        writerList.length === 0 && !byOperator && found ? helmRelease(found) : undefined;
      const writers = writerList.length
        ? `Written by ${writerList.join(', ')}.`
        : byOperator
          ? `Written by the Datadog Operator from the literal ${OPERATOR_LITERAL[k.value]} of ${ddaLabel(byOperator)}, so it never follows Secrets Manager.`
          : release
            ? `Rendered by the Helm chart (release ${release})${
                digestsEqual(digest, CHART_PLACEHOLDER)
                  ? ' with its placeholder "MISSING": no key was given in the Helm values'
                  : ' from a key in the Helm values'
              }, so it never follows Secrets Manager.`
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
      const syncCommands = [
        ...new Set(
          k.copies.flatMap((c) =>
            c.writer.hops[0] ? [forceSyncCommand(c.writer.hops[0].es)] : [],
          ),
        ),
      ];
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
        remediation: byOperator
          ? operatorFix(snapshot, k, byOperator, source.value.secretId)
          : release
            ? `Set ${HELM_EXISTING_SECRET[k.value].value}: <a Secret an ExternalSecret writes from ${source.value.secretId}, key "${HELM_EXISTING_SECRET[k.value].key}"> in the Helm values of release ${release} and upgrade it: the chart then stops rendering ${k.namespace}/${k.secret} (a hand edit of it is reverted on the next upgrade). Then restart the readers (env is read at start).`
            : syncCommands.length
              ? `Sync it now: ${syncCommands.join('; ')}; if it still differs, fix the data[] entry with secretKey "${k.key}" (remoteRef.key ${source.value.secretId}). Then restart the readers (env is read at start).`
              : `Write ${k.namespace}/${k.secret} key "${k.key}" with an ExternalSecret from ${source.value.secretId} instead of by hand, then restart the readers.`,
      });
    }
    return results;
  },
};
