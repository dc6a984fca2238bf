/**
 * Paged lists and bounded retries over the KubePort. Every loop here has a fixed bound: an
 * auditor that retries forever against a sick API server makes it sicker and never reports.
 */
import type { Raw } from './raw.js';
import { qualifiedResource } from './kinds.js';
import { KubeApiError, type KubeKindSpec, type KubePort } from './port.js';

export interface RetryPolicy {
  /** Retries of 500/502/503/504, network errors and timeouts. */
  transientRetries: number;
  /** Backoff before retry n is random in [0, min(maxDelayMs, baseDelayMs * 2^n)] (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retries after 429. */
  throttleRetries: number;
  /** Longest Retry-After honoured; a server asking for more fails the request instead. */
  maxRetryAfterSeconds: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  transientRetries: 3,
  baseDelayMs: 200,
  maxDelayMs: 2000,
  throttleRetries: 3,
  maxRetryAfterSeconds: 10,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

function isTransient(e: KubeApiError): boolean {
  return (
    (e.status !== undefined && TRANSIENT_STATUS.has(e.status)) ||
    e.code === 'Network' ||
    e.code === 'Timeout'
  );
}

function gaveUp(e: KubeApiError, attempts: number, why = ''): KubeApiError {
  if (attempts <= 1 && !why) return e;
  return new KubeApiError(
    `${e.message}${why ? `; ${why}` : ''} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`,
    e.status,
    e.code,
    e.retryAfterSeconds,
  );
}

/**
 * Runs one request with bounded retries: 401 once (the port has already told the token source to
 * refresh), 429 honouring Retry-After up to a bound, 5xx/network/timeout with backoff and jitter.
 * TLS failures, 403, 404 and bad bodies are never retried.
 */
export async function withRetry<T>(
  op: () => Promise<T>,
  policy: Partial<RetryPolicy> = {},
): Promise<T> {
  const p = { ...DEFAULT_RETRY, ...policy };
  let unauthorizedRetried = false;
  let transient = 0;
  let throttled = 0;
  // Each retry branch below spends from its own fixed budget, so this bound is never the one hit.
  const maxAttempts = 2 + p.transientRetries + p.throttleRetries;
  let last: KubeApiError | undefined;
  for (let attempts = 1; attempts <= maxAttempts; attempts++) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      last = err;
      if (err.status === 401 && !unauthorizedRetried) {
        unauthorizedRetried = true;
        continue;
      }
      if (err.status === 429) {
        if (throttled >= p.throttleRetries) throw gaveUp(err, attempts);
        const after = err.retryAfterSeconds;
        if (after !== undefined && after > p.maxRetryAfterSeconds) {
          throw gaveUp(
            err,
            attempts,
            `Retry-After ${after}s is longer than the ${p.maxRetryAfterSeconds}s the auditor waits`,
          );
        }
        await p.sleep(after !== undefined ? after * 1000 : backoff(p, throttled));
        throttled += 1;
        continue;
      }
      if (isTransient(err) && transient < p.transientRetries) {
        await p.sleep(backoff(p, transient));
        transient += 1;
        continue;
      }
      throw gaveUp(err, attempts);
    }
  }
  throw gaveUp(last!, maxAttempts);
}

function backoff(p: RetryPolicy, n: number): number {
  return Math.floor(p.random() * Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** n));
}

export interface ListAllOptions<T> {
  pageSize: number;
  retry?: Partial<RetryPolicy>;
  /** A server that never stops handing out continue tokens is cut off here. */
  maxPages?: number;
  /** Converts each item as its page arrives, so raw pages are dropped early. */
  map?: (item: Raw, apiVersion: string) => T;
}

export type ListAllResult<T> =
  | { status: 'ok'; items: T[]; apiVersion: string; pages: number; restarted: boolean }
  | { status: 'not-installed'; detail: string };

export const DEFAULT_MAX_PAGES = 10_000;

/**
 * Lists every object of a kind, page by page (`limit` = pageSize, `continue`). An expired
 * continue token (410) restarts the list from scratch once. For optional kinds a 404 on the first
 * page tries the fallback versions, then reports `not-installed`. Other failures throw KubeApiError.
 */
export async function listAll<T = Raw>(
  port: KubePort,
  kind: KubeKindSpec,
  options: ListAllOptions<T>,
): Promise<ListAllResult<T>> {
  const versions = [kind.version, ...(kind.fallbackVersions ?? [])];
  for (const version of versions) {
    try {
      return await listVersion(port, kind, version, options);
    } catch (err) {
      if (err instanceof NotServed && kind.optional) continue;
      if (err instanceof NotServed) throw err.cause;
      throw err;
    }
  }
  const tried = versions.map((v) => (kind.group ? `${kind.group}/${v}` : v)).join(', ');
  return {
    status: 'not-installed',
    detail: `${qualifiedResource(kind)} is not served by the API server (tried ${tried}): the CRD is not installed`,
  };
}

/** A 404 on the first page: the group/version or resource does not exist on this server. */
class NotServed extends Error {
  constructor(override readonly cause: KubeApiError) {
    super(cause.message);
  }
}

async function listVersion<T>(
  port: KubePort,
  kind: KubeKindSpec,
  version: string,
  options: ListAllOptions<T>,
): Promise<ListAllResult<T>> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const map = options.map ?? ((item: Raw) => item as T);
  let items: T[] = [];
  let cont: string | undefined;
  let pages = 0;
  let restarted = false;
  let apiVersion = kind.group ? `${kind.group}/${version}` : version;
  for (let requests = 0; requests < maxPages; requests++) {
    let page;
    try {
      page = await withRetry(
        () =>
          port.listPage(kind, {
            limit: options.pageSize,
            version,
            ...(cont ? { continue: cont } : {}),
          }),
        options.retry,
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404 && !cont) throw new NotServed(err);
      if (err instanceof KubeApiError && err.status === 410 && cont && !restarted) {
        // The continue token expired mid-list: a consistent list means starting over, once.
        restarted = true;
        items = [];
        cont = undefined;
        pages = 0;
        continue;
      }
      throw err;
    }
    pages += 1;
    apiVersion = page.apiVersion || apiVersion;
    for (const item of page.items) items.push(map(item, apiVersion));
    if (!page.continue) return { status: 'ok', items, apiVersion, pages, restarted };
    cont = page.continue;
  }
  throw new KubeApiError(
    `listing ${qualifiedResource(kind)} did not finish within ${maxPages} pages of ${options.pageSize}; the server keeps returning continue tokens`,
    undefined,
    'BadResponse',
  );
}
