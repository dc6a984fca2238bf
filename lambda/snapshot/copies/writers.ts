/**
 * Who writes a copy of the token or a Datadog key: ExternalSecrets (ClusterExternalSecret children
 * and chains through `kubernetes`-provider stores included) writing Secret keys from Secrets
 * Manager, the Datadog Operator writing its own Secrets, and PushSecrets (ClusterPushSecret
 * children included) writing a Secret key back into Secrets Manager. The copy model (model.ts)
 * computes them once per snapshot.
 */
import { externalSecretTarget } from '../secret-refs.js';
import {
  itemsOf,
  valueOf,
  type ClusterExternalSecret,
  type ClusterPushSecret,
  type ClusterSnapshot,
  type DatadogAgent,
  type ExternalSecret,
  type ObjectMeta,
  type PushSecret,
  type SecretStore,
} from '../snapshot.js';
import { formatDuration } from '../go-duration.js';
import { SYNC_BACKOFF_MS, esLabel, refreshMode, storeOf, type RefreshMode } from '../eso.js';
import { sameSmSecret, sourceSecrets, type CopiedValue, type SourceSecret } from './values.js';

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

/** An ExternalSecret (through a chain of stores) writing a Secret key from Secrets Manager. */
export interface ExternalSecretWriter {
  kind: 'ExternalSecret';
  /** From this key back to the source: hops[0] writes the key, the last hop reads the source. */
  hops: CopyHop[];
}

/**
 * The Datadog Operator writing a Secret key itself from its DatadogAgent (`<name>-token` from a
 * literal or generated token, `<name>-secret` from literal credentials): it never follows
 * Secrets Manager.
 */
export interface OperatorWriter {
  kind: 'Operator';
  datadogAgent: DatadogAgent;
  value: CopiedValue;
  namespace: string;
  secret: string;
  key: string;
}

/**
 * Who writes a copied value: into a Secret key (an ExternalSecret chain, the Operator) or, the
 * other way, from a Secret key into the Secrets Manager secret every copy follows (a PushSecret).
 * Label: {@link copyWriterLabel}.
 */
export type CopyWriter = ExternalSecretWriter | OperatorWriter | PushWriter;

/** A Secret key written from Secrets Manager by an ExternalSecret, directly or along a chain. */
export interface SecretCopy {
  value: CopiedValue;
  namespace: string;
  secret: string;
  key: string;
  writer: ExternalSecretWriter;
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

function writerLabel(es: ExternalSecret, ces?: ClusterExternalSecret): string {
  return ces ? `${esLabel(es)} (child of ClusterExternalSecret ${ces.meta.name})` : esLabel(es);
}

/**
 * `ExternalSecret golang/dd (child of ClusterExternalSecret datadog-token)`, `the Datadog Operator
 * (DatadogAgent datadog/datadog)`, `PushSecret shop/backup (child of ClusterPushSecret backup)`.
 */
export function copyWriterLabel(writer: CopyWriter): string {
  switch (writer.kind) {
    case 'ExternalSecret': {
      const first = writer.hops[0]!;
      return writerLabel(first.es, first.ces);
    }
    case 'Operator': {
      const dda = writer.datadogAgent;
      return `the Datadog Operator (DatadogAgent ${dda.meta.namespace ?? ''}/${dda.meta.name})`;
    }
    case 'PushSecret': {
      const own = `PushSecret ${writer.namespace}/${writer.push.meta.name}`;
      return writer.parent ? `${own} (child of ClusterPushSecret ${writer.parent.name})` : own;
    }
  }
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

/**
 * Every copy ExternalSecrets write of the token and of the Datadog keys, sorted by
 * namespace/secret/key. Computed by the copy model (model.ts): ask it, not this function.
 */
export function externalSecretCopies(snapshot: ClusterSnapshot): SecretCopy[] {
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
      writer: { kind: 'ExternalSecret', hops: chain.hops },
      resolution: chain.resolution,
      graceMs: chain.graceMs,
      source: chain.source,
    });
  }
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
  kind: 'PushSecret';
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

/** Computed by the copy model (model.ts): ask it, not this function. */
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
        kind: 'PushSecret',
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
