/**
 * The one definition of "a copy of a secret": for every Kubernetes Secret key that holds the
 * Cluster Agent token, the Datadog API key or the application key, which object writes it and
 * from which Secrets Manager secret, following ClusterExternalSecret children and chains through
 * `kubernetes`-provider stores. Computed once per snapshot; every check asks this module.
 *
 * A new source of copies (e.g. the Datadog Operator's DatadogAgent credentials) is one function
 * returning {@link CopyWriter}s, added to {@link COPY_SOURCES}.
 */
import { snapshotModel } from '../../snapshot-model.js';
import { DEFAULT_API_KEY_SECRET_ID, DEFAULT_APP_KEY_SECRET_ID } from '../../config.js';
import {
  itemsOf,
  valueOf,
  type AuditSettings,
  type ClusterExternalSecret,
  type ClusterPushSecret,
  type ClusterSnapshot,
  type DatadogAgent,
  type ExternalSecret,
  type ObjectMeta,
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
}

/** Who writes a Secret key that holds one of the copied values. Label: {@link copyWriterLabel}. */
export interface CopyWriter {
  kind: 'ExternalSecret' | 'Operator';
  /** From this key back to the source: hops[0] writes the key, the last hop reads the source. */
  hops: CopyHop[];
  /** The DatadogAgent whose Operator writes the key (`kind: Operator`). */
  datadogAgent?: DatadogAgent;
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
  /** The configured Secrets Manager secret the chain ends at (`resolution: secrets-manager`). */
  source?: SourceSecret;
}

/**
 * The name of the `external-secrets.io` object of `kind` that controls an object: ESO marks the
 * children of a ClusterExternalSecret or ClusterPushSecret only by this controller ownerReference
 * (`metav1.GetControllerOf`, then kind and group: external-secrets
 * `pkg/controllers/clusterexternalsecret` `isExternalSecretOwnedBy`, `clusterpushsecret`
 * `isPushSecretOwnedBy`). It sets no label naming the parent.
 */
export function esoController(
  meta: ObjectMeta,
  kind: 'ClusterExternalSecret' | 'ClusterPushSecret',
): string | undefined {
  const owner = meta.ownerReferences.find((o) => o.controller === true);
  if (!owner || owner.kind !== kind) return undefined;
  if (owner.apiVersion !== undefined && !owner.apiVersion.startsWith('external-secrets.io/')) {
    return undefined;
  }
  return owner.name;
}

/** The ClusterExternalSecret that created an ExternalSecret (its controller ownerReference). */
export function parentCes(
  es: ExternalSecret,
  byName: Map<string, ClusterExternalSecret>,
): ClusterExternalSecret | undefined {
  const name = esoController(es.meta, 'ClusterExternalSecret');
  return name ? byName.get(name) : undefined;
}

export function writerLabel(es: ExternalSecret, ces?: ClusterExternalSecret): string {
  return ces ? `${esLabel(es)} (child of ClusterExternalSecret ${ces.meta.name})` : esLabel(es);
}

/** `ExternalSecret golang/dd (child of ClusterExternalSecret datadog-token)`, for messages. */
export function copyWriterLabel(writer: CopyWriter): string {
  const first = writer.hops[0];
  if (first) return writerLabel(first.es, first.ces);
  const dda = writer.datadogAgent;
  return dda
    ? `the Datadog Operator (DatadogAgent ${dda.meta.namespace ?? ''}/${dda.meta.name})`
    : writer.kind;
}

/** How ESO refreshes one hop, from its ExternalSecret (computed when needed, not kept). */
export function hopRefresh(h: CopyHop): RefreshMode {
  return refreshMode(h.es);
}

function keyLabel(namespace: string, secret: string, key: string): string {
  return `Secret ${namespace}/${secret} key "${key}"`;
}

/**
 * `Secrets Manager datadog/x -> Secret datadog/a key "token" -> Secret golang/b key "token"`,
 * rebuilt from the hops when a message needs it: hop i > 0 writes the Secret hop i - 1 reads.
 */
export function copyPath(copy: SecretCopy): string {
  const parts: string[] = [];
  let ns = copy.namespace;
  let secret = copy.secret;
  let key = copy.key;
  copy.writer.hops.forEach((h, i) => {
    if (i > 0) {
      const prev = copy.writer.hops[i - 1]!;
      ns = prev.store?.remoteNamespace ?? 'default';
      secret = prev.remoteKey;
      key = prev.property ?? key;
    }
    parts.push(keyLabel(ns, secret, key));
  });
  if (parts.length === 0) parts.push(keyLabel(ns, secret, key));
  parts.reverse();
  if (copy.resolution === 'secrets-manager' && copy.source) {
    const last = copy.writer.hops[copy.writer.hops.length - 1];
    parts.unshift(
      `Secrets Manager ${copy.source.secretId}${last?.property ? ` property "${last.property}"` : ''}`,
    );
  }
  return parts.join(' -> ');
}

/** One `data[]` entry of an ExternalSecret, with the Secret key it writes (shared strings). */
interface Entry {
  es: ExternalSecret;
  namespace: string;
  secret: string;
  key: string;
  remoteKey: string;
  property?: string;
  version?: string;
}

interface Index {
  snapshot: ClusterSnapshot;
  /** `ns/secret/key` -> the ExternalSecret entries writing it. */
  writers: Map<string, Entry[]>;
  cesByName: Map<string, ClusterExternalSecret>;
  sources: SourceSecret[];
  tokenArn?: string;
}

// Read directly by these checks, and by every reader of the copy model, which is computed from it.
const COPIES = snapshotModel(
  'copies',
  [
    'clusterexternalsecret-coverage',
    'copy-follows-source',
    'datadog-keys-match',
    'externalsecret-fresh',
    'externalsecret-mapping',
    'externalsecret-synced',
    'injection-secret-ready',
    'secret-second-writer',
    'token-consumers-match',
    'token-not-chart-generated',
    'token-stale-in-pods',
  ],
  (snapshot) => computeCopies(snapshot),
);

/**
 * Every copy of the token and of the Datadog keys, sorted by namespace/secret/key. Shared: do not
 * change. To find the copies of one key, ask the model (secret-copies/model.ts `copiesOf`), which
 * indexes them; a scan of this list per key is quadratic.
 */
export function secretCopies(snapshot: ClusterSnapshot): SecretCopy[] {
  return COPIES.get(snapshot);
}

/** Sources of copies beyond ExternalSecrets; the Operator's DatadogAgent plugs in here. */
export const COPY_SOURCES: ((snapshot: ClusterSnapshot) => SecretCopy[])[] = [];

function computeCopies(snapshot: ClusterSnapshot): SecretCopy[] {
  const tokenArn = valueOf(snapshot.aws.tokenSource)?.arn;
  const index: Index = {
    snapshot,
    writers: new Map(),
    cesByName: new Map(),
    sources: sourceSecrets(snapshot.settings),
    ...(tokenArn ? { tokenArn } : {}),
  };
  for (const ces of itemsOf(snapshot.kube.clusterExternalSecrets ?? { status: 'ok', value: [] })) {
    index.cesByName.set(ces.meta.name, ces);
  }
  const entries: Entry[] = [];
  for (const es of itemsOf(snapshot.kube.externalSecrets)) {
    const namespace = es.meta.namespace ?? '';
    const secret = externalSecretTarget(es);
    for (const d of es.data) {
      const entry: Entry = {
        es,
        namespace,
        secret,
        key: d.secretKey,
        remoteKey: d.remoteRef.key,
        property: d.remoteRef.property || undefined,
        version: d.remoteRef.version || undefined,
      };
      entries.push(entry);
      const id = `${namespace}/${secret}/${d.secretKey}`;
      const list = index.writers.get(id);
      if (list) list.push(entry);
      else index.writers.set(id, [entry]);
    }
  }
  const out: SecretCopy[] = [];
  const ids: string[] = [];
  for (const entry of entries) {
    const chain = resolve(index, entry, undefined);
    if (!chain) continue;
    // One shape for every copy (absent fields undefined): thousands of them stay small.
    out.push({
      value: chain.value,
      namespace: entry.namespace,
      secret: entry.secret,
      key: entry.key,
      writer: { kind: 'ExternalSecret', hops: chain.hops, datadogAgent: undefined },
      resolution: chain.resolution,
      graceMs: chain.graceMs,
      source: chain.source,
    });
  }
  for (const source of COPY_SOURCES) out.push(...source(snapshot));
  for (const c of out) ids.push(`${c.namespace}/${c.secret}/${c.key}`);
  // Sort positions by their id once, instead of building two strings per comparison.
  const collator = new Intl.Collator();
  const order = out.map((_, i) => i).sort((a, b) => collator.compare(ids[a]!, ids[b]!) || a - b);
  return order.map((i) => out[i]!);
}

interface Chain {
  value: CopiedValue;
  hops: CopyHop[];
  resolution: SecretCopy['resolution'];
  graceMs?: number;
  source?: SourceSecret;
}

const MAX_CHAIN = 8;

/**
 * Follows one writer entry back to its source. Returns undefined when the entry reads neither a
 * configured Secrets Manager secret nor (through `kubernetes` stores) a Secret holding one.
 */
function resolve(index: Index, entry: Entry, seen: Set<string> | undefined): Chain | undefined {
  const found = storeOf(entry.es, index.snapshot);
  const store = found.status === 'found' ? found.store : undefined;
  const ces = parentCes(entry.es, index.cesByName);
  const hop: CopyHop = {
    es: entry.es,
    ces,
    store,
    provider: store?.provider || undefined,
    remoteKey: entry.remoteKey,
    property: entry.property,
    version: entry.version,
  };
  const refresh = refreshMode(entry.es);
  const interval = refresh.kind === 'periodic' ? refresh.intervalMs : undefined;

  if (store?.provider === 'kubernetes') {
    // The kubernetes provider reads remoteRef.key (a Secret) in remoteNamespace, key = property.
    const upNs = store.remoteNamespace ?? 'default';
    const upKey = entry.property ?? entry.key;
    const upId = `${upNs}/${entry.remoteKey}/${upKey}`;
    if (seen?.has(upId) || (seen?.size ?? 0) >= MAX_CHAIN) {
      return { value: 'token', hops: [hop], resolution: 'cycle' };
    }
    const ups = index.writers.get(upId) ?? [];
    for (const up of ups) {
      const next = new Set(seen).add(`${entry.namespace}/${entry.secret}/${entry.key}`);
      const chain = resolve(index, up, next);
      if (!chain) continue;
      return {
        value: chain.value,
        hops: [hop, ...chain.hops],
        resolution: chain.resolution,
        ...(chain.graceMs !== undefined && interval !== undefined
          ? { graceMs: chain.graceMs + interval }
          : {}),
        ...(chain.source ? { source: chain.source } : {}),
      };
    }
    // Nothing collected writes the upstream Secret from a configured source: not a known copy.
    return undefined;
  }

  const source = index.sources.find((s) =>
    sameSmSecret(entry.remoteKey, s.secretId, s.value === 'token' ? index.tokenArn : undefined),
  );
  if (!source) return undefined;
  return {
    value: source.value,
    hops: [hop],
    resolution: 'secrets-manager',
    ...(interval !== undefined ? { graceMs: interval + SYNC_BACKOFF_MS } : {}),
    source,
  };
}

/** "1h + 15m refresh along the chain + 5m backoff" for messages. */
export function describeGrace(copy: SecretCopy): string {
  const intervals = copy.writer.hops
    .map((h) => {
      const refresh = hopRefresh(h);
      return refresh.kind === 'periodic' ? formatDuration(refresh.intervalMs) : refresh.label;
    })
    .join(' + ');
  return copy.writer.hops.length > 1
    ? `${intervals} (refresh intervals along the chain) + ${formatDuration(SYNC_BACKOFF_MS)} backoff`
    : `${intervals} + ${formatDuration(SYNC_BACKOFF_MS)} backoff`;
}

/**
 * PushSecret entries that write into a configured Secrets Manager secret: second writers. A
 * PushSecret that a ClusterPushSecret controls carries that parent (its name, and the object when
 * collected): ESO recreates a deleted child, so the fix is on the parent. A collected
 * ClusterPushSecret none of whose children was collected is evaluated from its own
 * `spec.pushSecretSpec`, in the namespaces its status lists.
 */
export interface PushWriter {
  /** The PushSecret, or for a ClusterPushSecret without collected children its pushSecretSpec. */
  push: PushSecret;
  /** The ClusterPushSecret controlling `push` (its controller ownerReference). */
  parent?: { name: string; object?: ClusterPushSecret };
  /** The namespace the PushSecret is in (for a ClusterPushSecret's spec: one it provisioned). */
  namespace: string;
  value: CopiedValue;
  source: SourceSecret;
  remoteKey: string;
  property?: string;
  secretKey?: string;
}

export function pushWriters(snapshot: ClusterSnapshot): PushWriter[] {
  const sources = sourceSecrets(snapshot.settings);
  const tokenArn = valueOf(snapshot.aws.tokenSource)?.arn;
  const parents = new Map(
    itemsOf(snapshot.kube.clusterPushSecrets ?? { status: 'ok', value: [] }).map((c) => [
      c.meta.name,
      c,
    ]),
  );
  const out: PushWriter[] = [];
  const add = (push: PushSecret, parent: PushWriter['parent'], namespace: string) => {
    // Only pushes to a Secrets Manager store can overwrite the configured secrets.
    const toSm = push.secretStoreRefs.some((ref) => {
      const cluster = ref.kind === 'ClusterSecretStore';
      const stores = itemsOf(
        cluster ? snapshot.kube.clusterSecretStores : snapshot.kube.secretStores,
      );
      const store = stores.find(
        (s) => s.meta.name === ref.name && (cluster || s.meta.namespace === namespace),
      );
      return (
        !store ||
        (store.provider === 'aws' && (store.service ?? 'SecretsManager') === 'SecretsManager')
      );
    });
    if (!toSm) return;
    for (const d of push.data) {
      const source = sources.find((s) =>
        sameSmSecret(d.remoteKey, s.secretId, s.value === 'token' ? tokenArn : undefined),
      );
      if (!source) continue;
      out.push({
        push,
        ...(parent ? { parent } : {}),
        namespace,
        value: source.value,
        source,
        remoteKey: d.remoteKey,
        ...(d.property ? { property: d.property } : {}),
        ...(d.secretKey ? { secretKey: d.secretKey } : {}),
      });
    }
  };
  const withChildren = new Set<string>();
  for (const push of itemsOf(snapshot.kube.pushSecrets ?? { status: 'ok', value: [] })) {
    const name = esoController(push.meta, 'ClusterPushSecret');
    const object = name ? parents.get(name) : undefined;
    if (name) withChildren.add(name);
    add(
      push,
      name ? { name, ...(object ? { object } : {}) } : undefined,
      push.meta.namespace ?? '',
    );
  }
  for (const cps of parents.values()) {
    if (withChildren.has(cps.meta.name)) continue;
    for (const ns of cps.status.provisionedNamespaces) {
      add(cps.pushSecretSpec, { name: cps.meta.name, object: cps }, ns);
    }
  }
  return out;
}
