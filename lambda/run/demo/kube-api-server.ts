/**
 * A local Kubernetes API server for tests, the CLI demo and the benchmark: HTTPS with a CA made
 * per start, bearer-token auth, discovery, cluster-wide and namespaced lists with `limit` /
 * `continue` paging, gets, label selectors, and fault injection per path. It serves the objects
 * of the manifests it is given the way the real API server would (list kinds, resourceVersions,
 * uids, Secrets' `stringData` folded into base64 `data`), so the real @kubernetes/client-node can
 * talk to it. No jest globals here: non-test code imports it too.
 */
import { createHash, randomBytes, webcrypto, type webcrypto as WebCrypto } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { stringify } from 'yaml';
import { convertRole, convertRoleBinding } from '../../collect/kube/convert.js';
import type { Raw } from '../../collect/kube/raw.js';
import { RbacIndex } from '../../snapshot/rbac/evaluator.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export interface FaultMatch {
  /** Exact request path, e.g. `/api/v1/pods`. */
  path?: string;
  /** Path prefix, e.g. `/apis/external-secrets.io/`. */
  prefix?: string;
  regex?: RegExp;
  method?: string;
  /** Query parameters that must be present: a string must equal, `true` only needs presence. */
  query?: Record<string, string | true>;
}

export interface Fault extends FaultMatch {
  /** Apply to this many matching requests, then stop; unlimited when absent. */
  times?: number;
  /** Wait this long before answering (then answer normally unless another effect is set). */
  delayMs?: number;
  /** Answer with this status; the body defaults to a Kubernetes Status object for it. */
  status?: number;
  /** Body for `status`: an object is sent as JSON, a string as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer 200 with a body that is not JSON. */
  malformedJson?: boolean;
  /** Send the headers and half the body, announcing the full length, then cut the connection. */
  truncate?: boolean;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /**
   * Never answer: hold the request open until the client gives up (aborts) or the server closes,
   * so a timeout test depends on no race between a delay and the machine's speed.
   */
  hang?: boolean;
  /** Called when a `hang` fault holds a request (it has been recorded, status 0). */
  onHeld?: () => void;
  /** Answer normally, but pad the first object with an annotation of this many bytes. */
  padBytes?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Status sent; 0 while unanswered or when the connection was reset without an answer. */
  status: number;
}

export interface KubeconfigOptions {
  context?: string;
  cluster?: string;
  user?: string;
  token?: string;
  /** CA to trust instead of this server's (for TLS failure tests). */
  caData?: string;
}

export interface TestApiServerOptions {
  manifests: Raw[];
  /** Accepted bearer token; random when absent. */
  token?: string;
  /** Added to every request (benchmark). */
  latencyMs?: number;
  /** CRD group versions installed even without objects, e.g. `external-secrets.io/v1`. */
  crds?: string[];
  /**
   * CustomResourceDefinitions (a vendor's own, unchanged) installed as they say: each kind is
   * served at the versions its CRD marks `served: true` (any other version of the resource is a
   * 404), with its plural and scope. Objects of these kinds are served at every served version.
   */
  customResourceDefinitions?: Raw[];
  /** Serve a certificate from a different CA than `caPem` (TLS failure tests). */
  certFromOtherCa?: boolean;
  /**
   * How SubjectAccessReviews are answered: `rbac` (default) evaluates the served RBAC objects,
   * `forbidden` refuses to create them (an auditor without that permission), or a function.
   */
  accessReviews?: 'rbac' | 'forbidden' | ((spec: Raw) => { allowed: boolean; reason?: string });
  /** Accepts bearer tokens besides `token`, the way a webhook authenticator would (EKS tokens). */
  authenticate?: (bearer: string) => boolean;
}

export const SUBJECT_ACCESS_REVIEWS_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export interface TestApiServer {
  url: string;
  caPem: string;
  /** base64 of caPem, as EKS DescribeCluster gives `certificateAuthority.data`. */
  caData: string;
  token: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far (connection reuse tests). */
  readonly connections: number;
  inject(fault: Fault): void;
  clearFaults(): void;
  setToken(t: string): void;
  /** Invalidates every continue token issued so far: their next use gets 410 Expired. */
  expireContinueTokens(): void;
  kubeconfig(opts?: KubeconfigOptions): string;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Resource tables
// ---------------------------------------------------------------------------------------------

interface ResourceInfo {
  group: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  /** Only these versions serve the resource (from its CRD); every version of the group when absent. */
  servedVersions?: string[];
}

const BUILTIN_RESOURCES: ResourceInfo[] = [
  { group: '', kind: 'Namespace', resource: 'namespaces', namespaced: false },
  { group: '', kind: 'Node', resource: 'nodes', namespaced: false },
  { group: '', kind: 'Pod', resource: 'pods', namespaced: true },
  { group: '', kind: 'Service', resource: 'services', namespaced: true },
  { group: '', kind: 'Endpoints', resource: 'endpoints', namespaced: true },
  { group: '', kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true },
  { group: '', kind: 'Secret', resource: 'secrets', namespaced: true },
  { group: '', kind: 'ConfigMap', resource: 'configmaps', namespaced: true },
  { group: 'apps', kind: 'Deployment', resource: 'deployments', namespaced: true },
  { group: 'apps', kind: 'DaemonSet', resource: 'daemonsets', namespaced: true },
  { group: 'apps', kind: 'StatefulSet', resource: 'statefulsets', namespaced: true },
  { group: 'apps', kind: 'ReplicaSet', resource: 'replicasets', namespaced: true },
  {
    group: 'discovery.k8s.io',
    kind: 'EndpointSlice',
    resource: 'endpointslices',
    namespaced: true,
  },
  {
    group: 'rbac.authorization.k8s.io',
    kind: 'ClusterRole',
    resource: 'clusterroles',
    namespaced: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    kind: 'ClusterRoleBinding',
    resource: 'clusterrolebindings',
    namespaced: false,
  },
  { group: 'rbac.authorization.k8s.io', kind: 'Role', resource: 'roles', namespaced: true },
  {
    group: 'admissionregistration.k8s.io',
    kind: 'MutatingWebhookConfiguration',
    resource: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    kind: 'RoleBinding',
    resource: 'rolebindings',
    namespaced: true,
  },
];

const BUILTIN_GROUPS = new Map<string, string>([
  ['', 'v1'],
  ['apps', 'v1'],
  ['discovery.k8s.io', 'v1'],
  ['rbac.authorization.k8s.io', 'v1'],
  ['admissionregistration.k8s.io', 'v1'],
]);

/** Resources of CRD groups this project reads, so `crds: ['external-secrets.io/v1']` suffices. */
const KNOWN_CRD_RESOURCES: ResourceInfo[] = [
  {
    group: 'external-secrets.io',
    kind: 'ExternalSecret',
    resource: 'externalsecrets',
    namespaced: true,
  },
  { group: 'external-secrets.io', kind: 'SecretStore', resource: 'secretstores', namespaced: true },
  {
    group: 'external-secrets.io',
    kind: 'ClusterSecretStore',
    resource: 'clustersecretstores',
    namespaced: false,
  },
  {
    group: 'external-secrets.io',
    kind: 'ClusterExternalSecret',
    resource: 'clusterexternalsecrets',
    namespaced: false,
  },
  { group: 'external-secrets.io', kind: 'PushSecret', resource: 'pushsecrets', namespaced: true },
  {
    group: 'external-secrets.io',
    kind: 'ClusterPushSecret',
    resource: 'clusterpushsecrets',
    namespaced: false,
  },
  {
    group: 'vpcresources.k8s.aws',
    kind: 'SecurityGroupPolicy',
    resource: 'securitygrouppolicies',
    namespaced: true,
  },
  { group: 'datadoghq.com', kind: 'DatadogAgent', resource: 'datadogagents', namespaced: true },
];

function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(lower)) return `${lower}es`;
  return `${lower}s`;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function resourceFor(group: string, kind: string): ResourceInfo {
  return (
    [...BUILTIN_RESOURCES, ...KNOWN_CRD_RESOURCES].find(
      (r) => r.group === group && r.kind === kind,
    ) ?? { group, kind, resource: pluralOf(kind), namespaced: !kind.startsWith('Cluster') }
  );
}

// ---------------------------------------------------------------------------------------------
// Status bodies
// ---------------------------------------------------------------------------------------------

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function statusBody(code: number, message?: string, reason?: string): Raw {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: message ?? REASONS[code] ?? `HTTP ${code}`,
    reason: reason ?? REASONS[code] ?? 'Unknown',
    code,
  };
}

// ---------------------------------------------------------------------------------------------
// Label and field selectors
// ---------------------------------------------------------------------------------------------

type Requirement = (labels: Record<string, string>) => boolean;

/** Parses the label selector grammar the API server accepts (equality- and set-based). */
export function parseLabelSelector(selector: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p): Requirement => {
      let m = p.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/);
      if (m) {
        const [, key, op, list] = m as unknown as [string, string, string, string];
        const values = list
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
        return op === 'in'
          ? (l) => key in l && values.includes(l[key]!)
          : (l) => !(key in l) || !values.includes(l[key]!);
      }
      m = p.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/);
      if (m) {
        const [, key, op, value] = m as unknown as [string, string, string, string];
        return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
      }
      if (p.startsWith('!')) {
        const key = p.slice(1).trim();
        return (l) => !(key in l);
      }
      if (/^[^\s=!(),]+$/.test(p)) return (l) => p in l;
      throw new Error(`unable to parse requirement: ${p}`);
    });
}

function fieldValue(obj: Raw, path: string): string | undefined {
  let v: Raw = obj;
  for (const part of path.split('.')) v = v?.[part];
  return v === undefined || v === null ? undefined : String(v);
}

function parseFieldSelector(selector: string): ((obj: Raw) => boolean)[] {
  return selector
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const m = p.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
      if (!m) throw new Error(`invalid field selector: ${p}`);
      const [, path, op, value] = m as unknown as [string, string, string, string];
      return op === '!='
        ? (o: Raw) => fieldValue(o, path) !== value
        : (o: Raw) => fieldValue(o, path) === value;
    });
}

// ---------------------------------------------------------------------------------------------
// TLS material
// ---------------------------------------------------------------------------------------------

/**
 * @peculiar/x509 resolves its services through tsyringe, which insists on a Reflect metadata
 * polyfill. This minimal one (what reflect-metadata provides, nothing more) saves a dependency;
 * it must be installed before the library is first imported, hence the dynamic import below.
 */
function ensureReflectMetadata(): void {
  const R = Reflect as unknown as Record<string, unknown>;
  if (typeof R.getMetadata === 'function') return;
  const store = new WeakMap<object, Map<unknown, Map<unknown, unknown>>>();
  const own = (target: object, prop: unknown, create: boolean) => {
    let byProp = store.get(target);
    if (!byProp && create) store.set(target, (byProp = new Map()));
    let byKey = byProp?.get(prop);
    if (!byKey && create) byProp!.set(prop, (byKey = new Map()));
    return byKey;
  };
  const getOwn = (key: unknown, target: object, prop?: unknown) =>
    own(target, prop, false)?.get(key);
  const get = (key: unknown, target: object, prop?: unknown): unknown => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const m = own(t, prop, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  const define = (key: unknown, value: unknown, target: object, prop?: unknown) => {
    own(target, prop, true)!.set(key, value);
  };
  Object.assign(R, {
    defineMetadata: define,
    getOwnMetadata: getOwn,
    getMetadata: get,
    hasOwnMetadata: (k: unknown, t: object, p?: unknown) => own(t, p, false)?.has(k) ?? false,
    hasMetadata: (k: unknown, t: object, p?: unknown) => get(k, t, p) !== undefined,
    metadata: (k: unknown, v: unknown) => (t: object, p?: unknown) => define(k, v, t, p),
  });
}

let x509Module: Promise<typeof X509> | undefined;
function loadX509(): Promise<typeof X509> {
  ensureReflectMetadata();
  x509Module ??= import('@peculiar/x509');
  return x509Module;
}

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

interface Ca {
  cert: X509.X509Certificate;
  keys: WebCrypto.CryptoKeyPair;
}

function generateKeys(): Promise<WebCrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_ALG, true, [
    'sign',
    'verify',
  ]) as Promise<WebCrypto.CryptoKeyPair>;
}

async function createCa(name: string): Promise<Ca> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `CN=${name}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 24 * 3600_000),
    signingAlgorithm: SIGN_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function createServerCert(ca: Ca): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: 'CN=kube-apiserver',
    issuer: ca.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 24 * 3600_000),
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem'), keyPem: pem('PRIVATE KEY', pkcs8) };
}

/** A fresh CA and a server certificate for 127.0.0.1/localhost it signed, for other test servers. */
export async function testTlsMaterial(
  name = 'test-ca',
): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const ca = await createCa(name);
  return { caPem: ca.cert.toString('pem'), ...(await createServerCert(ca)) };
}

// ---------------------------------------------------------------------------------------------
// Object store
// ---------------------------------------------------------------------------------------------

interface StoredObject {
  /** `namespace/name` or `name`: the order the real server lists in (etcd key order). */
  key: string;
  namespace?: string;
  name: string;
  obj: Raw;
  /** Cached JSON of the object as a list item. */
  listJson?: string;
}

class Store {
  /** `group/resource` -> objects sorted by key. */
  readonly objects = new Map<string, StoredObject[]>();
  readonly resources = new Map<string, ResourceInfo>();
  /** group -> served versions. */
  readonly versions = new Map<string, Set<string>>();
  resourceVersion = 1000;

  /** `group/resource` of the kinds installed from a CustomResourceDefinition. */
  private readonly fromCrd = new Set<string>();

  constructor(manifests: Raw[], crds: string[], createdAt: string, definitions: Raw[] = []) {
    for (const [group, version] of BUILTIN_GROUPS) this.versions.set(group, new Set([version]));
    for (const r of BUILTIN_RESOURCES) this.resources.set(`${r.group}/${r.resource}`, r);
    for (const crd of definitions) this.install(crd);
    for (const gv of crds) {
      const { group, version } = splitApiVersion(gv);
      this.serve(group, version);
      for (const r of KNOWN_CRD_RESOURCES.filter((k) => k.group === group)) this.known(r);
    }
    for (const m of manifests) this.add(m, createdAt);
    for (const list of this.objects.values()) {
      list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
  }

  /** A kind of a group this project reads, unless a CRD installed it as the CRD says. */
  private known(r: ResourceInfo): void {
    const key = `${r.group}/${r.resource}`;
    if (!this.fromCrd.has(key)) this.resources.set(key, r);
  }

  /** Installs a CustomResourceDefinition (`apiextensions.k8s.io/v1`) as the API server would. */
  private install(crd: Raw): void {
    const spec = crd?.spec ?? {};
    const group = String(spec.group ?? '');
    const served = (Array.isArray(spec.versions) ? spec.versions : [])
      .filter((v: Raw) => v?.served === true)
      .map((v: Raw) => String(v.name));
    if (!group || !spec.names?.plural || served.length === 0) {
      throw new Error(
        `test API server: not a CustomResourceDefinition it can serve: ${crd?.metadata?.name}`,
      );
    }
    let set = this.versions.get(group);
    if (!set) this.versions.set(group, (set = new Set()));
    for (const v of served) set.add(v);
    const r: ResourceInfo = {
      group,
      kind: String(spec.names.kind),
      resource: String(spec.names.plural),
      namespaced: spec.scope === 'Namespaced',
      servedVersions: served,
    };
    this.fromCrd.add(`${group}/${r.resource}`);
    this.resources.set(`${group}/${r.resource}`, r);
  }

  private serve(group: string, version: string): void {
    let set = this.versions.get(group);
    if (!set) {
      set = new Set();
      this.versions.set(group, set);
    }
    set.add(version);
    // ESO installs PushSecret at v1alpha1 beside its v1 kinds.
    if (group === 'external-secrets.io') set.add('v1alpha1');
  }

  private add(manifest: Raw, createdAt: string): void {
    if (!manifest || typeof manifest !== 'object' || !manifest.kind) return;
    if (manifest.kind === 'List' && Array.isArray(manifest.items)) {
      for (const item of manifest.items) this.add(item, createdAt);
      return;
    }
    const obj = structuredClone(manifest);
    const { group, version } = splitApiVersion(String(obj.apiVersion ?? 'v1'));
    const installed = [...this.resources.values()].find(
      (r) => r.group === group && r.kind === obj.kind && r.servedVersions,
    );
    if (installed && !installed.servedVersions!.includes(version)) {
      throw new Error(
        `test API server: ${obj.kind} ${String(obj.metadata?.name)} is ${group}/${version}, which its CustomResourceDefinition does not serve (${installed.servedVersions!.join(', ')})`,
      );
    }
    if (!installed && [...this.fromCrd].some((k) => k.startsWith(`${group}/`))) {
      throw new Error(
        `test API server: no CustomResourceDefinition installs ${obj.kind} (${group}/${version})`,
      );
    }
    if (!BUILTIN_GROUPS.has(group) && !installed) {
      this.serve(group, version);
      // A CRD group comes with all its kinds installed (ESO brings ExternalSecret and the stores).
      for (const r of KNOWN_CRD_RESOURCES.filter((k) => k.group === group)) this.known(r);
    }
    const info = installed ?? resourceFor(group, String(obj.kind));
    const rkey = `${group}/${info.resource}`;
    this.resources.set(rkey, info);
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (info.namespaced) meta.namespace ??= 'default';
    else delete meta.namespace;
    const name = String(meta.name ?? '');
    const key = info.namespaced ? `${meta.namespace}/${name}` : name;
    this.resourceVersion += 1;
    meta.resourceVersion ??= String(this.resourceVersion);
    meta.uid ??= uuidFrom(`${rkey}/${key}`);
    meta.creationTimestamp ??= createdAt;
    if (info.kind === 'Secret' && group === '') foldStringData(obj);
    let list = this.objects.get(rkey);
    if (!list) {
      list = [];
      this.objects.set(rkey, list);
    }
    list.push({ key, name, obj, ...(info.namespaced ? { namespace: meta.namespace } : {}) });
  }

  resourcesOf(group: string, version: string): ResourceInfo[] {
    return [...this.resources.values()].filter(
      (r) => r.group === group && (!r.servedVersions || r.servedVersions.includes(version)),
    );
  }
}

/** What the API server does with `stringData`: merge it into `data` as base64, drop it. */
function foldStringData(secret: Raw): void {
  secret.type ??= 'Opaque';
  if (secret.stringData && typeof secret.stringData === 'object') {
    secret.data ??= {};
    for (const [k, v] of Object.entries(secret.stringData as Record<string, unknown>)) {
      secret.data[k] = Buffer.from(String(v ?? ''), 'utf8').toString('base64');
    }
  }
  delete secret.stringData;
}

function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

interface ActiveFault extends Fault {
  remaining: number;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export async function startTestApiServer(opts: TestApiServerOptions): Promise<TestApiServer> {
  const ca = await createCa('test-kube-ca');
  const signer = opts.certFromOtherCa ? await createCa('some-other-ca') : ca;
  const { certPem, keyPem } = await createServerCert(signer);
  const caPem = ca.cert.toString('pem');
  const caData = Buffer.from(caPem, 'utf8').toString('base64');
  const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
  const store = new Store(
    opts.manifests,
    opts.crds ?? [],
    createdAt,
    opts.customResourceDefinitions,
  );

  let token = opts.token ?? `test-token-${randomBytes(12).toString('hex')}`;
  const faults: ActiveFault[] = [];
  const requests: RecordedRequest[] = [];
  const continueTokens = new Set<string>();
  const sockets = new Set<Socket>();
  // Delayed answers still pending at close() are dropped, so they do not hold the process open.
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const server: Server = createServer({ key: keyPem, cert: certPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        send(res, { status: 500, body: statusBody(500, `test server error: ${String(err)}`) });
      } else res.destroy();
    });
  });
  let connections = 0;
  server.on('connection', (s: Socket) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // Sockets that fail TLS (certificate tests) must not crash the process.
  server.on('tlsClientError', () => undefined);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;

  function send(res: ServerResponse, reply: Reply): void {
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const bytes = Buffer.from(text, 'utf8');
    res.writeHead(reply.status, {
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      'audit-id': randomBytes(8).toString('hex'),
      ...reply.headers,
    });
    res.end(bytes);
  }

  function matches(f: Fault, method: string, path: string, query: Record<string, string>) {
    if (f.method && f.method.toUpperCase() !== method) return false;
    if (f.path !== undefined && f.path !== path) return false;
    if (f.prefix !== undefined && !path.startsWith(f.prefix)) return false;
    if (f.regex && !f.regex.test(path)) return false;
    for (const [k, v] of Object.entries(f.query ?? {})) {
      if (!(k in query)) return false;
      if (v !== true && query[k] !== v) return false;
    }
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', url);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = parsed.pathname;
    const query = Object.fromEntries(parsed.searchParams.entries());
    // Recorded on arrival, in arrival order; the status is filled in when the answer goes out.
    const entry: RecordedRequest = { method, path, query, status: 0 };
    requests.push(entry);
    const record = (status: number) => {
      entry.status = status;
    };

    if (opts.latencyMs) await sleep(opts.latencyMs);

    const fault = faults.find((f) => f.remaining > 0 && matches(f, method, path, query));
    if (fault) fault.remaining -= 1;
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.reset) {
      record(0);
      req.socket.destroy();
      return;
    }
    if (fault?.hang) {
      record(0);
      await new Promise<void>((resolve) => {
        req.socket.once('close', () => resolve());
        fault.onHeld?.();
      });
      return;
    }
    if (fault?.status) {
      record(fault.status);
      send(res, {
        status: fault.status,
        body: fault.body ?? statusBody(fault.status),
        ...(fault.headers ? { headers: fault.headers } : {}),
      });
      return;
    }
    if (fault?.malformedJson) {
      record(200);
      send(res, { status: 200, body: '{"kind":"List","items":[{"metadata":', headers: {} });
      return;
    }

    const auth = req.headers.authorization ?? '';
    const accepted =
      auth === `Bearer ${token}` ||
      (opts.authenticate !== undefined &&
        auth.startsWith('Bearer ') &&
        opts.authenticate(auth.slice('Bearer '.length)));
    if (!accepted) {
      record(401);
      send(res, { status: 401, body: statusBody(401, 'Unauthorized') });
      return;
    }

    const reply =
      method === 'POST' && path === SUBJECT_ACCESS_REVIEWS_PATH
        ? reviewReply(await readJson(req))
        : route(method, path, query);
    if (fault?.padBytes && reply.status === 200) pad(reply, fault.padBytes);
    if (fault?.headers) reply.headers = { ...reply.headers, ...fault.headers };
    if (fault?.truncate) {
      record(reply.status);
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      const bytes = Buffer.from(text, 'utf8');
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'content-length': String(bytes.length),
      });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
        res.socket?.destroy();
      });
      return;
    }
    record(reply.status);
    send(res, reply);
  }

  let rbac: RbacIndex | undefined;
  function reviewReply(body: Raw): Reply {
    const mode = opts.accessReviews ?? 'rbac';
    if (mode === 'forbidden') {
      return {
        status: 403,
        body: statusBody(
          403,
          'subjectaccessreviews.authorization.k8s.io is forbidden',
          'Forbidden',
        ),
      };
    }
    const spec = body?.spec ?? {};
    let answer: { allowed: boolean; reason?: string };
    if (typeof mode === 'function') answer = mode(spec);
    else {
      const user = String(spec.user ?? '');
      const m = user.match(/^system:serviceaccount:([^:]+):(.+)$/);
      const attrs = spec.resourceAttributes ?? {};
      rbac ??= new RbacIndex({
        clusterRoles: opts.manifests
          .filter((d) => d?.kind === 'ClusterRole')
          .map((d) => convertRole('ClusterRole', d)),
        roles: opts.manifests.filter((d) => d?.kind === 'Role').map((d) => convertRole('Role', d)),
        clusterRoleBindings: opts.manifests
          .filter((d) => d?.kind === 'ClusterRoleBinding')
          .map((d) => convertRoleBinding('ClusterRoleBinding', d)),
        roleBindings: opts.manifests
          .filter((d) => d?.kind === 'RoleBinding')
          .map((d) => convertRoleBinding('RoleBinding', d)),
      });
      const allowed = m
        ? rbac.permissionsOf({ namespace: m[1]!, name: m[2]! }).allows({
            verb: String(attrs.verb ?? ''),
            group: String(attrs.group ?? ''),
            resource: String(attrs.resource ?? ''),
            ...(attrs.subresource ? { subresource: String(attrs.subresource) } : {}),
            ...(attrs.namespace ? { namespace: String(attrs.namespace) } : {}),
            ...(attrs.name ? { name: String(attrs.name) } : {}),
          })
        : false;
      answer = { allowed, ...(allowed ? { reason: 'RBAC: allowed by the served bindings' } : {}) };
    }
    return {
      status: 201,
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec,
        status: answer,
      },
    };
  }

  function pad(reply: Reply, bytes: number): void {
    // A deep copy: the stored objects must stay as they are for later requests.
    const body: Raw = JSON.parse(
      typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body),
    );
    reply.body = body;
    const target = Array.isArray(body?.items) ? body.items[0] : body;
    if (!target || typeof target !== 'object') return;
    target.metadata ??= {};
    target.metadata.annotations = {
      ...target.metadata.annotations,
      'test.invalid/padding': 'x'.repeat(bytes),
    };
  }

  function route(method: string, path: string, query: Record<string, string>): Reply {
    if (method !== 'GET') {
      return {
        status: 405,
        body: statusBody(405, `the test API server only serves GET, not ${method}`),
      };
    }
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const notFound = (): Reply => ({
      status: 404,
      body: statusBody(404, 'the server could not find the requested resource'),
    });
    if (parts.length === 1 && parts[0] === 'version') {
      return {
        status: 200,
        body: { major: '1', minor: '31', gitVersion: 'v1.31.0-test', platform: 'linux/amd64' },
      };
    }
    if (parts[0] === 'api') {
      if (parts.length === 1) {
        return {
          status: 200,
          body: {
            kind: 'APIVersions',
            versions: ['v1'],
            serverAddressByClientCIDRs: [
              { clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` },
            ],
          },
        };
      }
      if (parts[1] !== 'v1') return notFound();
      return routeGroupVersion('', 'v1', parts.slice(2), query);
    }
    if (parts[0] === 'apis') {
      if (parts.length === 1) {
        return {
          status: 200,
          body: {
            kind: 'APIGroupList',
            apiVersion: 'v1',
            groups: [...store.versions.keys()].filter((g) => g !== '').map(apiGroup),
          },
        };
      }
      const group = parts[1]!;
      if (!store.versions.has(group) || group === '') return notFound();
      if (parts.length === 2) {
        return { status: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) } };
      }
      const version = parts[2]!;
      if (!store.versions.get(group)!.has(version)) return notFound();
      return routeGroupVersion(group, version, parts.slice(3), query);
    }
    return notFound();
  }

  function apiGroup(group: string) {
    const versions = [...store.versions.get(group)!].sort().reverse();
    const gv = (v: string) => ({ groupVersion: `${group}/${v}`, version: v });
    return { name: group, versions: versions.map(gv), preferredVersion: gv(versions[0]!) };
  }

  function routeGroupVersion(
    group: string,
    version: string,
    rest: string[],
    query: Record<string, string>,
  ): Reply {
    const apiVersion = group ? `${group}/${version}` : version;
    const notFound = (msg = 'the server could not find the requested resource'): Reply => ({
      status: 404,
      body: statusBody(404, msg),
    });
    if (rest.length === 0) {
      return {
        status: 200,
        body: {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: apiVersion,
          resources: store.resourcesOf(group, version).map((r) => ({
            name: r.resource,
            singularName: r.kind.toLowerCase(),
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: ['get', 'list', 'watch'],
          })),
        },
      };
    }
    let namespace: string | undefined;
    let resource: string;
    let name: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      resource = rest[2]!;
      name = rest[3];
      if (rest.length > 4) return notFound();
    } else {
      resource = rest[0]!;
      name = rest[1];
      if (rest.length > 2) return notFound();
    }
    const info = store.resources.get(`${group}/${resource}`);
    if (!info) return notFound();
    if (info.servedVersions && !info.servedVersions.includes(version)) return notFound();
    if (namespace !== undefined && !info.namespaced) return notFound();
    if (name !== undefined && info.namespaced && namespace === undefined) return notFound();
    const all = store.objects.get(`${group}/${resource}`) ?? [];
    const builtin = BUILTIN_GROUPS.has(group);

    const present = (o: StoredObject): Raw => ({ ...o.obj, apiVersion, kind: info.kind });

    if (name !== undefined) {
      const found = all.find((o) => o.name === name && o.namespace === namespace);
      if (!found) {
        const body = statusBody(404, `${resource} "${name}" not found`);
        body.details = { name, kind: resource, ...(group ? { group } : {}) };
        return { status: 404, body };
      }
      return { status: 200, body: present(found) };
    }

    let selected = namespace === undefined ? all : all.filter((o) => o.namespace === namespace);
    try {
      if (query.labelSelector) {
        const reqs = parseLabelSelector(query.labelSelector);
        selected = selected.filter((o) => {
          const labels = (o.obj.metadata?.labels ?? {}) as Record<string, string>;
          return reqs.every((r) => r(labels));
        });
      }
      if (query.fieldSelector) {
        const reqs = parseFieldSelector(query.fieldSelector);
        selected = selected.filter((o) => reqs.every((r) => r(o.obj)));
      }
    } catch (err) {
      return { status: 400, body: statusBody(400, (err as Error).message) };
    }

    let start = 0;
    if (query.continue) {
      if (!continueTokens.has(query.continue)) {
        return {
          status: 410,
          body: statusBody(
            410,
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
            'Expired',
          ),
        };
      }
      const after = decodeContinue(query.continue);
      start = selected.findIndex((o) => o.key > after);
      if (start < 0) start = selected.length;
    }
    const limit = query.limit ? Number(query.limit) : 0;
    const end = limit > 0 ? Math.min(start + limit, selected.length) : selected.length;
    const page = selected.slice(start, end);
    const metadata: Raw = { resourceVersion: String(store.resourceVersion) };
    if (end < selected.length) {
      const tok = encodeContinue(page[page.length - 1]!.key);
      continueTokens.add(tok);
      metadata.continue = tok;
      metadata.remainingItemCount = selected.length - end;
    }
    // Items are serialized once and spliced in as text: the benchmark lists tens of thousands of
    // objects and the server shares the event loop with the client under test.
    const items = page.map((o) => (builtin ? listItemJson(o) : JSON.stringify(present(o))));
    const head = JSON.stringify({ apiVersion, kind: `${info.kind}List`, metadata });
    return { status: 200, body: `${head.slice(0, -1)},"items":[${items.join(',')}]}` };
  }

  /** Built-in lists leave kind and apiVersion off their items, as the real server does. */
  function listItemJson(o: StoredObject): string {
    if (o.listJson === undefined) {
      const { apiVersion: _a, kind: _k, ...rest } = o.obj;
      o.listJson = JSON.stringify(rest);
    }
    return o.listJson;
  }

  function encodeContinue(lastKey: string): string {
    const nonce = randomBytes(6).toString('hex');
    return Buffer.from(JSON.stringify({ k: lastKey, n: nonce }), 'utf8').toString('base64url');
  }

  function decodeContinue(tok: string): string {
    return String(JSON.parse(Buffer.from(tok, 'base64url').toString('utf8')).k);
  }

  return {
    url,
    caPem,
    caData,
    get token() {
      return token;
    },
    requests,
    get connections() {
      return connections;
    },
    inject(fault: Fault) {
      faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults() {
      faults.length = 0;
    },
    setToken(t: string) {
      token = t;
    },
    expireContinueTokens() {
      continueTokens.clear();
    },
    kubeconfig(k: KubeconfigOptions = {}) {
      const context = k.context ?? 'test';
      const cluster = k.cluster ?? 'test-cluster';
      const user = k.user ?? 'test-user';
      return stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': context,
        clusters: [
          {
            name: cluster,
            cluster: { server: url, 'certificate-authority-data': k.caData ?? caData },
          },
        ],
        users: [{ name: user, user: { token: k.token ?? token } }],
        contexts: [{ name: context, context: { cluster, user } }],
      });
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
    },
  };
}

async function readJson(req: IncomingMessage): Promise<Raw> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return {};
  }
}
