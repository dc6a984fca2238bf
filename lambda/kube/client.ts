/**
 * The adapter over @kubernetes/client-node: the only file that imports it. It builds a
 * KubeConfig (EKS endpoint + CA + IAM token, or a kubeconfig file), calls the generated APIs and
 * turns every failure into a KubeApiError whose message names the cluster, the path and the status.
 *
 * Responses are parsed with JSON.parse in a per-request middleware and handed on as plain JSON;
 * the generated deserializer only sees `{}`. client-node's ObjectSerializer walks every field of
 * every model and copies each object: for a 10,000-pod list it added about 260 ms on top of the
 * 110 ms JSON.parse, tripling the client-side cost (measured on Node 22).
 * convert.ts reads plain JSON and client-node models alike.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  Observable,
  RbacAuthorizationV1Api,
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
} from '@kubernetes/client-node';
import { ConfigError, type KubernetesOptions } from '../config.js';
import type { Raw } from './convert.js';
import {
  KubeApiError,
  type AccessReviewAnswer,
  type AccessReviewRequest,
  type KubeKindSpec,
  type KubePort,
  type ListPage,
} from './port.js';

export type KubeAccess =
  | {
      kind: 'token';
      clusterName: string;
      /** API server endpoint (https). */
      server: string;
      /** base64 PEM of the cluster CA, as eks:DescribeCluster returns it. */
      caData: string;
      /** A valid bearer token; called before every request, so it may refresh. */
      token: () => Promise<string>;
      /** Called when the server rejected a token, before the caller retries once. */
      onUnauthorized?: () => void;
    }
  | { kind: 'kubeconfig'; clusterName: string; path?: string; context?: string };

/** A KubePort that holds a connection pool; close it when the audit of the cluster is done. */
export interface ClosableKubePort extends KubePort {
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// KubeConfig
// ---------------------------------------------------------------------------------------------

const AUDITOR_USER = 'eks-datadog-auditor';

/** Builds the KubeConfig for an access mode. Throws ConfigError naming the file/context to fix. */
export function loadKubeConfig(access: KubeAccess): KubeConfig {
  const kc = new KubeConfig();
  if (access.kind === 'token') {
    if (!/^https:\/\//.test(access.server)) {
      throw new ConfigError(
        `Cluster ${access.clusterName}: API endpoint ${access.server} is not https; the auditor only talks TLS to the API server.`,
      );
    }
    if (!access.caData) {
      throw new ConfigError(
        `Cluster ${access.clusterName}: no certificate authority data for ${access.server}; eks:DescribeCluster must return certificateAuthority.data.`,
      );
    }
    kc.loadFromOptions({
      clusters: [
        {
          name: access.clusterName,
          server: access.server,
          caData: access.caData,
          skipTLSVerify: false,
        },
      ],
      // The bearer token is applied per request by the middleware below, so it can refresh.
      users: [{ name: AUDITOR_USER }],
      contexts: [{ name: AUDITOR_USER, cluster: access.clusterName, user: AUDITOR_USER }],
      currentContext: AUDITOR_USER,
    });
    return kc;
  }

  const source = kubeconfigSource(access);
  try {
    if (access.path) kc.loadFromFile(access.path);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ConfigError(
      `Cannot read kubeconfig ${source}: ${(err as Error).message}. Fix the file or pass another with --kubeconfig.`,
    );
  }
  const contexts = kc.getContexts().map((c) => c.name);
  if (access.context) {
    if (!contexts.includes(access.context)) {
      throw new ConfigError(
        `Kubeconfig ${source} has no context "${access.context}" (it has: ${contexts.join(', ') || 'none'}). Pass one of those with --context.`,
      );
    }
    kc.setCurrentContext(access.context);
  } else if (!kc.getCurrentContext() || !contexts.includes(kc.getCurrentContext())) {
    throw new ConfigError(
      `Kubeconfig ${source} has no usable current-context. Pass --context (it has: ${contexts.join(', ') || 'none'}).`,
    );
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new ConfigError(
      `Kubeconfig ${source}: context "${context}" names no cluster with a server. Fix the context's cluster entry.`,
    );
  }
  if (cluster.skipTLSVerify || !cluster.server.startsWith('https://')) {
    throw new ConfigError(
      `Kubeconfig ${source}: context "${context}" turns TLS verification off or is not https (${cluster.server}); the auditor never skips verification. Set certificate-authority(-data) for cluster "${cluster.name}".`,
    );
  }
  return kc;
}

/** Which kubeconfig file(s) a kubeconfig access reads; throws when none exists. */
function kubeconfigSource(access: Extract<KubeAccess, { kind: 'kubeconfig' }>): string {
  if (access.path) {
    if (!existsSync(access.path)) {
      throw new ConfigError(
        `Kubeconfig ${access.path} does not exist. Pass an existing file with --kubeconfig.`,
      );
    }
    return access.path;
  }
  const env = process.env.KUBECONFIG;
  if (env) {
    const files = env.split(delimiter).filter(Boolean);
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length) {
      throw new ConfigError(
        `$KUBECONFIG names ${missing.join(', ')}, which does not exist. Fix $KUBECONFIG or pass --kubeconfig.`,
      );
    }
    return `$KUBECONFIG (${files.join(delimiter)})`;
  }
  const home = join(homedir(), '.kube', 'config');
  if (!existsSync(home)) {
    throw new ConfigError(
      `No kubeconfig found: ${home} does not exist and $KUBECONFIG is not set. Pass --kubeconfig FILE or set $KUBECONFIG.`,
    );
  }
  return home;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  410: 'Gone',
  429: 'TooManyRequests',
};

function codeForStatus(status: number): string {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'ServerError' : `HTTP${status}`);
}

function hintFor(code: string, verb: string, path: string, timeoutMs: number): string {
  switch (code) {
    case 'Unauthorized':
      return 'the credentials were rejected; check the auditor role’s EKS access entry or the kubeconfig user';
    case 'Forbidden':
      return `the auditor may not ${verb} ${path}; apply infra/kubernetes/auditor-rbac.yaml to grant it`;
    case 'TLS':
      return 'the server certificate does not verify against the cluster CA; verification is never skipped';
    case 'Timeout':
      return `no answer within ${timeoutMs} ms; check network access to the endpoint or raise kubernetes.requestTimeoutMs`;
    case 'Network':
      return 'check that the endpoint is reachable from where the auditor runs (private endpoint, security groups)';
    default:
      return '';
  }
}

const TLS_ERROR =
  /^(CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH|ERR_OSSL)/;

function errorChain(err: unknown): { name?: string; code?: string; message?: string }[] {
  const out: { name?: string; code?: string; message?: string }[] = [];
  let e: unknown = err;
  for (let i = 0; e && typeof e === 'object' && i < 5; i++) {
    const o = e as { name?: string; code?: unknown; message?: string; cause?: unknown };
    out.push({
      ...(o.name ? { name: o.name } : {}),
      ...(typeof o.code === 'string' ? { code: o.code } : {}),
      ...(o.message ? { message: o.message } : {}),
    });
    e = o.cause;
  }
  return out;
}

/** Control characters and length are stripped from server-provided text before it is shown. */
function sanitize(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date). */
function retryAfterSeconds(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

// ---------------------------------------------------------------------------------------------
// The port
// ---------------------------------------------------------------------------------------------

interface Apis {
  core: CoreV1Api;
  apps: AppsV1Api;
  rbac: RbacAuthorizationV1Api;
  discovery: DiscoveryV1Api;
  custom: CustomObjectsApi;
  authz: AuthorizationV1Api;
}

type ListParams = { limit: number; _continue?: string };
type Lister = (apis: Apis, p: ListParams, o: ConfigurationOptions) => Promise<unknown>;

/** Built-in kinds through their generated APIs, keyed `group/resource` (served at v1). */
const BUILTIN_LISTERS: Record<string, Lister> = {
  '/namespaces': (a, p, o) => a.core.listNamespace(p, o),
  '/nodes': (a, p, o) => a.core.listNode(p, o),
  '/pods': (a, p, o) => a.core.listPodForAllNamespaces(p, o),
  '/services': (a, p, o) => a.core.listServiceForAllNamespaces(p, o),
  '/serviceaccounts': (a, p, o) => a.core.listServiceAccountForAllNamespaces(p, o),
  '/endpoints': (a, p, o) => a.core.listEndpointsForAllNamespaces(p, o),
  'apps/deployments': (a, p, o) => a.apps.listDeploymentForAllNamespaces(p, o),
  'apps/daemonsets': (a, p, o) => a.apps.listDaemonSetForAllNamespaces(p, o),
  'apps/statefulsets': (a, p, o) => a.apps.listStatefulSetForAllNamespaces(p, o),
  'discovery.k8s.io/endpointslices': (a, p, o) =>
    a.discovery.listEndpointSliceForAllNamespaces(p, o),
  'rbac.authorization.k8s.io/clusterroles': (a, p, o) => a.rbac.listClusterRole(p, o),
  'rbac.authorization.k8s.io/clusterrolebindings': (a, p, o) => a.rbac.listClusterRoleBinding(p, o),
  'rbac.authorization.k8s.io/roles': (a, p, o) => a.rbac.listRoleForAllNamespaces(p, o),
  'rbac.authorization.k8s.io/rolebindings': (a, p, o) =>
    a.rbac.listRoleBindingForAllNamespaces(p, o),
};

/** What one request left behind for the caller: the parsed body, or what went wrong. */
interface Exchange {
  verb: 'list' | 'get' | 'create';
  path: string;
  json?: Raw;
  errorText?: string;
  headers?: Record<string, string>;
  failure?: KubeApiError;
}

const EMPTY_BODY = {
  text: async () => '{}',
  binary: async () => Buffer.from('{}'),
  stream: () => null,
};

export function createKubePort(access: KubeAccess, options: KubernetesOptions): ClosableKubePort {
  const kc = loadKubeConfig(access);
  const cluster = kc.getCurrentCluster()!;
  const timeoutMs = options.requestTimeoutMs;
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
  });
  const apis: Apis = {
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    rbac: new RbacAuthorizationV1Api(configuration),
    discovery: new DiscoveryV1Api(configuration),
    custom: new CustomObjectsApi(configuration),
    authz: new AuthorizationV1Api(configuration),
  };
  // KubeConfig builds a new connection pool (TLS handshake) for every request; the first one is
  // kept and reused, so a thousand secret GETs share a few connections.
  let dispatcher: unknown;
  const counters = { listPages: 0, gets: 0, reviews: 0 };

  const fail = (x: Exchange, status: number | undefined, code: string, detail: string) => {
    const hint = hintFor(code, x.verb, x.path, timeoutMs);
    return new KubeApiError(
      `Kubernetes API of cluster ${access.clusterName}: ${x.verb === 'create' ? 'POST' : 'GET'} ${x.path} failed: ${
        status ? `HTTP ${status} ` : ''
      }${code}${detail ? ` (${detail})` : ''}${hint ? `; ${hint}` : ''}`,
      status,
      code,
      code === 'TooManyRequests' ? retryAfterSeconds(x.headers?.['retry-after']) : undefined,
    );
  };

  /** Per-request middleware: timeout, fresh token, shared pool, and our own JSON parsing. */
  const middlewareFor = (x: Exchange): ObservableMiddleware => ({
    pre: (ctx: RequestContext) =>
      new Observable(
        (async () => {
          x.path = new URL(ctx.getUrl()).pathname;
          if (access.kind === 'token') {
            let token: string;
            try {
              token = await access.token();
            } catch (err) {
              // Not retried as a network error: without a token every request fails the same way.
              x.failure = fail(
                x,
                undefined,
                'Unauthorized',
                `could not get a token: ${sanitize((err as Error)?.message ?? String(err))}`,
              );
              throw x.failure;
            }
            ctx.setHeaderParam('Authorization', `Bearer ${token}`);
          }
          // Started after the token is in hand: the budget is for the API server alone.
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          if (dispatcher) ctx.setDispatcher(dispatcher as never);
          else dispatcher = ctx.getDispatcher();
          return ctx;
        })(),
      ),
    post: (rsp: ResponseContext) =>
      new Observable(
        (async () => {
          x.headers = rsp.headers;
          const text = await rsp.body.text();
          const status = rsp.httpStatusCode;
          if (status < 200 || status > 299) {
            x.errorText = text;
            return new ResponseContext(status, rsp.headers, {
              ...EMPTY_BODY,
              text: async () => text,
            });
          }
          try {
            x.json = JSON.parse(text);
          } catch (err) {
            x.failure = fail(x, status, 'BadResponse', `body is not JSON: ${(err as Error).name}`);
            throw x.failure;
          }
          if (!x.json || typeof x.json !== 'object') {
            x.failure = fail(x, status, 'BadResponse', 'body is not a JSON object');
            throw x.failure;
          }
          // The generated code refuses bodies without a JSON content type; ours is parsed already.
          return new ResponseContext(
            status,
            { ...rsp.headers, 'content-type': 'application/json' },
            EMPTY_BODY,
          );
        })(),
      ),
  });

  const toKubeError = (x: Exchange, err: unknown): KubeApiError => {
    if (x.failure) return x.failure;
    if (err instanceof KubeApiError) return err;
    if (err instanceof ApiException) {
      const status = err.code;
      let detail = '';
      try {
        const body = JSON.parse(x.errorText ?? '');
        if (body?.kind === 'Status') {
          const parts = [body.reason, body.message].filter((s) => typeof s === 'string' && s);
          detail = sanitize([...new Set(parts)].join(': '));
        }
      } catch {
        // Not a Status object: say nothing about the body rather than echo it.
      }
      if (status === 401 && access.kind === 'token') access.onUnauthorized?.();
      return fail(x, status, codeForStatus(status), detail);
    }
    const chain = errorChain(err);
    if (chain.some((c) => c.name === 'TimeoutError' || c.name === 'AbortError')) {
      return fail(x, undefined, 'Timeout', `no response within ${timeoutMs} ms`);
    }
    const tls = chain.find((c) => c.code && TLS_ERROR.test(c.code));
    if (tls) return fail(x, undefined, 'TLS', `${tls.code}`);
    if (chain.some((c) => c.name === 'SyntaxError')) {
      return fail(x, undefined, 'BadResponse', 'body is not JSON');
    }
    const net = chain.find((c) => c.code) ?? chain[chain.length - 1];
    return fail(x, undefined, 'Network', sanitize(net?.code ?? net?.message ?? 'request failed'));
  };

  async function call(
    verb: Exchange['verb'],
    path: string,
    run: (o: ConfigurationOptions) => Promise<unknown>,
  ) {
    const x: Exchange = { verb, path };
    try {
      await run({ middleware: [middlewareFor(x)], middlewareMergeStrategy: 'append' });
    } catch (err) {
      throw toKubeError(x, err);
    }
    if (!x.json) throw fail(x, undefined, 'BadResponse', 'no body');
    return x.json as Raw;
  }

  return {
    counters,

    async listPage(
      kind: KubeKindSpec,
      opts: { limit: number; continue?: string; version?: string },
    ): Promise<ListPage> {
      const version = opts.version ?? kind.version;
      const apiVersion = kind.group ? `${kind.group}/${version}` : version;
      const params: ListParams = {
        limit: opts.limit,
        ...(opts.continue ? { _continue: opts.continue } : {}),
      };
      const builtin = BUILTIN_LISTERS[`${kind.group}/${kind.resource}`];
      let run: (o: ConfigurationOptions) => Promise<unknown>;
      if (builtin && version === 'v1') run = (o) => builtin(apis, params, o);
      else if (kind.group) {
        const base = { group: kind.group, version, ...params };
        run = kind.namespaced
          ? (o) =>
              apis.custom.listCustomObjectForAllNamespaces(
                { ...base, resourcePlural: kind.resource },
                o,
              )
          : (o) => apis.custom.listClusterCustomObject({ ...base, plural: kind.resource }, o);
      } else {
        throw new Error(`no lister for core resource ${kind.resource} at ${version}`);
      }
      counters.listPages += 1;
      const body = await call(
        'list',
        `/${kind.group ? `apis/${apiVersion}` : 'api/v1'}/${kind.resource}`,
        run,
      );
      const cont = body.metadata?.continue ?? body.metadata?._continue;
      return {
        items: Array.isArray(body.items) ? body.items : [],
        ...(cont ? { continue: String(cont) } : {}),
        apiVersion: typeof body.apiVersion === 'string' ? body.apiVersion : apiVersion,
      };
    },

    async getSecret(namespace: string, name: string): Promise<Raw | null> {
      counters.gets += 1;
      try {
        return await call('get', `/api/v1/namespaces/${namespace}/secrets/${name}`, (o) =>
          apis.core.readNamespacedSecret({ namespace, name }, o),
        );
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return null;
        throw err;
      }
    },

    async reviewAccess(request: AccessReviewRequest): Promise<AccessReviewAnswer> {
      counters.reviews += 1;
      const body = await call('create', '/apis/authorization.k8s.io/v1/subjectaccessreviews', (o) =>
        apis.authz.createSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SubjectAccessReview',
              spec: {
                user: request.user,
                groups: request.groups,
                resourceAttributes: {
                  verb: request.verb,
                  group: request.group,
                  resource: request.resource,
                  ...(request.subresource ? { subresource: request.subresource } : {}),
                  ...(request.namespace ? { namespace: request.namespace } : {}),
                  ...(request.name ? { name: request.name } : {}),
                },
              },
            },
          },
          o,
        ),
      );
      const status = body.status ?? {};
      return {
        allowed: status.allowed === true,
        ...(status.denied === true ? { denied: true } : {}),
        ...(typeof status.reason === 'string' && status.reason
          ? { reason: sanitize(status.reason) }
          : {}),
        ...(typeof status.evaluationError === 'string' && status.evaluationError
          ? { evaluationError: sanitize(status.evaluationError) }
          : {}),
      };
    },

    async close() {
      const d = dispatcher as { close?: () => Promise<void> } | undefined;
      dispatcher = undefined;
      await d?.close?.();
    },
  };
}
