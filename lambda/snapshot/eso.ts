/**
 * External Secrets Operator semantics the token and ExternalSecret checks share: which
 * ExternalSecrets carry the Cluster Agent token, when ESO refreshes them, and their readiness.
 */
import {
  itemsOf,
  valueOf,
  type AuditSettings,
  type ClusterSnapshot,
  type Condition,
  type ExternalSecret,
  type SecretStore,
  type TokenSource,
} from './snapshot.js';
import { externalSecretTarget } from './secret-refs.js';
import { formatDuration, parseGoDuration } from './go-duration.js';

/** ESO's default `spec.refreshInterval`. */
export const DEFAULT_REFRESH_INTERVAL = '1h';
/**
 * Slack after `refreshInterval` before a missed sync counts as broken: reconcile queueing and the
 * provider call take a little while, and ESO adds jitter. Small on purpose: past it, a stale token
 * is an outage, not a wait.
 */
export const SYNC_BACKOFF_MS = 5 * 60_000;

export type RefreshMode =
  /** `refreshPolicy: Periodic` (or unset) with an interval above zero. */
  | { kind: 'periodic'; intervalMs: number; label: string }
  /** Never refreshed automatically after the first sync. */
  | { kind: 'once'; label: string }
  | { kind: 'invalid'; label: string };

/** How and how often ESO refreshes this ExternalSecret, from refreshPolicy and refreshInterval. */
export function refreshMode(es: ExternalSecret): RefreshMode {
  const raw = es.refreshInterval ?? DEFAULT_REFRESH_INTERVAL;
  if (es.refreshPolicy === 'CreatedOnce') {
    return { kind: 'once', label: 'refreshPolicy CreatedOnce (never updated after creation)' };
  }
  if (es.refreshPolicy === 'OnChange') {
    return {
      kind: 'once',
      label: 'refreshPolicy OnChange (updated only when the ExternalSecret itself changes)',
    };
  }
  const ms = parseGoDuration(raw);
  if (ms === undefined) {
    return { kind: 'invalid', label: `refreshInterval "${raw}" (not a Go duration)` };
  }
  // ESO does not requeue for refresh when the interval is zero or negative: "sync once".
  if (ms <= 0) return { kind: 'once', label: `refreshInterval ${raw} (synced once, never again)` };
  const shown = es.refreshInterval === undefined ? `${raw} (default)` : raw;
  return { kind: 'periodic', intervalMs: ms, label: `refreshInterval ${shown}` };
}

export function readyCondition(conditions: Condition[]): Condition | undefined {
  return conditions.find((c) => c.type === 'Ready');
}

export function isReady(conditions: Condition[]): boolean {
  return readyCondition(conditions)?.status === 'True';
}

/** ESO condition messages are provider errors; keep them short and single-line in findings. */
export function quoteConditionMessage(message: string | undefined): string {
  if (!message) return '';
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > 240 ? `${oneLine.slice(0, 237)}...` : oneLine;
}

/** Secret name inside a Secrets Manager ARN, without the 6-character suffix AWS appends. */
function nameFromArn(id: string): string | undefined {
  const m = /^arn:aws[a-z-]*:secretsmanager:[^:]*:\d*:secret:(.+)$/.exec(id);
  if (!m) return undefined;
  return m[1]!.replace(/-[A-Za-z0-9]{6}$/, '');
}

/** True when an ESO `remoteRef.key` names the configured token secret (by name or ARN). */
export function isTokenRemoteKey(
  key: string,
  settings: AuditSettings,
  source?: TokenSource,
): boolean {
  const ids = new Set([settings.tokenSecretId, source?.secretId, source?.arn].filter(Boolean));
  if (ids.has(key)) return true;
  const names = new Set(
    [...ids].map((id) => nameFromArn(id as string) ?? (id as string)).filter(Boolean),
  );
  return names.has(nameFromArn(key) ?? key);
}

/** One `data[]` entry (or `dataFrom.extract` property) that writes the token into a Secret key. */
export interface TokenMapping {
  es: ExternalSecret;
  namespace: string;
  target: string;
  secretKey: string;
  remoteKey: string;
  property?: string;
  /** True when the JSON property matches the configured one (both absent counts as a match). */
  propertyMatches: boolean;
  via: 'data' | 'dataFrom.extract';
}

/** Every place an ExternalSecret maps the configured Secrets Manager token secret. */
export function tokenMappings(snapshot: ClusterSnapshot): TokenMapping[] {
  const source = valueOf(snapshot.aws.tokenSource);
  const wanted = snapshot.settings.tokenSecretProperty;
  const out: TokenMapping[] = [];
  for (const es of itemsOf(snapshot.kube.externalSecrets)) {
    const namespace = es.meta.namespace ?? '';
    const target = externalSecretTarget(es);
    for (const d of es.data) {
      if (!isTokenRemoteKey(d.remoteRef.key, snapshot.settings, source)) continue;
      out.push({
        es,
        namespace,
        target,
        secretKey: d.secretKey,
        remoteKey: d.remoteRef.key,
        ...(d.remoteRef.property ? { property: d.remoteRef.property } : {}),
        propertyMatches: (d.remoteRef.property ?? '') === (wanted ?? ''),
        via: 'data',
      });
    }
    // dataFrom.extract turns each JSON property into a key; only a JSON token secret fits this.
    for (const f of es.dataFrom) {
      if (!f.extract || !wanted) continue;
      if (!isTokenRemoteKey(f.extract.key, snapshot.settings, source)) continue;
      out.push({
        es,
        namespace,
        target,
        secretKey: wanted,
        remoteKey: f.extract.key,
        propertyMatches: true,
        via: 'dataFrom.extract',
      });
    }
  }
  return out;
}

/** The SecretStore or ClusterSecretStore an ExternalSecret uses, when collected. */
export function storeOf(
  es: ExternalSecret,
  snapshot: ClusterSnapshot,
):
  | { status: 'found'; store: SecretStore }
  | { status: 'missing' }
  | { status: 'unknown'; why: string } {
  const cluster = es.secretStoreRef.kind === 'ClusterSecretStore';
  const collected = cluster ? snapshot.kube.clusterSecretStores : snapshot.kube.secretStores;
  if (collected.status !== 'ok') {
    return {
      status: 'unknown',
      why:
        collected.status === 'error'
          ? `${cluster ? 'ClusterSecretStores' : 'SecretStores'} could not be read (${collected.error.code})`
          : collected.detail,
    };
  }
  const store = collected.value.find(
    (s) =>
      s.meta.name === es.secretStoreRef.name && (cluster || s.meta.namespace === es.meta.namespace),
  );
  return store ? { status: 'found', store } : { status: 'missing' };
}

/** "ExternalSecret ns/name" for messages. */
export function esLabel(es: ExternalSecret): string {
  return `ExternalSecret ${es.meta.namespace ?? ''}/${es.meta.name}`;
}

/** Milliseconds between two ISO timestamps (b - a), or undefined when either is missing/invalid. */
export function msBetween(a: string | undefined, b: string | undefined): number | undefined {
  if (!a || !b) return undefined;
  const x = Date.parse(a);
  const y = Date.parse(b);
  return Number.isNaN(x) || Number.isNaN(y) ? undefined : y - x;
}

/** "42m ago" style age for messages. */
export function ago(ms: number): string {
  return `${formatDuration(Math.max(0, ms))} ago`;
}

/** The store a new ExternalSecret in `namespace` would most likely use, for snippets. */
export function storeHint(
  snapshot: ClusterSnapshot,
  namespace: string,
): { name: string; kind: string } {
  const token = tokenMappings(snapshot).map((m) => m.es.secretStoreRef);
  const local = itemsOf(snapshot.kube.secretStores).find((s) => s.meta.namespace === namespace);
  if (local) return { name: local.meta.name, kind: 'SecretStore' };
  const cluster = token.find((r) => r.kind === 'ClusterSecretStore');
  if (cluster) return { name: cluster.name, kind: 'ClusterSecretStore' };
  const anyCluster = itemsOf(snapshot.kube.clusterSecretStores)[0];
  if (anyCluster) return { name: anyCluster.meta.name, kind: 'ClusterSecretStore' };
  return { name: '<secret-store>', kind: 'SecretStore' };
}

/** The `data[]` entry that maps the configured token secret into `secretKey`. */
export function tokenDataEntryYaml(
  settings: AuditSettings,
  secretKey: string,
  indent = '',
): string {
  return [
    `- secretKey: ${secretKey}`,
    `  remoteRef:`,
    `    key: ${settings.tokenSecretId}`,
    ...(settings.tokenSecretProperty ? [`    property: ${settings.tokenSecretProperty}`] : []),
  ]
    .map((l) => indent + l)
    .join('\n');
}

/** A ready-to-apply ExternalSecret that writes the token into `namespace/secret` key `secretKey`. */
export function tokenExternalSecretYaml(
  snapshot: ClusterSnapshot,
  namespace: string,
  secret: string,
  secretKey: string,
): string {
  const store = storeHint(snapshot, namespace);
  return [
    'apiVersion: external-secrets.io/v1',
    'kind: ExternalSecret',
    'metadata:',
    `  name: ${secret}`,
    `  namespace: ${namespace}`,
    'spec:',
    '  refreshInterval: 1h',
    '  secretStoreRef:',
    `    name: ${store.name}`,
    `    kind: ${store.kind}`,
    '  target:',
    `    name: ${secret}`,
    '  data:',
    tokenDataEntryYaml(snapshot.settings, secretKey, '    '),
  ].join('\n');
}

/** The command that makes ESO sync an ExternalSecret now instead of at its next interval. */
export function forceSyncCommand(es: ExternalSecret): string {
  return `kubectl -n ${es.meta.namespace ?? ''} annotate externalsecret ${es.meta.name} force-sync=$(date +%s) --overwrite`;
}
