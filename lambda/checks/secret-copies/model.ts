/**
 * The one definition of "a copy of a secret", readers and writers alike. For every Kubernetes
 * Secret key that holds (or should hold) the Cluster Agent token, the Datadog API key or the
 * application key: who reads it (containers, workload templates whose pods are not running, pods
 * asking the admission controller for a sidecar by its effective selector, DatadogAgents), who
 * writes it from Secrets Manager (ExternalSecrets, ClusterExternalSecret children, chains through
 * `kubernetes`-provider stores: external-secrets/copies.ts), which ExternalSecrets target its
 * Secret, and the Secret as the collector read it (digests only).
 *
 * Built once per snapshot and indexed by value and namespace/secret/key; every check asks it.
 * Entries share the snapshot's objects (pods, workloads, ExternalSecrets, copies) and keep no
 * message text: labels are computed by the functions below when a message needs them, so a
 * cluster of thousands of namespaces costs a few small objects per Secret key.
 */
import { SIDECAR_API_KEY, SIDECAR_TOKEN_KEY } from '../../admission/sidecar-config.js';
import { snapshotModel } from '../../snapshot-model.js';
import { datadogAgentsOf, operatorKeyRefs, operatorTokenRef } from '../../kube/operator-refs.js';
import { externalSecretTarget, isDatadogContainer } from '../../kube/secret-refs.js';
import {
  itemsOf,
  type ClusterSnapshot,
  type Container,
  type DatadogAgent,
  type ExternalSecret,
  type Pod,
  type PodSpec,
  type SecretDigest,
  type SecretLookup,
  type Workload,
} from '../../snapshot.js';
import {
  discoverAgents,
  isClusterAgentContainer,
  isNodeAgentContainer,
} from '../agent-discovery.js';
import { secretCopies, type CopiedValue, type SecretCopy } from '../external-secrets/copies.js';
import { tokenMappings, type TokenMapping } from '../external-secrets/eso.js';

/** The variable the node agents, cluster checks runners and the Cluster Agent read the token from. */
export const TOKEN_ENV = 'DD_CLUSTER_AGENT_AUTH_TOKEN';
/** Key the Helm chart and the admission controller read from the token Secret. */
export const TOKEN_KEY = 'token';

/** The environment variable each copied value is read through. */
export const VALUE_ENV: Record<CopiedValue, string> = {
  token: TOKEN_ENV,
  'api-key': 'DD_API_KEY',
  'app-key': 'DD_APP_KEY',
};

/** The `datadog-secret` key the injected sidecar reads each value from (it reads no app key). */
const SIDECAR_KEY: Partial<Record<CopiedValue, string>> = {
  token: SIDECAR_TOKEN_KEY,
  'api-key': SIDECAR_API_KEY,
};

const VALUES: readonly CopiedValue[] = ['token', 'api-key', 'app-key'];

export type ConsumerRole = 'cluster-agent' | 'node-agent' | 'injected-sidecar' | 'agent';

/** One reader of a Secret key. Labels for messages: {@link readerLabel}. */
export interface SecretReader {
  /** The running pod; absent for a workload template without running pods. */
  pod?: Pod;
  workload?: Workload;
  namespace: string;
  /** Container reading the key; absent when the admission controller has yet to inject it. */
  container?: string;
  role: ConsumerRole;
  /** `datadogagent`: a DatadogAgent makes the Operator's components read this key. */
  via: 'env' | 'envFrom' | 'admission-sidecar' | 'datadogagent';
  /** The DatadogAgent naming the key (`via: datadogagent`). */
  datadogAgent?: DatadogAgent;
  /** The DatadogAgent field naming it, e.g. `spec.global.credentials.apiSecret`. */
  field?: string;
}

/** One Secret key that holds (or should hold) a copied value, with who reads and writes it. */
export interface HeldKey {
  value: CopiedValue;
  namespace: string;
  secret: string;
  key: string;
  users: SecretReader[];
  /** The copies written into this key from Secrets Manager, one per writer (chains resolved). */
  copies: readonly SecretCopy[];
  /** Token only: ExternalSecret entries that map the configured Secrets Manager token secret. */
  mappings: readonly TokenMapping[];
  /** Every ExternalSecret whose target is this Secret (whatever it maps); shared, do not change. */
  writers: readonly ExternalSecret[];
  lookup?: SecretLookup;
  /** Digest of the key when the Secret was read and has it. */
  digest?: SecretDigest;
  /**
   * The DatadogAgent whose Operator writes this key itself: `<name>-token` from a literal or
   * generated token, `<name>-secret` from literal credentials. It never follows Secrets Manager.
   */
  operator?: DatadogAgent;
}

export interface SecretCopyModel {
  /** Per value, every key holding it, sorted by namespace/secret/key. Shared: do not change. */
  keys: Record<CopiedValue, readonly HeldKey[]>;
  /** The key holding `value` at namespace/secret/key, if any reader or writer names it. */
  heldKey(value: CopiedValue, namespace: string, secret: string, key: string): HeldKey | undefined;
  /** Every ExternalSecret whose target is namespace/secret. */
  writersOf(namespace: string, secret: string): readonly ExternalSecret[];
  lookup(namespace: string, secret: string): SecretLookup | undefined;
}

const NONE: readonly never[] = Object.freeze([]);

export function isLive(pod: Pod): boolean {
  return pod.status.phase !== 'Succeeded' && pod.status.phase !== 'Failed';
}

export function secretLookups(snapshot: ClusterSnapshot): Map<string, SecretLookup> {
  return new Map(snapshot.kube.secrets.map((l) => [`${l.namespace}/${l.name}`, l]));
}

export function workloadIndex(snapshot: ClusterSnapshot): Map<string, Workload> {
  const all = [
    ...itemsOf(snapshot.kube.deployments),
    ...itemsOf(snapshot.kube.daemonsets),
    ...itemsOf(snapshot.kube.statefulsets),
  ];
  return new Map(all.map((w) => [`${w.kind}/${w.meta.namespace ?? ''}/${w.meta.name}`, w]));
}

/** The Deployment/DaemonSet/StatefulSet behind a pod (through its ReplicaSet), when collected. */
export function ownerOf(pod: Pod, workloads: Map<string, Workload>): Workload | undefined {
  const ns = pod.meta.namespace ?? '';
  for (const o of pod.meta.ownerReferences) {
    const key =
      o.kind === 'ReplicaSet'
        ? `Deployment/${ns}/${o.name.replace(/-[a-z0-9]{5,10}$/, '')}`
        : `${o.kind}/${ns}/${o.name}`;
    const w = workloads.get(key);
    if (w) return w;
  }
  return undefined;
}

/** `Pod golang/app-7d9f`, `Deployment golang/app` or `DatadogAgent datadog/datadog`. */
export function readerLabel(u: SecretReader): string {
  if (u.datadogAgent) return `DatadogAgent ${u.namespace}/${u.datadogAgent.meta.name}`;
  if (u.pod) return `Pod ${u.namespace}/${u.pod.meta.name}`;
  if (u.workload) return `${u.workload.kind} ${u.namespace}/${u.workload.meta.name}`;
  return `namespace ${u.namespace}`;
}

/** `Pod golang/app-1 (agent)`, `Pod golang/web (sidecar to be injected)`, `DatadogAgent d/d (field)`. */
export function readerDetail(u: SecretReader): string {
  const label = readerLabel(u);
  if (u.container) return `${label} (${u.container})`;
  if (u.via === 'admission-sidecar') return `${label} (sidecar to be injected)`;
  if (u.field) return `${label} (${u.field})`;
  return label;
}

/** The checks that read the model (test/checks/snapshot-models.test.ts keeps this list true). */
export const COPY_MODEL_READERS = [
  'clusterexternalsecret-coverage',
  'datadog-keys-match',
  'externalsecret-fresh',
  'externalsecret-mapping',
  'externalsecret-synced',
  'injection-secret-ready',
  'token-consumers-match',
  'token-not-chart-generated',
  'token-stale-in-pods',
];

const MODEL = snapshotModel('secret-copies', COPY_MODEL_READERS, (snapshot) =>
  computeModel(snapshot),
);

/** The model of one snapshot, computed on first use and shared by every check. */
export function secretCopyModel(snapshot: ClusterSnapshot): SecretCopyModel {
  return MODEL.get(snapshot);
}

/** The copies of one Secret key (one per writer and value), by index. */
export function copiesOf(
  snapshot: ClusterSnapshot,
  namespace: string,
  secret: string,
  key: string,
): SecretCopy[] {
  const model = secretCopyModel(snapshot);
  const out: SecretCopy[] = [];
  for (const v of VALUES) {
    const k = model.heldKey(v, namespace, secret, key);
    if (k) out.push(...k.copies);
  }
  return out;
}

interface Ref {
  secret: string;
  key: string;
  via: 'env' | 'envFrom';
}

/**
 * Readers are the most numerous objects of the model: one shape with every field (undefined when
 * absent) keeps them small, where optional spreads would give each a separate property store.
 */
function reader(
  pod: Pod | undefined,
  workload: Workload | undefined,
  namespace: string,
  container: string | undefined,
  role: ConsumerRole,
  via: SecretReader['via'],
): SecretReader {
  return {
    pod,
    workload,
    namespace,
    container,
    role,
    via,
    datadogAgent: undefined,
    field: undefined,
  };
}

function roleOf(c: Container): ConsumerRole {
  if (isClusterAgentContainer(c)) return 'cluster-agent';
  if (isNodeAgentContainer(c)) return 'node-agent';
  return 'agent';
}

/**
 * The Secret key a container reads `name` from: an explicit env entry wins over envFrom (then
 * undefined when it is a literal); later envFrom sources win over earlier ones, as in the kubelet.
 */
function refOf(
  c: Container,
  name: string,
  namespace: string,
  lookupOf: (namespace: string, secret: string) => SecretLookup | undefined,
): Ref | undefined {
  const env = c.env.find((e) => e.name === name);
  if (env) {
    return env.secretKeyRef
      ? { secret: env.secretKeyRef.name, key: env.secretKeyRef.key, via: 'env' }
      : undefined;
  }
  if (c.envFrom.length === 0 || !isDatadogContainer(c)) return undefined;
  let found: Ref | undefined;
  for (const f of c.envFrom) {
    if (!f.secretRef) continue;
    const prefix = f.prefix ?? '';
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    const l = lookupOf(namespace, f.secretRef.name);
    if (l?.result.status === 'found' && key in l.result.secret.data) {
      found = { secret: f.secretRef.name, key, via: 'envFrom' };
    }
  }
  return found;
}

function computeModel(snapshot: ClusterSnapshot): SecretCopyModel {
  const workloads = workloadIndex(snapshot);
  // "Asking for a sidecar" is the admission controller's effective selector, shared with discovery.
  const { asksForSidecar, sidecarInputs } = discoverAgents(snapshot);
  // Which Secret key the injected agent reads each value from (a sidecar profile may point it at
  // another Secret): one rule shared with the collector and injection-secret-ready.
  const sidecarRef = (v: CopiedValue): { secret: string; key: string } | undefined => {
    if (!SIDECAR_KEY[v]) return undefined;
    const input = sidecarInputs.find((i) => i.env === VALUE_ENV[v]);
    return input && { secret: input.secret, key: input.key };
  };
  const sidecar = { token: sidecarRef('token'), 'api-key': sidecarRef('api-key') } as Partial<
    Record<CopiedValue, { secret: string; key: string }>
  >;

  // One index by Secret: its lookup, the ExternalSecrets targeting it and the keys held in it.
  // One string key per Secret; the keys of a Secret are few and found by a short scan.
  const bySecret = new Map<string, SecretIndex>();
  const at = (namespace: string, secret: string): SecretIndex => {
    const id = `${namespace}/${secret}`;
    let s = bySecret.get(id);
    if (!s) {
      s = { lookup: undefined, writers: NONE, keys: NONE };
      bySecret.set(id, s);
    }
    return s;
  };
  for (const l of snapshot.kube.secrets) at(l.namespace, l.name).lookup = l;
  const lookupOf = (namespace: string, secret: string) =>
    bySecret.get(`${namespace}/${secret}`)?.lookup;
  for (const es of itemsOf(snapshot.kube.externalSecrets)) {
    const s = at(es.meta.namespace ?? '', externalSecretTarget(es));
    s.writers = append(s.writers, es);
  }

  const all: HeldKey[] = [];
  const entry = (value: CopiedValue, namespace: string, secret: string, key: string): HeldKey => {
    const s = at(namespace, secret);
    let e = s.keys.find((k) => k.value === value && k.key === key);
    if (!e) {
      const lookup = s.lookup;
      const digest = lookup?.result.status === 'found' ? lookup.result.secret.data[key] : undefined;
      e = {
        value,
        namespace,
        secret,
        key,
        users: NONE as unknown as SecretReader[],
        copies: NONE,
        mappings: NONE,
        writers: s.writers,
        lookup,
        digest,
        operator: undefined,
      };
      s.keys = append(s.keys, e);
      all.push(e);
    }
    return e;
  };
  const addUser = (e: HeldKey, u: SecretReader) => {
    e.users = append(e.users, u) as SecretReader[];
  };

  const readSpec = (
    spec: PodSpec,
    labels: Record<string, string>,
    namespace: string,
    pod: Pod | undefined,
    workload: Workload | undefined,
  ) => {
    const asks = asksForSidecar(labels, namespace);
    for (const v of VALUES) {
      const name = VALUE_ENV[v];
      let read = false;
      for (const list of [spec.initContainers, spec.containers]) {
        for (const c of list) {
          const ref = refOf(c, name, namespace, lookupOf);
          if (!ref) continue;
          read = true;
          addUser(
            entry(v, namespace, ref.secret, ref.key),
            reader(pod, workload, namespace, c.name, roleOf(c), ref.via),
          );
        }
      }
      // Before injection the pod has no agent container yet, but the sidecar it will get reads this.
      const side = sidecar[v];
      if (asks && !read && side) {
        addUser(
          entry(v, namespace, side.secret, side.key),
          reader(pod, workload, namespace, undefined, 'injected-sidecar', 'admission-sidecar'),
        );
      }
    }
  };

  const covered = new Set<Workload>();
  for (const pod of itemsOf(snapshot.kube.pods)) {
    if (!isLive(pod)) continue;
    const workload = ownerOf(pod, workloads);
    if (workload) covered.add(workload);
    readSpec(pod.spec, pod.meta.labels, pod.meta.namespace ?? '', pod, workload);
  }
  // Workload templates count only when none of their pods runs (the pods already show the wiring).
  for (const w of workloads.values()) {
    if (covered.has(w)) continue;
    readSpec(w.template.spec, w.template.meta.labels, w.meta.namespace ?? '', undefined, w);
  }

  for (const dda of datadogAgentsOf(snapshot)) {
    const namespace = dda.meta.namespace ?? '';
    // The Operator's Cluster Agent reads the key its DatadogAgent names (clusterAgentTokenSecret,
    // else `<name>-token`), also before its pods run. Once its pods read that key they are the
    // Cluster Agent's users, and the DatadogAgent is not counted a second time.
    if (!dda.clusterAgentDisabled) {
      const ref = operatorTokenRef(dda);
      const e = entry('token', ref.namespace, ref.secret, ref.key);
      if (!e.users.some((u) => u.role === 'cluster-agent')) {
        const u = reader(
          undefined,
          undefined,
          namespace,
          undefined,
          'cluster-agent',
          'datadogagent',
        );
        u.datadogAgent = dda;
        addUser(e, u);
      }
      if (ref.source !== 'secret') e.operator = dda;
    }
    // Its node agents, Cluster Agent and cluster checks runners read spec.global.credentials.
    for (const k of operatorKeyRefs(dda)) {
      const u = reader(undefined, undefined, namespace, undefined, 'agent', 'datadogagent');
      u.datadogAgent = dda;
      u.field = OPERATOR_FIELD[k.kind][k.source];
      const e = entry(k.kind, k.namespace, k.secret, k.key);
      addUser(e, u);
      if (k.source === 'literal') e.operator = dda;
    }
  }

  for (const m of tokenMappings(snapshot)) {
    const e = entry('token', m.namespace, m.target, m.secretKey);
    e.mappings = append(e.mappings, m);
  }
  for (const c of secretCopies(snapshot)) {
    const e = entry(c.value, c.namespace, c.secret, c.key);
    e.copies = append(e.copies, c);
  }

  const collator = new Intl.Collator();
  const ids = new Map(all.map((e) => [e, `${e.namespace}/${e.secret}/${e.key}`]));
  const sorted = all.sort((a, b) => collator.compare(ids.get(a)!, ids.get(b)!));
  ids.clear();
  const keys: Record<CopiedValue, HeldKey[]> = { token: [], 'api-key': [], 'app-key': [] };
  for (const e of sorted) keys[e.value].push(e);
  return {
    keys,
    heldKey: (value, namespace, secret, key) =>
      bySecret.get(`${namespace}/${secret}`)?.keys.find((k) => k.value === value && k.key === key),
    writersOf: (namespace, secret) => bySecret.get(`${namespace}/${secret}`)?.writers ?? NONE,
    lookup: lookupOf,
  };
}

/**
 * Most lists here hold one or two items: they are copied to their exact length, since the first
 * push into an array reserves room for 17. Long lists (the Cluster Agent's readers) grow by push.
 */
function append<T>(list: readonly T[], item: T): readonly T[] {
  if (list.length >= 8) {
    (list as T[]).push(item);
    return list;
  }
  const out = new Array<T>(list.length + 1);
  for (let i = 0; i < list.length; i++) out[i] = list[i]!;
  out[list.length] = item;
  return out;
}

/** What the model knows of one Secret. */
interface SecretIndex {
  lookup: SecretLookup | undefined;
  writers: readonly ExternalSecret[];
  keys: readonly HeldKey[];
}

const OPERATOR_FIELD: Record<'api-key' | 'app-key', Record<'secret' | 'literal', string>> = {
  'api-key': {
    secret: 'spec.global.credentials.apiSecret',
    literal: 'spec.global.credentials.apiKey',
  },
  'app-key': {
    secret: 'spec.global.credentials.appSecret',
    literal: 'spec.global.credentials.appKey',
  },
};
