/**
 * The one definition of "a copy of a secret": for every Kubernetes Secret key that holds the
 * Cluster Agent token, the Datadog API key or the application key, which object writes it and
 * from which Secrets Manager secret, following ClusterExternalSecret children and chains through
 * `kubernetes`-provider stores. Computed once per snapshot; every check asks this module.
 *
 * A new source of copies (e.g. the Datadog Operator's DatadogAgent credentials) is one function
 * returning {@link CopyWriter}s, added to {@link COPY_SOURCES}.
 */
import { DEFAULT_API_KEY_SECRET_ID, DEFAULT_APP_KEY_SECRET_ID } from '../../config.js';
import {
  itemsOf,
  valueOf,
  type AuditSettings,
  type ClusterExternalSecret,
  type ClusterSnapshot,
  type ExternalSecret,
  type PushSecret,
  type SecretStore,
} from '../../snapshot.js';
import { externalSecretTarget } from '../../kube/secret-refs.js';
import { formatDuration } from './go-duration.js';
import { SYNC_BACKOFF_MS, esLabel, refreshMode, storeOf, type RefreshMode } from './eso.js';

/** What a copy holds. */
export type CopiedValue = 'token' | 'api-key' | 'app-key';

export const COPIED_LABEL: Record<CopiedValue, string> = {
  token: 'Cluster Agent token',
  'api-key': 'Datadog API key',
  'app-key': 'Datadog application key',
};

/** ESO's label on the ExternalSecrets a ClusterExternalSecret creates. */
export const CES_CHILD_LABEL = 'external-secrets.io/cluster-external-secret';

/** The Secrets Manager secret (and JSON property) a value is configured to come from. */
export interface SourceSecret {
  value: CopiedValue;
  secretId: string;
  property?: string;
}

/** Configured Secrets Manager secrets, token first; keys fall back to their defaults. */
export function sourceSecrets(settings: AuditSettings): SourceSecret[] {
  const out: SourceSecret[] = [
    {
      value: 'token',
      secretId: settings.tokenSecretId,
      ...(settings.tokenSecretProperty ? { property: settings.tokenSecretProperty } : {}),
    },
    {
      value: 'api-key',
      secretId: settings.apiKeySecretId ?? DEFAULT_API_KEY_SECRET_ID,
      ...(settings.apiKeySecretProperty ? { property: settings.apiKeySecretProperty } : {}),
    },
    {
      value: 'app-key',
      secretId: settings.appKeySecretId ?? DEFAULT_APP_KEY_SECRET_ID,
      ...(settings.appKeySecretProperty ? { property: settings.appKeySecretProperty } : {}),
    },
  ];
  return out;
}

/** Secret name inside a Secrets Manager ARN, without the 6-character suffix AWS appends. */
function nameFromArn(id: string): string {
  const m = /^arn:aws[a-z-]*:secretsmanager:[^:]*:\d*:secret:(.+)$/.exec(id);
  return m ? m[1]!.replace(/-[A-Za-z0-9]{6}$/, '') : id;
}

/** True when a remote key names the Secrets Manager secret `id` (by name or ARN). */
export function sameSmSecret(remoteKey: string, id: string, arn?: string): boolean {
  if (remoteKey === id || (arn !== undefined && remoteKey === arn)) return true;
  return nameFromArn(remoteKey) === nameFromArn(id);
}

/** One hop of a copy: an ExternalSecret entry that writes a Secret key from its store. */
export interface CopyHop {
  es: ExternalSecret;
  /** The ClusterExternalSecret that created `es`, when it is a child. */
  ces?: ClusterExternalSecret;
  store?: SecretStore;
  /** `aws` (Secrets Manager), `kubernetes` (another Secret), other providers, or unknown. */
  provider?: string;
  remoteKey: string;
  property?: string;
  /** `remoteRef.version` when pinned. */
  version?: string;
  refresh: RefreshMode;
}

/** Who writes a Secret key that holds one of the copied values. */
export interface CopyWriter {
  kind: 'ExternalSecret' | 'Operator';
  /** `ExternalSecret golang/dd (child of ClusterExternalSecret datadog-token)`. */
  label: string;
  /** From this key back to the source: hops[0] writes the key, the last hop reads the source. */
  hops: CopyHop[];
}

export interface SecretCopy {
  value: CopiedValue;
  namespace: string;
  secret: string;
  key: string;
  writer: CopyWriter;
  /**
   * `secrets-manager` when the chain ends at the configured Secrets Manager secret;
   * `unresolved` when a `kubernetes` hop reads a Secret no collected ExternalSecret writes;
   * `cycle` when the chain loops.
   */
  resolution: 'secrets-manager' | 'unresolved' | 'cycle';
  /**
   * Sum of the refresh intervals along the chain plus one backoff: how long a change in Secrets
   * Manager may take to reach this key. Undefined when a hop never refreshes by itself.
   */
  graceMs?: number;
  /** `Secrets Manager datadog/x -> Secret datadog/a key "token" -> Secret golang/b key "token"`. */
  path: string;
}

/** The ClusterExternalSecret that created an ExternalSecret: ESO's label, else the owner. */
export function parentCes(
  es: ExternalSecret,
  byName: Map<string, ClusterExternalSecret>,
): ClusterExternalSecret | undefined {
  const name =
    es.meta.labels[CES_CHILD_LABEL] ??
    es.meta.ownerReferences.find((o) => o.kind === 'ClusterExternalSecret')?.name;
  return name ? byName.get(name) : undefined;
}

export function writerLabel(es: ExternalSecret, ces?: ClusterExternalSecret): string {
  return ces ? `${esLabel(es)} (child of ClusterExternalSecret ${ces.meta.name})` : esLabel(es);
}

interface Index {
  snapshot: ClusterSnapshot;
  /** `ns/secret/key` -> the ExternalSecret entries writing it. */
  writers: Map<
    string,
    { es: ExternalSecret; remoteKey: string; property?: string; version?: string }[]
  >;
  cesByName: Map<string, ClusterExternalSecret>;
}

const COPIES_CACHE = new WeakMap<ClusterSnapshot, SecretCopy[]>();

/** Every copy of the token and of the Datadog keys, sorted by namespace/secret/key. */
export function secretCopies(snapshot: ClusterSnapshot): SecretCopy[] {
  let copies = COPIES_CACHE.get(snapshot);
  if (!copies) {
    copies = computeCopies(snapshot);
    COPIES_CACHE.set(snapshot, copies);
  }
  return copies;
}

/** The copies of one Secret key (one per writer). */
export function copiesOf(
  snapshot: ClusterSnapshot,
  namespace: string,
  secret: string,
  key: string,
): SecretCopy[] {
  return secretCopies(snapshot).filter(
    (c) => c.namespace === namespace && c.secret === secret && c.key === key,
  );
}

/** Sources of copies beyond ExternalSecrets; the Operator's DatadogAgent plugs in here. */
export const COPY_SOURCES: ((snapshot: ClusterSnapshot) => SecretCopy[])[] = [];

function computeCopies(snapshot: ClusterSnapshot): SecretCopy[] {
  const index: Index = { snapshot, writers: new Map(), cesByName: new Map() };
  for (const ces of itemsOf(snapshot.kube.clusterExternalSecrets ?? { status: 'ok', value: [] })) {
    index.cesByName.set(ces.meta.name, ces);
  }
  const all = itemsOf(snapshot.kube.externalSecrets);
  for (const es of all) {
    const ns = es.meta.namespace ?? '';
    const target = externalSecretTarget(es);
    for (const d of es.data) {
      const id = `${ns}/${target}/${d.secretKey}`;
      const list = index.writers.get(id) ?? [];
      list.push({
        es,
        remoteKey: d.remoteRef.key,
        ...(d.remoteRef.property ? { property: d.remoteRef.property } : {}),
        ...(d.remoteRef.version ? { version: d.remoteRef.version } : {}),
      });
      index.writers.set(id, list);
    }
  }
  const sources = sourceSecrets(snapshot.settings);
  const tokenArn = valueOf(snapshot.aws.tokenSource)?.arn;
  const out: SecretCopy[] = [];
  for (const [id, entries] of index.writers) {
    const [namespace, secret, key] = splitId(id);
    for (const entry of entries) {
      const chain = resolve(index, namespace, secret, key, entry, sources, tokenArn, new Set());
      if (!chain) continue;
      const ces = parentCes(entry.es, index.cesByName);
      out.push({
        value: chain.value,
        namespace,
        secret,
        key,
        writer: { kind: 'ExternalSecret', label: writerLabel(entry.es, ces), hops: chain.hops },
        resolution: chain.resolution,
        ...(chain.graceMs !== undefined ? { graceMs: chain.graceMs } : {}),
        path: chain.path,
      });
    }
  }
  for (const source of COPY_SOURCES) out.push(...source(snapshot));
  const collator = new Intl.Collator();
  return out.sort((a, b) =>
    collator.compare(`${a.namespace}/${a.secret}/${a.key}`, `${b.namespace}/${b.secret}/${b.key}`),
  );
}

function splitId(id: string): [string, string, string] {
  const a = id.indexOf('/');
  const b = id.indexOf('/', a + 1);
  return [id.slice(0, a), id.slice(a + 1, b), id.slice(b + 1)];
}

interface Chain {
  value: CopiedValue;
  hops: CopyHop[];
  resolution: SecretCopy['resolution'];
  graceMs?: number;
  path: string;
}

const MAX_CHAIN = 8;

/**
 * Follows one writer entry back to its source. Returns undefined when the entry reads neither a
 * configured Secrets Manager secret nor (through `kubernetes` stores) a Secret holding one.
 */
function resolve(
  index: Index,
  namespace: string,
  secret: string,
  key: string,
  entry: { es: ExternalSecret; remoteKey: string; property?: string; version?: string },
  sources: SourceSecret[],
  tokenArn: string | undefined,
  seen: Set<string>,
): Chain | undefined {
  const found = storeOf(entry.es, index.snapshot);
  const store = found.status === 'found' ? found.store : undefined;
  const ces = parentCes(entry.es, index.cesByName);
  const hop: CopyHop = {
    es: entry.es,
    ...(ces ? { ces } : {}),
    ...(store ? { store } : {}),
    ...(store?.provider ? { provider: store.provider } : {}),
    remoteKey: entry.remoteKey,
    ...(entry.property ? { property: entry.property } : {}),
    ...(entry.version ? { version: entry.version } : {}),
    refresh: refreshMode(entry.es),
  };
  const here = `Secret ${namespace}/${secret} key "${key}"`;
  const interval = hop.refresh.kind === 'periodic' ? hop.refresh.intervalMs : undefined;

  if (store?.provider === 'kubernetes') {
    // The kubernetes provider reads remoteRef.key (a Secret) in remoteNamespace, key = property.
    const upNs = store.remoteNamespace ?? 'default';
    const upKey = entry.property ?? key;
    const upId = `${upNs}/${entry.remoteKey}/${upKey}`;
    if (seen.has(upId) || seen.size >= MAX_CHAIN) {
      return { value: 'token', hops: [hop], resolution: 'cycle', path: here };
    }
    const ups = index.writers.get(upId) ?? [];
    for (const up of ups) {
      const next = new Set(seen).add(`${namespace}/${secret}/${key}`);
      const chain = resolve(index, upNs, entry.remoteKey, upKey, up, sources, tokenArn, next);
      if (!chain) continue;
      return {
        value: chain.value,
        hops: [hop, ...chain.hops],
        resolution: chain.resolution,
        ...(chain.graceMs !== undefined && interval !== undefined
          ? { graceMs: chain.graceMs + interval }
          : {}),
        path: `${chain.path} -> ${here}`,
      };
    }
    // Nothing collected writes the upstream Secret from a configured source: not a known copy.
    return undefined;
  }

  const source = sources.find((s) =>
    sameSmSecret(entry.remoteKey, s.secretId, s.value === 'token' ? tokenArn : undefined),
  );
  if (!source) return undefined;
  return {
    value: source.value,
    hops: [hop],
    resolution: 'secrets-manager',
    ...(interval !== undefined ? { graceMs: interval + SYNC_BACKOFF_MS } : {}),
    path: `Secrets Manager ${source.secretId}${entry.property ? ` property "${entry.property}"` : ''} -> ${here}`,
  };
}

/** "1h + 15m refresh along the chain + 5m backoff" for messages. */
export function describeGrace(copy: SecretCopy): string {
  const intervals = copy.writer.hops
    .map((h) =>
      h.refresh.kind === 'periodic' ? formatDuration(h.refresh.intervalMs) : h.refresh.label,
    )
    .join(' + ');
  return copy.writer.hops.length > 1
    ? `${intervals} (refresh intervals along the chain) + ${formatDuration(SYNC_BACKOFF_MS)} backoff`
    : `${intervals} + ${formatDuration(SYNC_BACKOFF_MS)} backoff`;
}

/** PushSecret entries that write into a configured Secrets Manager secret: second writers. */
export interface PushWriter {
  push: PushSecret;
  value: CopiedValue;
  source: SourceSecret;
  remoteKey: string;
  property?: string;
  secretKey?: string;
}

export function pushWriters(snapshot: ClusterSnapshot): PushWriter[] {
  const sources = sourceSecrets(snapshot.settings);
  const tokenArn = valueOf(snapshot.aws.tokenSource)?.arn;
  const out: PushWriter[] = [];
  for (const push of itemsOf(snapshot.kube.pushSecrets ?? { status: 'ok', value: [] })) {
    // Only pushes to a Secrets Manager store can overwrite the configured secrets.
    const toSm = push.secretStoreRefs.some((ref) => {
      const cluster = ref.kind === 'ClusterSecretStore';
      const stores = itemsOf(
        cluster ? snapshot.kube.clusterSecretStores : snapshot.kube.secretStores,
      );
      const store = stores.find(
        (s) => s.meta.name === ref.name && (cluster || s.meta.namespace === push.meta.namespace),
      );
      return (
        !store ||
        (store.provider === 'aws' && (store.service ?? 'SecretsManager') === 'SecretsManager')
      );
    });
    if (!toSm) continue;
    for (const d of push.data) {
      const source = sources.find((s) =>
        sameSmSecret(d.remoteKey, s.secretId, s.value === 'token' ? tokenArn : undefined),
      );
      if (!source) continue;
      out.push({
        push,
        value: source.value,
        source,
        remoteKey: d.remoteKey,
        ...(d.property ? { property: d.property } : {}),
        ...(d.secretKey ? { secretKey: d.secretKey } : {}),
      });
    }
  }
  return out;
}
