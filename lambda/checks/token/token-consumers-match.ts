import type { CheckResult } from '../../config/findings.js';
import { digestsEqual } from '../../snapshot/secret-digest.js';
import type {
  ClusterSnapshot,
  ExternalSecret,
  SecretDigest,
  TokenSource,
} from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import {
  SYNC_BACKOFF_MS,
  ago,
  esLabel,
  forceSyncCommand,
  isReady,
  msBetween,
  quoteConditionMessage,
  readyCondition,
  refreshMode,
  tokenExternalSecretYaml,
  tokenMappings,
} from '../../snapshot/eso.js';
import { templateEffect } from '../external-secrets/copy-settings.js';
import { formatDuration } from '../../snapshot/go-duration.js';
import { generatedTokenOf } from './generated-token.js';
import { suggestedTokenSecret } from '../../snapshot/operator.js';
import {
  COPY_MODEL,
  clusterAgentKeys,
  copiesOf,
  type HeldKey,
  tokenKeys,
} from '../../snapshot/copies/model.js';
import { describeUsers, podLabels, restartCommands } from '../../snapshot/copies/readers.js';
import { copyPath, describeGrace } from '../../snapshot/copies/writers.js';
import { TOKEN_KEY } from '../../snapshot/copies/values.js';

type Source =
  { available: true; src: TokenSource; digest: SecretDigest } | { available: false; why: string };

function sourceOf(snapshot: ClusterSnapshot): Source {
  const c = snapshot.aws.tokenSource;
  const id = snapshot.settings.tokenSecretId;
  if (c.status === 'not-installed') return { available: false, why: `${id} was not read` };
  if (c.status === 'error')
    return { available: false, why: `${id} could not be read (${c.error.code})` };
  if (c.value.valueKind !== 'string' || !c.value.current) {
    return { available: false, why: `${id} holds no usable token (see token-source)` };
  }
  return { available: true, src: c.value, digest: c.value.current };
}

function where(k: HeldKey): string {
  return `Secret ${k.namespace}/${k.secret} key "${k.key}"`;
}

function readers(k: HeldKey): string {
  if (k.users.length > 0) return `Read by ${describeUsers(k.users)}.`;
  const es = k.mappings[0]?.es ?? k.writers[0];
  return `No pod reads it${es ? ` (written by ${esLabel(es)})` : ''}.`;
}

function resultFor(
  k: HeldKey,
  status: 'PASS' | 'FAIL',
  messageId: string,
  message: string,
  remediation = '',
  severity?: 'critical' | 'medium',
): CheckResult {
  return {
    status,
    ...(severity ? { severity } : {}),
    resource: { kind: 'Secret', namespace: k.namespace, name: k.secret },
    messageId: `${messageId}:${k.key}`,
    message,
    remediation,
  };
}

/**
 * Every Secret key that holds the Cluster Agent token carries the same bytes as Secrets Manager;
 * the Cluster Agent answers any other token with 403 `invalid session token`. When Secrets Manager
 * cannot be read, the consumers are still compared with the Cluster Agent and with each other.
 * A mismatch shortly after a change in Secrets Manager is a sync in progress (medium) until the
 * ExternalSecret's refreshInterval plus a small backoff has passed; then it is critical. No grace
 * when the copy already breaks agents (it differs from the Cluster Agent's current token while its
 * readers run) or when its ExternalSecret is not Ready: its next refresh will not fix it.
 */
export const tokenConsumersMatch: Check = {
  id: 'token-consumers-match',
  area: 'token',
  title: 'Every consumer of the Cluster Agent token holds the same token as Secrets Manager',
  severity: 'critical',
  resourceType: 'Secret',
  risk: 'The Cluster Agent compares the bearer token byte for byte: an agent whose Secret holds a different token gets 403 invalid session token on every call and loses cluster metadata, cluster checks and external metrics.',
  remediation:
    'Sync every token Secret from the one Secrets Manager secret (force-sync the ExternalSecret, fix its data[] mapping), then restart the pods that read it.',
  requires: ['kube.pods'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const keys = tokenKeys(snapshot).filter((k) => k.digest);
    const source = sourceOf(snapshot);
    const caKeys = clusterAgentKeys(keys);
    const caDigest = caKeys[0]?.digest;
    const caLabel = caKeys[0] ? where(caKeys[0]) : undefined;

    /** Running pods whose token differs from `digest`: the ones a Cluster Agent on it rejects. */
    const podsRejectedBy = (digest: SecretDigest): string[] =>
      keys
        .filter((o) => !digestsEqual(o.digest, digest))
        .flatMap((o) => podLabels(o.users.filter((u) => u.role !== 'cluster-agent' && u.pod)));

    const results: CheckResult[] = [];
    for (const k of keys) {
      const isCa = k.users.some((u) => u.role === 'cluster-agent');
      if (!source.available) {
        results.push(compareWithoutSource(k, keys, source.why, caDigest, caLabel, isCa));
        continue;
      }
      if (digestsEqual(k.digest, source.digest)) {
        results.push(
          resultFor(
            k,
            'PASS',
            'matches-source',
            `${where(k)} matches the Cluster Agent token in Secrets Manager (${source.src.secretId}). ${readers(k)}`,
          ),
        );
        continue;
      }
      const rendered = renderedBy(k.mappings[0]?.es, k.key);
      if (rendered) {
        // A template that rewrites the value makes a digest mismatch expected, not a broken copy.
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource: { kind: 'Secret', namespace: k.namespace, name: k.secret },
          messageId: `template-not-comparable:${k.key}`,
          message: `${where(k)} is rendered by ${esLabel(rendered.es)}: ${rendered.why}. It cannot be compared with the Cluster Agent token in Secrets Manager (${source.src.secretId}): not evaluated.`,
          remediation: `If the key must hold the token as it is, set spec.target.template.data["${k.key}"] to "{{ .${k.key} }}" in ${esLabel(rendered.es)}.`,
        });
        continue;
      }
      results.push(mismatch(snapshot, k, source.src, isCa, caDigest, podsRejectedBy));
    }
    return results;
  },
};

function impact(
  k: HeldKey,
  isCa: boolean,
  caDigest: SecretDigest | undefined,
  podsRejectedBy: (d: SecretDigest) => string[],
): string {
  const pods = podLabels(k.users.filter((u) => u.role !== 'cluster-agent'));
  if (isCa) {
    const rejected = podsRejectedBy(k.digest!);
    return rejected.length
      ? `This is the Cluster Agent's own token: it answers 403 invalid session token to every agent holding another token, including pods ${rejected.join(', ')}.`
      : "This is the Cluster Agent's own token: agents synced from Secrets Manager will be answered 403 invalid session token.";
  }
  const podText = pods.length
    ? `pods ${pods.join(', ')}`
    : 'pods started from it (none running now)';
  if (caDigest && digestsEqual(k.digest, caDigest)) {
    return `It still equals the Cluster Agent's token, so calls succeed for now; once either side syncs, ${podText} get 403 invalid session token.`;
  }
  if (caDigest) {
    return `It also differs from the Cluster Agent's token: ${podText} get 403 invalid session token now.`;
  }
  return `${podText[0]!.toUpperCase()}${podText.slice(1)} get 403 invalid session token from a Cluster Agent that uses the Secrets Manager token.`;
}

function mismatch(
  snapshot: ClusterSnapshot,
  k: HeldKey,
  src: TokenSource,
  isCa: boolean,
  caDigest: SecretDigest | undefined,
  podsRejectedBy: (d: SecretDigest) => string[],
): CheckResult {
  const head = `${where(k)} differs from the Cluster Agent token in Secrets Manager (${src.secretId}).${
    src.pending && digestsEqual(k.digest, src.pending)
      ? ' It equals the AWSPENDING version: someone wrote the token before the rotation finished.'
      : ''
  } ${readers(k)} ${impact(k, isCa, caDigest, podsRejectedBy)}`;
  const restart = restartCommands(k.users);
  const restartText = restart.length ? ` Then restart the readers: ${restart.join('; ')}.` : '';
  const es = k.mappings[0]?.es ?? k.writers[0];

  const operator =
    k.lookup?.result.status === 'found'
      ? generatedTokenOf(snapshot, k, k.lookup.result.secret, false)
      : undefined;
  if (!es && operator?.by === 'datadog-operator') {
    // The Operator rewrites its own `<name>-token` from the DatadogAgent: fix it there.
    const dda = operator.datadogAgent;
    const use = suggestedTokenSecret(snapshot, dda);
    return resultFor(
      k,
      'FAIL',
      'mismatch',
      `${head} The Datadog Operator writes this Secret from DatadogAgent ${dda.meta.namespace ?? ''}/${dda.meta.name} (${
        operator.source === 'literal'
          ? 'its literal spec.global.clusterAgentToken'
          : 'a token it generated'
      }), so it never follows Secrets Manager.`,
      `In DatadogAgent ${dda.meta.namespace ?? ''}/${dda.meta.name} set spec.global.clusterAgentTokenSecret: {secretName: ${use.secretName}, keyName: ${use.keyName}}${
        operator.source === 'literal' ? ' and remove spec.global.clusterAgentToken' : ''
      }; the Operator then restarts the Cluster Agent on it. ${use.how}`,
    );
  }
  if (!es && operator?.by === 'helm-chart') {
    // The chart renders `<release>-cluster-agent` itself: a replaced or edited Secret comes back
    // on the next upgrade. The fix is the Helm value that makes it read an existing Secret.
    const mapped = tokenMappings(snapshot).find(
      (m) => m.namespace === k.namespace && m.secretKey === TOKEN_KEY,
    );
    const use = mapped?.target ?? 'datadog-cluster-agent-token';
    return resultFor(
      k,
      'FAIL',
      'mismatch',
      `${head} The Helm chart (release ${operator.release}) renders this Secret with a token of its own, so it never follows Secrets Manager.`,
      `Set clusterAgent.tokenExistingSecret: ${use} in the Helm values of release ${operator.release} (the Secret needs key "${TOKEN_KEY}") and upgrade it: the chart then stops rendering ${k.namespace}/${k.secret}${
        mapped
          ? ` (${use} is already written by ${esLabel(mapped.es)})`
          : `. Let ESO write ${use}:\n${tokenExternalSecretYaml(snapshot, k.namespace, use, TOKEN_KEY)}`
      }\n${restartText.trim()}`,
    );
  }
  if (!es) {
    return resultFor(
      k,
      'FAIL',
      'mismatch',
      `${head} No ExternalSecret writes this Secret, so it never follows Secrets Manager.`,
      `Let ESO write ${k.namespace}/${k.secret} from Secrets Manager (delete the hand-made Secret first, or use creationPolicy: Merge):\n${tokenExternalSecretYaml(snapshot, k.namespace, k.secret, k.key)}\n${restartText.trim()}`,
    );
  }

  const mode = refreshMode(es);
  const fixMapping = `If it still differs after the sync, fix the data[] entry with secretKey "${k.key}" of ${esLabel(es)} (remoteRef.key ${snapshot.settings.tokenSecretId}${
    snapshot.settings.tokenSecretProperty
      ? `, remoteRef.property ${snapshot.settings.tokenSecretProperty}`
      : ''
  }).`;
  const syncNow = `Sync now: ${forceSyncCommand(es)}.${restartText} ${fixMapping}`;
  if (mode.kind !== 'periodic') {
    return resultFor(
      k,
      'FAIL',
      'mismatch',
      `${head} ${esLabel(es)} has ${mode.label}, so it does not pick up changes in Secrets Manager by itself.`,
      `Set spec.refreshInterval of ${esLabel(es)} to a period such as 1h (and remove refreshPolicy CreatedOnce/OnChange). ${syncNow}`,
    );
  }

  const changed = src.lastChangedDate;
  const age = msBetween(changed, snapshot.collectedAt);
  const refreshedAfterChange = (msBetween(changed, es.status.refreshTime) ?? -1) >= 0;
  // Through a chain of stores, a change reaches this key only after every hop refreshed.
  const copy = copiesOf(snapshot, k.namespace, k.secret, k.key).find(
    (c) => c.value === 'token' && c.writer.hops[0]?.es === es,
  );
  const chained = copy && copy.writer.hops.length > 1 && copy.graceMs !== undefined;
  const grace = chained ? copy.graceMs! : mode.intervalMs + SYNC_BACKOFF_MS;
  const graceText = chained
    ? `${describeGrace(copy)} along ${copyPath(copy)}`
    : `${mode.label} + ${formatDuration(SYNC_BACKOFF_MS)} backoff`;
  const outage = outageNow(k, isCa, caDigest, podsRejectedBy);
  const ready = isReady(es.status.conditions);
  if (changed && age !== undefined && !refreshedAfterChange && age < grace && !outage && ready) {
    const due = new Date(Date.parse(changed) + grace).toISOString();
    return resultFor(
      k,
      'FAIL',
      'sync-pending',
      `Sync pending: ${head} Secrets Manager changed at ${changed} (${ago(age)}), within the sync grace of ${esLabel(es)} (${graceText}), so ESO has probably not refreshed it yet. Reported as medium until ${due}; if the Secret still differs after that, this becomes a critical mismatch.`,
      `ESO should sync it by ${due}. To sync now: ${forceSyncCommand(es)}.${restartText}`,
      'medium',
    );
  }
  // Within the grace, say why none applies: the reader is rejected now, or ESO is failing.
  const noGrace =
    changed && age !== undefined && !refreshedAfterChange && age < grace
      ? outage
        ? ` Secrets Manager changed at ${changed} (${ago(age)}), within the sync grace of ${esLabel(es)}, but no grace applies: ${outage}, an outage now whatever the next sync brings.`
        : ` Secrets Manager changed at ${changed} (${ago(age)}), within the sync grace of ${esLabel(es)}, but no grace applies: ${esLabel(es)} is not Ready${notReadyReason(es)}, so its next refresh will not fix this until that is repaired (see externalsecret-synced).`
      : undefined;
  if (noGrace) return resultFor(k, 'FAIL', 'mismatch', `${head}${noGrace}`, syncNow);
  const when = changed
    ? refreshedAfterChange
      ? `${esLabel(es)} last refreshed at ${es.status.refreshTime}, after Secrets Manager changed at ${changed}, yet the value differs: it reads another remote key or property, or something else writes this Secret.`
      : `Secrets Manager changed at ${changed} (${ago(age ?? 0)}), past the sync grace of ${esLabel(es)} (${graceText}), and it has not synced the change${
          es.status.refreshTime ? ` (last refresh ${es.status.refreshTime})` : ''
        }: see externalsecret-synced.`
    : `Secrets Manager's last change time is unknown, so no sync grace applies.`;
  return resultFor(k, 'FAIL', 'mismatch', `${head} ${when}`, syncNow);
}

/**
 * Why a copy that differs from Secrets Manager already breaks agents, whatever the sync grace:
 * its running readers hold a token the Cluster Agent rejects (or, for the Cluster Agent's own
 * key, running agents hold one it rejects). Undefined when nobody is rejected yet.
 */
function outageNow(
  k: HeldKey,
  isCa: boolean,
  caDigest: SecretDigest | undefined,
  podsRejectedBy: (d: SecretDigest) => string[],
): string | undefined {
  if (isCa) {
    const rejected = podsRejectedBy(k.digest!);
    return rejected.length
      ? `the Cluster Agent runs on this token and rejects running pods ${rejected.join(', ')}`
      : undefined;
  }
  if (!caDigest || digestsEqual(k.digest, caDigest)) return undefined;
  const pods = podLabels(k.users.filter((u) => u.role !== 'cluster-agent' && u.pod));
  return pods.length
    ? `it differs from the Cluster Agent's current token while pods ${pods.join(', ')} read it`
    : undefined;
}

function notReadyReason(es: ExternalSecret): string {
  const c = readyCondition(es.status.conditions);
  if (!c) return ' (no Ready condition)';
  const msg = quoteConditionMessage(c.message);
  return ` (Ready ${c.status}${c.reason ? `, ${c.reason}` : ''}${msg ? `: ${msg}` : ''})`;
}

function compareWithoutSource(
  k: HeldKey,
  keys: HeldKey[],
  why: string,
  caDigest: SecretDigest | undefined,
  caLabel: string | undefined,
  isCa: boolean,
): CheckResult {
  const unavailable = `Secrets Manager unavailable (${why}), so the token consumers were compared with each other.`;
  if (caDigest) {
    if (digestsEqual(k.digest, caDigest)) {
      return resultFor(
        k,
        'PASS',
        isCa ? 'cluster-agent-reference' : 'matches-cluster-agent',
        `${where(k)} ${isCa ? "is the Cluster Agent's token" : `equals the Cluster Agent's token (${caLabel})`}. ${readers(k)} ${unavailable}`,
      );
    }
    const pods = podLabels(k.users.filter((u) => u.role !== 'cluster-agent'));
    return resultFor(
      k,
      'FAIL',
      'differs-from-cluster-agent',
      `${where(k)} differs from the Cluster Agent's token (${caLabel}). ${readers(k)} ${
        pods.length
          ? `Pods ${pods.join(', ')} get 403 invalid session token.`
          : 'Pods started from it will get 403 invalid session token.'
      } ${unavailable}`,
      `Make both Secrets come from the same Secrets Manager secret (${
        (k.mappings[0]?.es ?? k.writers[0])
          ? `check the data[] entry with secretKey "${k.key}" of ${esLabel((k.mappings[0]?.es ?? k.writers[0])!)}`
          : `create an ExternalSecret for ${k.namespace}/${k.secret}`
      }), then restart the readers${restartCommands(k.users).length ? `: ${restartCommands(k.users).join('; ')}` : ''}.`,
    );
  }
  const others = keys.filter((o) => o !== k && !digestsEqual(o.digest, k.digest));
  if (others.length === 0) {
    return resultFor(
      k,
      'PASS',
      'consistent',
      `${where(k)} equals every other token Secret found. ${readers(k)} ${unavailable} No Cluster Agent token reference was found.`,
    );
  }
  return resultFor(
    k,
    'FAIL',
    'consumers-diverge',
    `${where(k)} differs from ${others.map(where).join(', ')}: at most one of them can match the Cluster Agent, the others get 403 invalid session token. ${readers(k)} ${unavailable}`,
    'Sync every token Secret from the same Secrets Manager secret with ExternalSecrets, then restart the agent pods.',
  );
}

/** The ExternalSecret whose target.template keeps `key` from holding the source value as it is. */
function renderedBy(
  es: ExternalSecret | undefined,
  key: string,
): { es: ExternalSecret; why: string } | undefined {
  if (!es) return undefined;
  const t = templateEffect(es, key);
  return t.kind === 'verbatim' ? undefined : { es, why: t.why };
}
