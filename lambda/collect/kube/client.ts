/**
 * The adapter over @kubernetes/client-node: the only file that imports it. It builds a
 * KubeConfig (EKS endpoint + CA + IAM token, or a kubeconfig file), sends the few requests the
 * auditor makes on the undici dispatcher KubeConfig prepares (client-node's own transport is
 * undici too) and turns every failure into a KubeApiError whose message names the cluster, the
 * path and the status.
 *
 * Responses are parsed with JSON.parse and handed on as plain JSON, never through client-node's
 * ObjectSerializer, which walks every field of every model and copies each object: for a
 * 10,000-pod list it added about 260 ms on top of the 110 ms JSON.parse (measured on Node 22).
 * convert.ts reads plain JSON and client-node models alike.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
// Deep imports: the package index also loads watch/exec/attach/port-forward and every generated
// API class with its models, none of which the auditor uses (see `call` below).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { ConfigError, type KubernetesOptions } from '../../config/config.js';
import type { Raw } from './raw.js';
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

/** What one request left behind for the caller: the parsed body, or what went wrong. */
interface Exchange {
  verb: 'list' | 'get' | 'create';
  path: string;
  headers?: Record<string, string>;
}

/** The API path of a cluster-wide list: `/api/v1/pods`, `/apis/apps/v1/deployments`. */
function listPath(kind: KubeKindSpec, version: string): string {
  return `/${kind.group ? `apis/${kind.group}` : 'api'}/${version}/${kind.resource}`;
}

/** The text of a Status object's reason and message, sanitised; '' for anything else. */
function statusDetail(text: string): string {
  try {
    const body = JSON.parse(text);
    if (body?.kind === 'Status') {
      const parts = [body.reason, body.message].filter((s) => typeof s === 'string' && s);
      return sanitize([...new Set(parts)].join(': '));
    }
  } catch {
    // Not a Status object: say nothing about the body rather than echo it.
  }
  return '';
}

/**
 * Starts one request's timeout: calls `expire` after `ms` unless the returned cancel runs first.
 * Tests inject their own, so that a timeout fires on the request they choose and never because the
 * machine is slow.
 */
export type RequestTimer = (
  ms: number,
  expire: () => void,
  request: { verb: 'list' | 'get' | 'create'; path: string },
) => () => void;

const realTimer: RequestTimer = (ms, expire) => {
  const t = setTimeout(expire, ms);
  return () => clearTimeout(t);
};

/**
 * Sends a request as KubeConfig prepared it (its headers, its TLS dispatcher, the signal) with the
 * dispatcher's own request API. client-node sends through undici's fetch, whose
 * WHATWG layer (Request, Headers, Response, a web stream per body) cost more CPU than the
 * connection under it: at 5,000 namespaces the collection took 1.7 s instead of 2.4 s without it.
 * Unlike fetch, it asks for no compression: the API server then sends list pages whole, and the
 * function (a seventh of a vCPU at 256 MB) does not inflate them.
 */
async function send(
  ctx: RequestContext,
  url: URL,
): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  // KubeConfig sets no dispatcher for a server it has no TLS settings for (the system's CAs, no
  // client certificate): undici's default one then, as client-node's fetch would use.
  const dispatcher = (ctx.getDispatcher() as Dispatcher | undefined) ?? getGlobalDispatcher();
  const res = await dispatcher.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: ctx.getHttpMethod() as Dispatcher.HttpMethod,
    headers: ctx.getHeaders(),
    body: ctx.getBody() as string | undefined,
    signal: ctx.getSignal() as AbortSignal | undefined,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: res.statusCode, headers, text: await res.body.text() };
}

export function createKubePort(
  access: KubeAccess,
  options: KubernetesOptions,
  timer: RequestTimer = realTimer,
): ClosableKubePort {
  const kc = loadKubeConfig(access);
  const server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');
  const timeoutMs = options.requestTimeoutMs;
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

  const toKubeError = (x: Exchange, err: unknown): KubeApiError => {
    if (err instanceof KubeApiError) return err;
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

  /**
   * One request. The URL is built here rather than by client-node's generated API classes: we use
   * three URL shapes, and those classes (every endpoint of every group, their model serializer
   * and its type map, evaluated at import) made up a third of the Lambda bundle. KubeConfig still
   * does everything about credentials and TLS (client certificates, exec and OIDC users, the CA,
   * proxies); {@link send} puts the request on the dispatcher it made.
   */
  async function call(
    verb: Exchange['verb'],
    path: string,
    query?: Record<string, string>,
    body?: object,
  ): Promise<Raw> {
    const url = new URL(server + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const x: Exchange = { verb, path: url.pathname };
    const ctx = new RequestContext(url.toString(), body ? HttpMethod.POST : HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    if (body) {
      ctx.setHeaderParam('Content-Type', 'application/json');
      ctx.setBody(JSON.stringify(body));
    }
    let status: number;
    let text: string;
    let cancel: (() => void) | undefined;
    try {
      await kc.applySecurityAuthentication(ctx);
      if (access.kind === 'token') {
        let token: string;
        try {
          token = await access.token();
        } catch (err) {
          // Not retried as a network error: without a token every request fails the same way.
          throw fail(
            x,
            undefined,
            'Unauthorized',
            `could not get a token: ${sanitize((err as Error)?.message ?? String(err))}`,
          );
        }
        ctx.setHeaderParam('Authorization', `Bearer ${token}`);
      }
      // Started after the token is in hand: the budget is for the API server alone. Cleared as
      // soon as the body is in: AbortSignal.timeout() would keep every request's signal, its
      // listeners and what they hold alive until the timeout ran out (5,000 secret GETs).
      const abort = new AbortController();
      cancel = timer(
        timeoutMs,
        () => abort.abort(new DOMException(`no response within ${timeoutMs} ms`, 'TimeoutError')),
        x,
      );
      ctx.setSignal(abort.signal);
      if (dispatcher) ctx.setDispatcher(dispatcher as never);
      else dispatcher = ctx.getDispatcher();
      const rsp = await send(ctx, url);
      x.headers = rsp.headers;
      status = rsp.status;
      text = rsp.text;
    } catch (err) {
      throw toKubeError(x, err);
    } finally {
      cancel?.();
    }
    if (status < 200 || status > 299) {
      if (status === 401 && access.kind === 'token') access.onUnauthorized?.();
      throw fail(x, status, codeForStatus(status), statusDetail(text));
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw fail(x, status, 'BadResponse', `body is not JSON: ${(err as Error).name}`);
    }
    if (!json || typeof json !== 'object') {
      throw fail(x, status, 'BadResponse', 'body is not a JSON object');
    }
    return json as Raw;
  }

  /** One core object by name (one GET); null when it does not exist. */
  async function getNamed(resource: string, namespace: string, name: string): Promise<Raw | null> {
    counters.gets += 1;
    try {
      return await call(
        'get',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}/${encodeURIComponent(name)}`,
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return null;
      throw err;
    }
  }

  return {
    counters,

    async listPage(
      kind: KubeKindSpec,
      opts: { limit: number; continue?: string; version?: string },
    ): Promise<ListPage> {
      const version = opts.version ?? kind.version;
      const apiVersion = kind.group ? `${kind.group}/${version}` : version;
      counters.listPages += 1;
      const body = await call('list', listPath(kind, version), {
        limit: String(opts.limit),
        ...(opts.continue ? { continue: opts.continue } : {}),
      });
      const cont = body.metadata?.continue;
      return {
        items: Array.isArray(body.items) ? body.items : [],
        ...(cont ? { continue: String(cont) } : {}),
        apiVersion: typeof body.apiVersion === 'string' ? body.apiVersion : apiVersion,
      };
    },

    getSecret: (namespace: string, name: string) => getNamed('secrets', namespace, name),

    getConfigMap: (namespace: string, name: string) => getNamed('configmaps', namespace, name),

    async reviewAccess(request: AccessReviewRequest): Promise<AccessReviewAnswer> {
      counters.reviews += 1;
      const body = await call(
        'create',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        undefined,
        {
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
