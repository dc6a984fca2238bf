/**
 * The one model of a secret's copies. For every Kubernetes Secret key that holds (or should hold)
 * the Cluster Agent token, the Datadog API key or the application key: who reads it (containers,
 * by the kubelet's env/envFrom precedence; workload templates whose pods are not running; pods
 * asking the admission controller for a sidecar by its effective selector; DatadogAgents), who
 * writes it (ExternalSecrets, ClusterExternalSecret children and chains through
 * `kubernetes`-provider stores; the Datadog Operator), which ExternalSecrets target its Secret, and
 * the Secret as the collector read it (digests only). Writers are one union (writers.ts
 * `CopyWriter`: ExternalSecret chains and the Operator writing keys, PushSecrets writing back into
 * Secrets Manager). Beside the keys: the PushSecrets, the Secret references of running
 * containers, and the copy record (record.ts).
 *
 * Derived once per snapshot and indexed by value and namespace/secret/key; checks declare it in
 * their `models` and ask it, never rebuild it. Entries share the snapshot's objects (pods,
 * workloads, ExternalSecrets) and keep no message text, so a cluster of thousands of namespaces
 * costs a few small objects per Secret key.
 */
import { datadogAgentsOf, operatorKeyRefs, operatorTokenRef } from '../operator-refs.js';
import { externalSecretTarget, isDatadogContainer } from '../secret-refs.js';
import { snapshotModel } from '../models.js';
import {
  itemsOf,
  type ClusterSnapshot,
  type Container,
  type CopyRecordSet,
  type DatadogAgent,
  type EnvVar,
  type ExternalSecret,
  type Pod,
  type PodSpec,
  type SecretDigest,
  type SecretLookup,
  type Workload,
} from '../snapshot.js';
import { discoverAgents, isClusterAgentContainer, isNodeAgentContainer } from '../agents.js';
import { tokenMappings, type TokenMapping } from '../eso.js';
import { envRefOf, type ConsumerRole, type EnvRef, type SecretReader } from './readers.js';
import { computeRecord } from './record.js';
import { ownerWorkload, workloadIndex, type WorkloadIndex } from '../workloads/owners.js';
import { isLivePod } from '../workloads/pods.js';
import { COPIED_VALUES, SIDECAR_KEY, VALUE_ENV, type CopiedValue } from './values.js';
import {
  externalSecretCopies,
  pushWriters,
  type OperatorWriter,
  type PushWriter,
  type SecretCopy,
} from './writers.js';

/** One Secret key that holds (or should hold) a copied value, with who reads and writes it. */
export interface HeldKey {
  value: CopiedValue;
  namespace: string;
  secret: string;
  key: string;
  /** Its readers. */
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
   * The Datadog Operator when it writes this key itself from a DatadogAgent: `<name>-token` from a
   * literal or generated token, `<name>-secret` from literal credentials. It never follows
   * Secrets Manager.
   */
  operator?: OperatorWriter;
}

/** A `DD_*` env entry of a running container that reads a secretKeyRef. */
export interface EnvSecretRef {
  pod: Pod;
  container: Container;
  env: EnvVar & { secretKeyRef: NonNullable<EnvVar['secretKeyRef']> };
  /**
   * Where the container gets the variable from, by the kubelet's precedence: this entry, a later
   * entry of the same name, or (when this one is optional and its Secret or key is missing) an
   * earlier entry or an envFrom Secret. Undefined when no Secret key supplies it.
   */
  resolved?: EnvRef;
}

/** An envFrom Secret of a running Datadog container. */
export interface EnvFromSecretRef {
  pod: Pod;
  container: Container;
  secretRef: { name: string; optional?: boolean };
}

export interface SecretCopyModel {
  /** Per value, every key holding it, sorted by namespace/secret/key. Shared: do not change. */
  keys: Record<CopiedValue, readonly HeldKey[]>;
  /** Every copy ExternalSecrets write, sorted by namespace/secret/key. Shared: do not change. */
  copies: readonly SecretCopy[];
  /** The PushSecrets (ClusterPushSecret children included) writing into a configured secret. */
  pushes: readonly PushWriter[];
  /** Every `DD_*` secretKeyRef of a running container, in pod, container and env order. */
  envSecretRefs: readonly EnvSecretRef[];
  /** Every envFrom Secret of a running Datadog container, in pod and container order. */
  envFromSecretRefs: readonly EnvFromSecretRef[];
  /** The key holding `value` at namespace/secret/key, if any reader or writer names it. */
  heldKey(value: CopiedValue, namespace: string, secret: string, key: string): HeldKey | undefined;
  /** Every ExternalSecret whose target is namespace/secret. */
  writersOf(namespace: string, secret: string): readonly ExternalSecret[];
  lookup(namespace: string, secret: string): SecretLookup | undefined;
  /** Deployments, DaemonSets and StatefulSets by `Kind/namespace/name`. */
  workloads: WorkloadIndex;
  /** This run's copy record (record.ts), computed on first use. */
  record(): CopyRecordSet;
}

const NONE: readonly never[] = Object.freeze([]);

/** The copy model; a check reading it lists it in its `models`. */
export const COPY_MODEL = snapshotModel('copies', (snapshot) => computeModel(snapshot));

/** The model of one snapshot, computed on first use and shared by every check. */
export function copyModel(snapshot: ClusterSnapshot): SecretCopyModel {
  return COPY_MODEL.get(snapshot);
}

/** The copies of one Secret key (one per writer and value), by index. */
export function copiesOf(
  snapshot: ClusterSnapshot,
  namespace: string,
  secret: string,
  key: string,
): SecretCopy[] {
  const model = copyModel(snapshot);
  const out: SecretCopy[] = [];
  for (const v of COPIED_VALUES) {
    const k = model.heldKey(v, namespace, secret, key);
    if (k) out.push(...k.copies);
  }
  return out;
}

/**
 * Every Secret key holding the Cluster Agent token, sorted by namespace/secret/key. Callers get
 * their own array; the entries are shared and must not be changed.
 */
export function tokenKeys(snapshot: ClusterSnapshot): HeldKey[] {
  return [...copyModel(snapshot).keys.token];
}

/** The Cluster Agent's token key(s): keys read by a Cluster Agent container. */
export function clusterAgentKeys(keys: readonly HeldKey[]): HeldKey[] {
  return keys.filter((k) => k.users.some((u) => u.role === 'cluster-agent'));
}

/**
 * ExternalSecrets that feed the token: those mapping the configured Secrets Manager secret and
 * those writing a Secret an agent reads the token from. Sorted by namespace/name.
 */
export function tokenExternalSecrets(keys: readonly HeldKey[]): ExternalSecret[] {
  const out = new Set<ExternalSecret>();
  for (const k of keys) {
    for (const m of k.mappings) out.add(m.es);
    if (k.users.length > 0) for (const w of k.writers) out.add(w);
  }
  return [...out].sort((a, b) =>
    `${a.meta.namespace}/${a.meta.name}`.localeCompare(`${b.meta.namespace}/${b.meta.name}`),
  );
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
    for (const v of COPIED_VALUES) {
      const name = VALUE_ENV[v];
      let read = false;
      for (const list of [spec.initContainers, spec.containers]) {
        for (const c of list) {
          const ref = envRefOf(c, name, namespace, lookupOf);
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

  // The Secret references of running containers, for the checks that resolve them.
  const envSecretRefs: EnvSecretRef[] = [];
  const envFromSecretRefs: EnvFromSecretRef[] = [];
  const covered = new Set<Workload>();
  for (const pod of itemsOf(snapshot.kube.pods)) {
    if (!isLivePod(pod)) continue;
    const namespace = pod.meta.namespace ?? '';
    const workload = ownerWorkload(pod, workloads);
    if (workload) covered.add(workload);
    readSpec(pod.spec, pod.meta.labels, namespace, pod, workload);
    for (const container of [...pod.spec.initContainers, ...pod.spec.containers]) {
      for (const env of container.env) {
        if (!env.secretKeyRef || !env.name.startsWith('DD_')) continue;
        envSecretRefs.push({
          pod,
          container,
          env: env as EnvSecretRef['env'],
          resolved: envRefOf(container, env.name, namespace, lookupOf),
        });
      }
      if (!isDatadogContainer(container)) continue;
      for (const f of container.envFrom) {
        if (f.secretRef) envFromSecretRefs.push({ pod, container, secretRef: f.secretRef });
      }
    }
  }
  // Workload templates count only when none of their pods runs (the pods already show the wiring).
  for (const w of workloads.values()) {
    if (covered.has(w)) continue;
    readSpec(w.template.spec, w.template.meta.labels, w.meta.namespace ?? '', undefined, w);
  }

  const operatorWrites = (dda: DatadogAgent, e: HeldKey) => {
    const { value, namespace, secret, key } = e;
    e.operator = { kind: 'Operator', datadogAgent: dda, value, namespace, secret, key };
  };
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
      if (ref.source !== 'secret') operatorWrites(dda, e);
    }
    // Its node agents, Cluster Agent and cluster checks runners read spec.global.credentials.
    for (const k of operatorKeyRefs(dda)) {
      const u = reader(undefined, undefined, namespace, undefined, 'agent', 'datadogagent');
      u.datadogAgent = dda;
      u.field = OPERATOR_FIELD[k.kind][k.source];
      const e = entry(k.kind, k.namespace, k.secret, k.key);
      addUser(e, u);
      if (k.source === 'literal') operatorWrites(dda, e);
    }
  }

  for (const m of tokenMappings(snapshot)) {
    const e = entry('token', m.namespace, m.target, m.secretKey);
    e.mappings = append(e.mappings, m);
  }
  const copies = externalSecretCopies(snapshot);
  for (const c of copies) {
    const e = entry(c.value, c.namespace, c.secret, c.key);
    e.copies = append(e.copies, c);
  }
  const pushes = pushWriters(snapshot);

  const collator = new Intl.Collator();
  const ids = new Map(all.map((e) => [e, `${e.namespace}/${e.secret}/${e.key}`]));
  const sorted = all.sort((a, b) => collator.compare(ids.get(a)!, ids.get(b)!));
  ids.clear();
  const keys: Record<CopiedValue, HeldKey[]> = { token: [], 'api-key': [], 'app-key': [] };
  for (const e of sorted) keys[e.value].push(e);
  let record: CopyRecordSet | undefined;
  const model: SecretCopyModel = {
    keys,
    copies,
    pushes,
    envSecretRefs,
    envFromSecretRefs,
    heldKey: (value, namespace, secret, key) =>
      bySecret.get(`${namespace}/${secret}`)?.keys.find((k) => k.value === value && k.key === key),
    writersOf: (namespace, secret) => bySecret.get(`${namespace}/${secret}`)?.writers ?? NONE,
    lookup: lookupOf,
    workloads,
    record: () => (record ??= computeRecord(snapshot, model)),
  };
  return model;
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

/**
 * This run's record: one entry per Secret key holding (or read as) the token or a Datadog key.
 * Take it before the checks run: the runner releases the copy model after its last reader.
 */
export function copyRecord(snapshot: ClusterSnapshot): CopyRecordSet {
  return copyModel(snapshot).record();
}
