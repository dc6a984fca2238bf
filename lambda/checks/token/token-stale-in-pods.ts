import type { CheckResult } from '../../config/findings.js';
import { digestsEqual } from '../../snapshot/secret-digest.js';
import {
  valueOf,
  type ClusterSnapshot,
  type Pod,
  type SecretSnapshot,
} from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import { isReady, msBetween } from '../../snapshot/eso.js';
import {
  COPY_MODEL,
  copiesOf,
  copyModel,
  type HeldKey,
  tokenKeys,
} from '../../snapshot/copies/model.js';
import { restartCommands, type SecretReader } from '../../snapshot/copies/readers.js';
import {
  dataHashFingerprint,
  ESO_DATA_HASH,
  fingerprintsEqual,
  keyLastWrite,
  previousCopy,
  valueFingerprint,
} from '../../snapshot/copies/record.js';
import { copyPath, copyWriterLabel, type SecretCopy } from '../../snapshot/copies/writers.js';

/** When the container last started, i.e. when the kubelet resolved its environment. */
function containerStart(pod: Pod, container: string): string | undefined {
  const status = pod.status.containerStatuses.find((c) => c.name === container);
  if (status && status.state !== 'running') return undefined; // it reads the Secret when it starts
  return status?.startedAt ?? pod.status.startTime;
}

/**
 * Environment variables from a Secret do not change in a running container: a token consumer
 * started before its token key last changed still sends the token it read at start. Reported per
 * container with the restart that fixes it, and with the rule that decided:
 * 1. The key's last write is the newest managedFields entry whose manager owns that data key (or
 *    whose ownership is unknown): writes of other keys or of metadata only do not count.
 * 2. Started before that write: the previous run's record (snapshot.previousRun: the key's digest
 *    fingerprint, ESO's data-hash, the key's last write then) says whether the token changed
 *    since, see {@link byPreviousRun}.
 * 3. Else the Secrets Manager rule ({@link tokenUnchangedSince}) may clear it.
 * 4. Else FAIL, saying that which key the write changed is unknown.
 */
export const tokenStaleInPods: Check = {
  id: 'token-stale-in-pods',
  area: 'token',
  title: 'Pods reading the token started after their Secret last changed',
  severity: 'medium',
  resourceType: 'Pod',
  risk: 'After a rotation the Secret holds the new token, but containers started earlier keep the old one in their environment until restarted; the Cluster Agent then answers them (or, if it is the stale one, everyone else) 403 invalid session token.',
  remediation:
    'Restart the listed workloads (kubectl rollout restart) after every token rotation, or automate it (e.g. a reloader watching the Secret).',
  requires: ['kube.pods'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const source = valueOf(snapshot.aws.tokenSource);
    const results: CheckResult[] = [];
    for (const k of tokenKeys(snapshot)) {
      if (k.lookup?.result.status !== 'found') continue;
      const secret = k.lookup.result.secret;
      // Writes by managers that own no data key, or only other keys, did not change this one.
      const write = keyLastWrite(secret, k.key);
      if (!write) continue;
      // The Secret is current and Secrets Manager changed later than the container start:
      // the token itself (not just another key) changed after the container read it.
      const rotatedAt =
        source?.lastChangedDate && digestsEqual(k.digest, source.current)
          ? source.lastChangedDate
          : undefined;
      const copy = copiesOf(snapshot, k.namespace, k.secret, k.key).find(
        (c) => c.value === 'token' && c.graceMs !== undefined,
      );
      for (const u of k.users) {
        if (!u.pod || !u.container) continue;
        const started = containerStart(u.pod, u.container);
        if (!started) continue;
        const user = { ...u, pod: u.pod, container: u.container };
        const resource = { kind: 'Pod', namespace: k.namespace, name: u.pod.meta.name };
        if ((msBetween(started, write.time) ?? 0) > 0) {
          const byRun = byPreviousRun(snapshot, secret, k, started, write, user);
          if (byRun) {
            results.push({ resource, ...byRun });
            continue;
          }
        }
        const unchanged =
          rotatedAt && copy && (msBetween(started, write.time) ?? 0) > 0
            ? tokenUnchangedSince(snapshot, copy, rotatedAt, started, write.time)
            : undefined;
        if (unchanged) {
          results.push({
            status: 'PASS',
            resource: { kind: 'Pod', namespace: k.namespace, name: u.pod.meta.name },
            messageId: `token-unchanged-since-start:${u.container}`,
            message: `Pod ${k.namespace}/${u.pod.meta.name} container ${u.container} started at ${started}, before Secret ${k.namespace}/${k.secret} was last written (${write.time}), but that write did not change key "${k.key}". ${unchanged}`,
            remediation: '',
          });
          continue;
        }
        results.push(judge(user, k.namespace, k.secret, k.key, started, write, rotatedAt));
      }
    }
    return results;
  },
};

function judge(
  u: SecretReader & { pod: Pod; container: string },
  namespace: string,
  secret: string,
  key: string,
  started: string,
  write: { time: string; by?: string; precise?: boolean },
  rotatedAt: string | undefined,
): CheckResult {
  const resource = { kind: 'Pod', namespace, name: u.pod.meta.name };
  const at = `Pod ${namespace}/${u.pod.meta.name} container ${u.container}`;
  const src = `Secret ${namespace}/${secret} key "${key}"`;
  const before = (msBetween(started, write.time) ?? 0) > 0;
  if (!before) {
    return {
      status: 'PASS',
      resource,
      messageId: `started-after-change:${u.container}`,
      message: `${at} started at ${started}, after ${src} last changed (${write.time}): it holds the current token.`,
      remediation: '',
    };
  }
  const rotatedAfterStart = rotatedAt !== undefined && (msBetween(started, rotatedAt) ?? 0) > 0;
  const evidence = rotatedAfterStart
    ? `The token in Secrets Manager changed at ${rotatedAt}, after this container started at ${started}, and the Secret now holds it: the container still sends the old token.`
    : `The container started at ${started}, before the Secret's last write that could have changed key "${key}" (${write.time}${
        write.by ? ` by ${write.by}` : ''
      }). Which key that write changed is unknown (no previous run recorded this key's digest, and ESO's data-hash covers all keys at once): possibly another key or only metadata. If the token changed then, it still sends the old one (environment variables are read only at start).`;
  const who =
    u.role === 'cluster-agent'
      ? ' This is the Cluster Agent: until it restarts it rejects agents that hold the new token.'
      : '';
  return {
    status: 'FAIL',
    resource,
    messageId: `started-before-change:${u.container}`,
    message: `${at} reads ${src}. ${evidence}${who}`,
    remediation: `Restart these pods so they read the current token: ${restartCommands([u]).join('; ')}.`,
  };
}

/**
 * The rule that clears a reader whose Secret was written after it started: the Secret holds the
 * current Secrets Manager token, which last changed at `rotatedAt`; every hop of its copy is Ready
 * and refreshes periodically, so the token reached the Secret within the chain's sync grace; the
 * container started after that grace ended, so it read the current token; and another key of
 * the same Secret changed in Secrets Manager between the start and the write, which explains it.
 * Undefined when the rule does not hold: the reader is then judged by the write time alone.
 */
function tokenUnchangedSince(
  snapshot: ClusterSnapshot,
  copy: SecretCopy,
  rotatedAt: string,
  started: string,
  written: string,
): string | undefined {
  if (!copy.writer.hops.every((h) => isReady(h.es.status.conditions))) return undefined;
  const syncedBy = Date.parse(rotatedAt) + copy.graceMs!;
  if (Number.isNaN(syncedBy) || syncedBy > Date.parse(started)) return undefined;
  // The other keys of the same Secret, by index: a scan of every copy per reader is quadratic.
  const lookup = copyModel(snapshot).lookup(copy.namespace, copy.secret);
  const keys = lookup?.result.status === 'found' ? Object.keys(lookup.result.secret.data) : [];
  const others = keys
    .filter((key) => key !== copy.key)
    .sort((a, b) => a.localeCompare(b))
    .flatMap((key) => copiesOf(snapshot, copy.namespace, copy.secret, key));
  const changedKey = others.find((c) => {
    const src =
      c.value === 'api-key'
        ? snapshot.aws.keySources?.apiKey
        : c.value === 'app-key'
          ? snapshot.aws.keySources?.appKey
          : undefined;
    const changed = src?.status === 'ok' ? src.value.lastChangedDate : undefined;
    return (
      changed !== undefined &&
      (msBetween(started, changed) ?? -1) > 0 &&
      (msBetween(changed, written) ?? -1) >= 0
    );
  });
  const rule = `Rule: the token in Secrets Manager last changed at ${rotatedAt}; its copy (${copyPath(copy)}) is Ready and syncs within ${new Date(syncedBy).toISOString()} (sync grace), before this container started at ${started}, and the Secret still holds that token.`;
  // Without evidence of what the write changed (ESO may have been failing until then), the
  // write time alone decides, as before.
  if (!changedKey) return undefined;
  return `${rule} The write followed a change of key "${changedKey.key}" in Secrets Manager (${copyWriterLabel(changedKey.writer)}).`;
}

/**
 * The previous run's rule, for a reader started at `started` before the key's last write:
 * - the key's fingerprint equals the previous run's and the key had not been written since a time
 *   before the container started (as the previous run saw it): the write changed another key or
 *   metadata only -> PASS, saying which per ESO's data-hash;
 * - the fingerprint differs and the container started before the previous run: the key changed
 *   after the container read it -> FAIL high;
 * - the fingerprint differs and the container started after the previous run: the key changed in
 *   between and was last written after the start -> FAIL (medium).
 * Undefined without a previous entry, or when it cannot tell (same value, but written after the
 * start before the previous run): other rules decide.
 */
function byPreviousRun(
  snapshot: ClusterSnapshot,
  secret: SecretSnapshot,
  k: HeldKey,
  started: string,
  write: { time: string; by?: string },
  u: SecretReader & { pod: Pod; container: string },
): Omit<CheckResult, 'resource'> | undefined {
  const prev = previousCopy(snapshot, k.namespace, k.secret, k.key);
  const at = snapshotPrevAt(snapshot);
  if (!prev || !at || !k.digest) return undefined;
  const now = valueFingerprint(k.namespace, k.secret, k.key, k.digest);
  const who = `Pod ${k.namespace}/${u.pod.meta.name} container ${u.container}`;
  const src = `Secret ${k.namespace}/${k.secret} key "${k.key}"`;
  const written = `${write.time}${write.by ? ` by ${write.by}` : ''}`;
  if (fingerprintsEqual(prev.fingerprint, now)) {
    if (!prev.lastWrite || (msBetween(prev.lastWrite, started) ?? -1) < 0) return undefined;
    const hash = secret.meta.annotations[ESO_DATA_HASH];
    const hashNow = hash ? dataHashFingerprint(k.namespace, k.secret, hash) : undefined;
    const other =
      prev.dataHash && hashNow
        ? fingerprintsEqual(prev.dataHash, hashNow)
          ? " ESO's data-hash of the Secret is also unchanged: no key changed, the write touched metadata only."
          : " ESO's data-hash of the Secret changed: another key of it changed."
        : ' Whether another key or only metadata changed is unknown (no ESO data-hash to compare).';
    return {
      status: 'PASS',
      messageId: `unchanged-since-previous-run:${u.container}`,
      message: `${who} started at ${started}, before ${src} was last written (${written}), but that write did not change the key. Rule: the previous run at ${at} saw the same value (per its digest of key "${k.key}"), and the key had not been written since ${prev.lastWrite}, before this container started.${other}`,
      remediation: '',
    };
  }
  const restart = `Restart these pods so they read the current token: ${restartCommands([u]).join('; ')}.`;
  const caNote =
    u.role === 'cluster-agent'
      ? ' This is the Cluster Agent: until it restarts it rejects agents that hold the new token.'
      : '';
  if ((msBetween(started, at) ?? -1) >= 0) {
    return {
      status: 'FAIL',
      severity: 'high',
      messageId: `changed-since-previous-run:${u.container}`,
      message: `${who} reads ${src}, which changed after the previous run at ${at} (per the previous run's digest of key "${k.key}"; last written ${written}). The container started at ${started}, before that: it still sends the old token.${caNote}`,
      remediation: restart,
    };
  }
  return {
    status: 'FAIL',
    messageId: `changed-since-previous-run:${u.container}`,
    message: `${who} reads ${src}, which changed between the previous run at ${at} and now (per the previous run's digest of key "${k.key}") and was last written ${written}, after this container started at ${started}: it most likely still sends the old token.${caNote}`,
    remediation: restart,
  };
}

function snapshotPrevAt(snapshot: ClusterSnapshot): string | undefined {
  return snapshot.previousRun?.collectedAt;
}
