/**
 * Paging and retries (lambda/collect/kube/list.ts) through the real client against the test API server,
 * plus the bounds that a well-behaved server cannot exercise (tiny fakes of the port).
 */
import { createKubePort, type ClosableKubePort } from '../../lambda/collect/kube/client.js';
import { kindByKey } from '../../lambda/collect/kube/kinds.js';
import { mapLimit } from '../../lambda/collect/concurrency.js';
import {
  DEFAULT_RETRY,
  listAll,
  withRetry,
  type RetryPolicy,
} from '../../lambda/collect/kube/list.js';
import { KubeApiError, type KubePort } from '../../lambda/collect/kube/port.js';
import {
  startTestApiServer,
  statusBody,
  type TestApiServer,
} from '../../lambda/run/demo/kube-api-server.js';
import {
  FAST_RETRY,
  OPTIONS,
  recordingRetry,
  timeoutOn,
  tokenAccess,
  yamlDocs,
} from './support.js';

const POD_NAMES = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];
const MANIFESTS = [
  ...POD_NAMES.map((name, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: `ns-${i % 3}` },
  })),
  ...yamlDocs(`
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: { name: golang-secrets, namespace: golang }
spec: { secretStoreRef: { name: aws, kind: ClusterSecretStore }, target: { name: golang-secrets } }
`),
];

const pods = kindByKey('pods');
const names = (items: { metadata: { name: string } }[]) => items.map((i) => i.metadata.name).sort();

describe('listAll through the real client', () => {
  let server: TestApiServer;
  let port: ClosableKubePort;

  beforeAll(async () => {
    server = await startTestApiServer({ manifests: MANIFESTS, token: 'good-token' });
    port = createKubePort(tokenAccess(server), OPTIONS);
  });
  afterAll(async () => {
    await port.close();
    await server.close();
  });
  beforeEach(() => {
    server.clearFaults();
    server.setToken('good-token');
    server.requests.length = 0;
  });
  const statuses = () => server.requests.map((r) => r.status);

  it('follows continue tokens until the last page and returns every item once', async () => {
    const result = await listAll(port, pods, { pageSize: 2 });
    expect(result).toMatchObject({ status: 'ok', pages: 4, restarted: false, apiVersion: 'v1' });
    if (result.status !== 'ok') throw new Error('unreachable');
    expect(names(result.items)).toEqual(POD_NAMES);
    expect(server.requests.map((r) => r.path)).toEqual(Array(4).fill('/api/v1/pods'));
    expect(server.requests.map((r) => r.query.limit)).toEqual(['2', '2', '2', '2']);
    expect(server.requests[0]!.query.continue).toBeUndefined();
    expect(server.requests.slice(1).every((r) => r.query.continue)).toBe(true);
  });

  it('converts each item as its page arrives', async () => {
    const result = await listAll(port, pods, {
      pageSize: 3,
      map: (p, apiVersion) => `${apiVersion}:${p.metadata.name}`,
    });
    expect(result.status === 'ok' && [...result.items].sort()).toEqual(
      POD_NAMES.map((n) => `v1:${n}`),
    );
  });

  it('restarts the list once when the continue token has expired (410)', async () => {
    const expiring: KubePort = {
      counters: port.counters,
      getSecret: (ns, n) => port.getSecret(ns, n),
      getConfigMap: (ns, n) => port.getConfigMap(ns, n),
      async listPage(kind, opts) {
        const page = await port.listPage(kind, opts);
        // Expire the tokens right after the first page of the first attempt.
        if (server.requests.length === 1) server.expireContinueTokens();
        return page;
      },
    };
    const result = await listAll(expiring, pods, { pageSize: 3 });
    expect(result).toMatchObject({ status: 'ok', restarted: true, pages: 3 });
    if (result.status !== 'ok') throw new Error('unreachable');
    expect(names(result.items)).toEqual(POD_NAMES);
    expect(statuses()).toEqual([200, 410, 200, 200, 200]);
    expect(server.requests[2]!.query.continue).toBeUndefined();
  });

  it('gives up with Gone when the continue token expires again after the restart', async () => {
    server.inject({ path: '/api/v1/pods', query: { continue: true }, status: 410 });
    const err = await listAll(port, pods, { pageSize: 3 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 410, code: 'Gone' });
    expect(statuses()).toEqual([200, 410, 200, 410]);
  });

  it('retries a 401 once after the token source was told, then succeeds with the new token', async () => {
    server.setToken('rotated');
    let token = 'good-token';
    const rotating = createKubePort(
      tokenAccess(server, {
        token: async () => token,
        onUnauthorized: () => {
          token = 'rotated';
        },
      }),
      OPTIONS,
    );
    try {
      const result = await listAll(rotating, pods, { pageSize: 10 });
      expect(result.status).toBe('ok');
      expect(statuses()).toEqual([401, 200]);
    } finally {
      await rotating.close();
    }
  });

  it('fails with Unauthorized when the token is still rejected after one refresh', async () => {
    const stale = createKubePort(tokenAccess(server, { token: async () => 'stale' }), OPTIONS);
    const err = await listAll(stale, pods, { pageSize: 10 }).catch((e: unknown) => e);
    await stale.close();
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 401, code: 'Unauthorized' });
    expect((err as Error).message).toMatch(/gave up after 2 attempts/);
    expect(statuses()).toEqual([401, 401]);
  });

  it('honours Retry-After of a 429 before retrying', async () => {
    server.inject({ path: '/api/v1/pods', status: 429, headers: { 'Retry-After': '1' }, times: 1 });
    const { retry, waits } = recordingRetry();
    const result = await listAll(port, pods, { pageSize: 10, retry });
    expect(result.status).toBe('ok');
    // The one wait before the retry is the second the server asked for (no clock waited on).
    expect(waits).toEqual([1000]);
    expect(statuses()).toEqual([429, 200]);
  });

  it('fails at once when Retry-After is longer than the bound', async () => {
    server.inject({ path: '/api/v1/pods', status: 429, headers: { 'Retry-After': '60' } });
    const { retry, waits } = recordingRetry();
    const err = await listAll(port, pods, { pageSize: 10, retry }).catch((e: unknown) => e);
    // At once: no wait at all, neither the 60 s asked for nor a backoff.
    expect(waits).toEqual([]);
    expect(err).toMatchObject({ status: 429, code: 'TooManyRequests', retryAfterSeconds: 60 });
    expect((err as Error).message).toMatch(
      /Retry-After 60s is longer than the 10s the auditor waits/,
    );
    expect(statuses()).toEqual([429]);
  });

  it('retries 503 with backoff and succeeds on the third attempt', async () => {
    server.inject({ path: '/api/v1/pods', status: 503, times: 2 });
    const { retry, waits } = recordingRetry();
    const result = await listAll(port, pods, { pageSize: 10, retry });
    expect(result.status).toBe('ok');
    expect(statuses()).toEqual([503, 503, 200]);
    // Full jitter under the default ceilings: retry n waits less than baseDelayMs * 2^n.
    expect(waits).toHaveLength(2);
    waits.forEach((ms, n) => expect(ms).toBeLessThan(DEFAULT_RETRY.baseDelayMs * 2 ** n));
  });

  it('gives up on a server error after three retries', async () => {
    server.inject({ path: '/api/v1/pods', status: 500 });
    const err = await listAll(port, pods, { pageSize: 10, retry: FAST_RETRY }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 500, code: 'ServerError' });
    expect((err as Error).message).toMatch(/gave up after 4 attempts/);
    expect(statuses()).toEqual([500, 500, 500, 500]);
  });

  it('retries a reset connection and a timeout', async () => {
    // The second request is held and timed out as soon as the server holds it; the first and the
    // third have a timeout no slow machine reaches, so exactly three requests are made.
    const held = timeoutOn('/api/v1/pods', { times: 1 });
    const quick = createKubePort(
      tokenAccess(server),
      { ...OPTIONS, requestTimeoutMs: 150 },
      held.timer,
    );
    try {
      server.inject({ path: '/api/v1/pods', reset: true, times: 1 });
      server.inject(held.fault);
      const result = await listAll(quick, pods, { pageSize: 10, retry: FAST_RETRY });
      expect(result.status).toBe('ok');
      expect(server.requests).toHaveLength(3);
      expect(held.expired()).toBe(1);
    } finally {
      await quick.close();
    }
  });

  it.each([
    ['403 Forbidden', { status: 403 }, 'Forbidden'],
    ['malformed JSON', { malformedJson: true }, 'BadResponse'],
  ])('never retries %s', async (_name, fault, code) => {
    server.inject({ path: '/api/v1/pods', ...fault });
    const err = await listAll(port, pods, { pageSize: 10, retry: FAST_RETRY }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code });
    expect(server.requests).toHaveLength(1);
  });

  it('falls back to v1beta1 when ESO does not serve v1', async () => {
    const result = await listAll(port, kindByKey('externalSecrets'), { pageSize: 10 });
    expect(result).toMatchObject({ status: 'ok', apiVersion: 'external-secrets.io/v1beta1' });
    expect(server.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/apis/external-secrets.io/v1/externalsecrets 404',
      '/apis/external-secrets.io/v1beta1/externalsecrets 200',
    ]);
  });

  it('reports an optional CRD that no version serves as not installed', async () => {
    const result = await listAll(port, kindByKey('securityGroupPolicies'), { pageSize: 10 });
    expect(result).toEqual({
      status: 'not-installed',
      detail:
        'securitygrouppolicies.vpcresources.k8s.aws is not served by the API server (tried vpcresources.k8s.aws/v1beta1): the CRD is not installed',
    });
  });

  it('treats a 404 on a built-in kind as an error, not as not installed', async () => {
    server.inject({ path: '/api/v1/pods', status: 404 });
    const err = await listAll(port, pods, { pageSize: 10 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, code: 'NotFound' });
  });

  it('keeps the 403 of an optional CRD as an error instead of calling it not installed', async () => {
    server.inject({ prefix: '/apis/external-secrets.io/v1beta1/', status: 403 });
    const err = await listAll(port, kindByKey('externalSecrets'), { pageSize: 10 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 403, code: 'Forbidden' });
  });
});

describe('bounds that hold whatever the server does', () => {
  const noSleep: Partial<RetryPolicy> = { sleep: async () => undefined };

  it('stops a list whose server never stops handing out continue tokens', async () => {
    let calls = 0;
    const endless: KubePort = {
      counters: { listPages: 0, gets: 0 },
      getSecret: async () => null,
      getConfigMap: async () => null,
      async listPage() {
        calls += 1;
        return { items: [{}], continue: `t${calls}`, apiVersion: 'v1' };
      },
    };
    const err = await listAll(endless, kindByKey('pods'), { pageSize: 1, maxPages: 50 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'BadResponse' });
    expect((err as Error).message).toMatch(/did not finish within 50 pages/);
    expect(calls).toBe(50);
  });

  it('waits at most the backoff ceiling, with jitter, and at most three times for transient errors', async () => {
    const waits: number[] = [];
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls += 1;
        throw new KubeApiError('boom', 503, 'ServerError');
      },
      { sleep: async (ms) => void waits.push(ms), random: () => 0.999, baseDelayMs: 200 },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503 });
    expect(calls).toBe(4);
    expect(waits).toEqual([199, 399, 799]);
  });

  it('never retries TLS failures', async () => {
    let calls = 0;
    await withRetry(async () => {
      calls += 1;
      throw new KubeApiError('bad cert', undefined, 'TLS');
    }, noSleep).catch(() => undefined);
    expect(calls).toBe(1);
  });

  it('bounds 429 retries even when every answer asks for a short wait', async () => {
    let calls = 0;
    await withRetry(async () => {
      calls += 1;
      throw new KubeApiError('slow down', 429, 'TooManyRequests', 1);
    }, noSleep).catch(() => undefined);
    expect(calls).toBe(4);
  });

  it('passes other errors through untouched', async () => {
    const boom = new TypeError('not a kube error');
    await expect(withRetry(async () => Promise.reject(boom), noSleep)).rejects.toBe(boom);
  });

  it('runs at most the given number of tasks at once and keeps the order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n * 3));
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});

// statusBody is the server's Status shape; a 410 with it is what client-go sees too.
it('builds Status bodies the way the API server does', () => {
  expect(statusBody(410, 'too old', 'Expired')).toEqual({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'too old',
    reason: 'Expired',
    code: 410,
  });
});
