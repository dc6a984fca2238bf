import type { CheckResult } from '../../findings.js';
import { digestsEqual } from '../../secret-digest.js';
import { valueOf, type ClusterSnapshot, type Pod, type SecretSnapshot } from '../../snapshot.js';
import type { Check } from '../check.js';
import { copyPath, copyWriterLabel, type SecretCopy } from '../external-secrets/copies.js';
import { copiesOf, secretCopyModel } from '../secret-copies/model.js';
import { isReady, msBetween } from '../external-secrets/eso.js';
import { restartCommands, tokenSecretKeys, type TokenUser } from './consumers.js';

/** When the Secret's content last changed: the newest managedFields write, else its creation. */
function lastWrite(secret: SecretSnapshot): { time: string; by?: string } | undefined {
  let best: { time: string; by?: string } | undefined;
  for (const m of secret.managedFields) {
    if (!m.time) continue;
    if (!best || (msBetween(best.time, m.time) ?? 0) > 0) best = { time: m.time, by: m.manager };
  }
  if (best) return best;
  return secret.meta.creationTimestamp ? { time: secret.meta.creationTimestamp } : undefined;
}

/** When the container last started, i.e. when the kubelet resolved its environment. */
function containerStart(pod: Pod, container: string): string | undefined {
  const status = pod.status.containerStatuses.find((c) => c.name === container);
  if (status && status.state !== 'running') return undefined; // it reads the Secret when it starts
  return status?.startedAt ?? pod.status.startTime;
}

/**
 * Environment variables from a Secret do not change in a running container: a token consumer
 * started before its Secret last changed still sends the token it read at start. Reported per
 * container with the restart that fixes it.
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
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const source = valueOf(snapshot.aws.tokenSource);
    const results: CheckResult[] = [];
    for (const k of tokenSecretKeys(snapshot)) {
      if (k.lookup?.result.status !== 'found') continue;
      const write = lastWrite(k.lookup.result.secret);
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
  u: TokenUser & { pod: Pod; container: string },
  namespace: string,
  secret: string,
  key: string,
  started: string,
  write: { time: string; by?: string },
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
    : `The container started at ${started}, before the Secret was last written at ${write.time}${
        write.by ? ` by ${write.by}` : ''
      }: if the token changed then, it still sends the old one (environment variables are read only at start).`;
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
  const lookup = secretCopyModel(snapshot).lookup(copy.namespace, copy.secret);
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
