/**
 * The client-node adapter against the local API server: real TLS, real HTTP, client-node's KubeConfig and transport.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../lambda/config/config.js';
import { createKubePort, type ClosableKubePort } from '../../lambda/collect/kube/client.js';
import { kindByKey } from '../../lambda/collect/kube/kinds.js';
import { KubeApiError } from '../../lambda/collect/kube/port.js';
import { startTestApiServer, type TestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { OPTIONS, timeoutOn, tokenAccess, yamlDocs } from './support.js';

const MANIFESTS = yamlDocs(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: golang }
spec: { containers: [{ name: app, image: app:1 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: agent, namespace: datadog }
spec: { containers: [{ name: agent, image: agent:7 }] }
---
apiVersion: v1
kind: Secret
metadata: { name: datadog-secrets, namespace: datadog }
stringData: { token: tok }
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: { name: aws }
spec: { provider: { aws: { service: SecretsManager, region: eu-west-1 } } }
`);

const pods = kindByKey('pods');

async function expectKubeError(p: Promise<unknown>): Promise<KubeApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KubeApiError);
  return err as KubeApiError;
}

describe('Kubernetes client adapter (client-node against the test API server)', () => {
  let server: TestApiServer;
  const ports: ClosableKubePort[] = [];
  const port = (...args: Parameters<typeof createKubePort>) => {
    const p = createKubePort(...args);
    ports.push(p);
    return p;
  };

  beforeAll(async () => {
    server = await startTestApiServer({ manifests: MANIFESTS, token: 'good-token' });
  });
  afterAll(async () => {
    await Promise.all(ports.map((p) => p.close()));
    await server.close();
  });
  beforeEach(() => {
    server.clearFaults();
    server.setToken('good-token');
    server.requests.length = 0;
  });

  describe('TLS', () => {
    it('verifies the server against the per-run CA and lists through it', async () => {
      const page = await port(tokenAccess(server), OPTIONS).listPage(pods, { limit: 10 });
      expect(page.items.map((p) => p.metadata.name)).toEqual(['agent', 'app']);
      expect(page.apiVersion).toBe('v1');
      expect(page.continue).toBeUndefined();
    });

    it('fails closed with a TLS error when the certificate comes from another CA', async () => {
      const other = await startTestApiServer({ manifests: MANIFESTS, certFromOtherCa: true });
      try {
        const p = port(tokenAccess(other, { token: async () => other.token }), OPTIONS);
        const err = await expectKubeError(p.listPage(pods, { limit: 10 }));
        expect(err.code).toBe('TLS');
        expect(err.status).toBeUndefined();
        expect(err.message).toContain('test-cluster');
        expect(err.message).toContain('/api/v1/pods');
        expect(err.message).toMatch(/verification is never skipped/);
        // The handshake failed, so nothing reached the HTTP layer: no request was answered.
        expect(other.requests).toEqual([]);
      } finally {
        await other.close();
      }
    });

    it('fails closed when told to trust a CA that did not sign the server certificate', async () => {
      const other = await startTestApiServer({ manifests: [] });
      try {
        const p = port(tokenAccess(server, { caData: other.caData }), OPTIONS);
        expect((await expectKubeError(p.listPage(pods, { limit: 10 }))).code).toBe('TLS');
      } finally {
        await other.close();
      }
    });

    it('refuses a plain-http endpoint before any request', () => {
      expect(() =>
        createKubePort(
          tokenAccess(server, { server: server.url.replace('https', 'http') }),
          OPTIONS,
        ),
      ).toThrow(ConfigError);
    });
  });

  describe('authentication', () => {
    it('gets 401 Unauthorized with a bad token and tells the token source', async () => {
      let told = 0;
      const onUnauthorized = () => {
        told += 1;
      };
      const p = port(tokenAccess(server, { token: async () => 'bad', onUnauthorized }), OPTIONS);
      const err = await expectKubeError(p.listPage(pods, { limit: 10 }));
      expect(err).toMatchObject({ status: 401, code: 'Unauthorized' });
      expect(err.message).toMatch(/HTTP 401 Unauthorized/);
      expect(told).toBe(1);
    });

    it('reports a token source that fails as Unauthorized without sending the request', async () => {
      const p = port(
        tokenAccess(server, {
          token: async () => {
            throw new Error(
              'ExpiredTokenException: the security token included in the request is expired',
            );
          },
        }),
        OPTIONS,
      );
      const err = await expectKubeError(p.listPage(pods, { limit: 10 }));
      expect(err).toMatchObject({ status: undefined, code: 'Unauthorized' });
      expect(err.message).toMatch(/could not get a token: ExpiredTokenException/);
      expect(server.requests).toEqual([]);
    });

    it('asks the token source before every request, so a refreshed token is used', async () => {
      let current = 'good-token';
      const p = port(
        tokenAccess(server, {
          token: async () => current,
          onUnauthorized: () => {
            current = 'rotated-token';
          },
        }),
        OPTIONS,
      );
      await p.listPage(pods, { limit: 10 });
      server.setToken('rotated-token');
      await expectKubeError(p.listPage(pods, { limit: 10 }));
      const page = await p.listPage(pods, { limit: 10 });
      expect(page.items).toHaveLength(2);
      expect(server.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    });
  });

  describe('lists and gets', () => {
    it('passes limit and continue as query parameters and returns the next token', async () => {
      const p = port(tokenAccess(server), OPTIONS);
      const first = await p.listPage(pods, { limit: 1 });
      expect(first.items).toHaveLength(1);
      expect(first.continue).toBeDefined();
      const second = await p.listPage(pods, { limit: 1, continue: first.continue! });
      expect(second.items.map((i) => i.metadata.name)).toEqual(['app']);
      expect(server.requests.map((r) => r.query)).toEqual([
        { limit: '1' },
        { limit: '1', continue: first.continue },
      ]);
      expect(p.counters).toEqual({ listPages: 2, gets: 0, reviews: 0 });
    });

    it('lists CRDs under /apis at the version asked for', async () => {
      const p = port(tokenAccess(server), OPTIONS);
      const page = await p.listPage(kindByKey('clusterSecretStores'), { limit: 10 });
      expect(page.apiVersion).toBe('external-secrets.io/v1');
      expect(page.items[0]).toMatchObject({
        kind: 'ClusterSecretStore',
        metadata: { name: 'aws' },
      });
      expect(server.requests[0]?.path).toBe('/apis/external-secrets.io/v1/clustersecretstores');
      const err = await expectKubeError(
        p.listPage(kindByKey('externalSecrets'), { limit: 10, version: 'v1beta1' }),
      );
      expect(err).toMatchObject({ status: 404, code: 'NotFound' });
    });

    it('gets a Secret by name as plain JSON with base64 data, and null when it does not exist', async () => {
      const p = port(tokenAccess(server), OPTIONS);
      const secret = await p.getSecret('datadog', 'datadog-secrets');
      expect(secret.data.token).toBe(Buffer.from('tok').toString('base64'));
      expect(await p.getSecret('golang', 'go-secrets')).toBeNull();
      expect(p.counters).toEqual({ listPages: 0, gets: 2, reviews: 0 });
      expect(server.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
        '/api/v1/namespaces/datadog/secrets/datadog-secrets 200',
        '/api/v1/namespaces/golang/secrets/go-secrets 404',
      ]);
    });

    it('reads an object of 5 MB', async () => {
      server.inject({ path: '/api/v1/pods', padBytes: 5_000_000, times: 1 });
      const page = await port(tokenAccess(server), OPTIONS).listPage(pods, { limit: 10 });
      expect(page.items[0].metadata.annotations['test.invalid/padding']).toHaveLength(5_000_000);
    });
  });

  describe('failures become KubeApiError naming cluster, path and status', () => {
    it.each([
      [
        403,
        'Forbidden',
        /the auditor may not list \/api\/v1\/pods; apply infra\/kubernetes\/auditor-rbac.yaml/,
      ],
      [404, 'NotFound', /HTTP 404 NotFound/],
      [410, 'Gone', /HTTP 410 Gone/],
      [500, 'ServerError', /HTTP 500 ServerError/],
      [503, 'ServerError', /HTTP 503 ServerError/],
    ])('maps HTTP %d to %s', async (status, code, message) => {
      server.inject({ path: '/api/v1/pods', status, times: 1 });
      const err = await expectKubeError(
        port(tokenAccess(server), OPTIONS).listPage(pods, { limit: 10 }),
      );
      expect(err).toMatchObject({ status, code });
      expect(err.message).toMatch(message);
      expect(err.message).toContain('Kubernetes API of cluster test-cluster: GET /api/v1/pods');
    });

    it('keeps the Status reason and message of a 403 in the error', async () => {
      server.inject({
        path: '/api/v1/pods',
        status: 403,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Forbidden',
          code: 403,
          message: 'pods is forbidden: User "auditor" cannot list resource "pods"',
        },
      });
      const err = await expectKubeError(
        port(tokenAccess(server), OPTIONS).listPage(pods, { limit: 10 }),
      );
      expect(err.message).toContain('cannot list resource "pods"');
    });

    it('carries Retry-After of a 429', async () => {
      server.inject({ path: '/api/v1/pods', status: 429, headers: { 'Retry-After': '7' } });
      const err = await expectKubeError(
        port(tokenAccess(server), OPTIONS).listPage(pods, { limit: 10 }),
      );
      expect(err).toMatchObject({ status: 429, code: 'TooManyRequests', retryAfterSeconds: 7 });
    });

    it('reports malformed JSON as BadResponse without echoing the body', async () => {
      server.inject({ path: '/api/v1/pods', malformedJson: true });
      const err = await expectKubeError(
        port(tokenAccess(server), OPTIONS).listPage(pods, { limit: 10 }),
      );
      expect(err).toMatchObject({ status: 200, code: 'BadResponse' });
      expect(err.message).not.toContain('"kind"');
    });

    it('reports a slow answer as Timeout after requestTimeoutMs', async () => {
      // The real timer: the server never answers, so the 200 ms timeout is what ends the request,
      // however slow the machine (it may even fire before the request reaches the server).
      server.inject({ path: '/api/v1/pods', hang: true });
      const err = await expectKubeError(
        port(tokenAccess(server), { ...OPTIONS, requestTimeoutMs: 200 }).listPage(pods, {
          limit: 10,
        }),
      );
      expect(err).toMatchObject({ status: undefined, code: 'Timeout' });
      expect(err.message).toMatch(/no response within 200 ms/);
      expect(server.requests.filter((r) => r.status !== 0)).toEqual([]);
    });

    it('gives up on a request the server holds when its timer expires, before any answer', async () => {
      // The timer expires exactly when the server holds the request: no race with the clock.
      const held = timeoutOn('/api/v1/pods');
      server.inject(held.fault);
      const err = await expectKubeError(
        port(tokenAccess(server), { ...OPTIONS, requestTimeoutMs: 200 }, held.timer).listPage(
          pods,
          { limit: 10 },
        ),
      );
      expect(err).toMatchObject({ status: undefined, code: 'Timeout' });
      expect(err.message).toMatch(/no response within 200 ms/);
      expect(held.expired()).toBe(1);
      // Given up while the server held it (status 0: no answer went out), not after an answer.
      expect(server.requests).toEqual([
        expect.objectContaining({ path: '/api/v1/pods', status: 0 }),
      ]);
    });

    it('reports a reset connection and a truncated body as Network errors', async () => {
      server.inject({ path: '/api/v1/pods', reset: true, times: 1 });
      const p = port(tokenAccess(server), OPTIONS);
      expect((await expectKubeError(p.listPage(pods, { limit: 10 }))).code).toBe('Network');
      server.inject({ path: '/api/v1/pods', truncate: true, times: 1 });
      expect((await expectKubeError(p.listPage(pods, { limit: 10 }))).code).toBe('Network');
    });

    it('reports an unreachable endpoint as a Network error', async () => {
      const gone = await startTestApiServer({ manifests: [] });
      const access = tokenAccess(gone);
      await gone.close();
      const err = await expectKubeError(port(access, OPTIONS).listPage(pods, { limit: 10 }));
      expect(err.code).toBe('Network');
      expect(err.message).toMatch(/ECONNREFUSED/);
    });
  });

  describe('kubeconfig mode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    const saved = process.env.KUBECONFIG;
    afterEach(() => {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    });

    it('uses the file and context given', async () => {
      const file = join(dir, 'config');
      writeFileSync(file, server.kubeconfig({ context: 'audit' }));
      const p = port(
        { kind: 'kubeconfig', clusterName: 'c', path: file, context: 'audit' },
        OPTIONS,
      );
      expect((await p.listPage(pods, { limit: 10 })).items).toHaveLength(2);
    });

    it('honours $KUBECONFIG and its current-context', async () => {
      const file = join(dir, 'env-config');
      writeFileSync(file, server.kubeconfig());
      process.env.KUBECONFIG = file;
      const p = port({ kind: 'kubeconfig', clusterName: 'c' }, OPTIONS);
      expect((await p.listPage(pods, { limit: 10 })).items).toHaveLength(2);
    });

    it('names a missing file and what to do', () => {
      const missing = join(dir, 'nope');
      expect(() =>
        createKubePort({ kind: 'kubeconfig', clusterName: 'c', path: missing }, OPTIONS),
      ).toThrow(
        new ConfigError(
          `Kubeconfig ${missing} does not exist. Pass an existing file with --kubeconfig.`,
        ),
      );
      process.env.KUBECONFIG = missing;
      expect(() => createKubePort({ kind: 'kubeconfig', clusterName: 'c' }, OPTIONS)).toThrow(
        /\$KUBECONFIG names .*nope, which does not exist/,
      );
    });

    it('names a missing context and the contexts there are', () => {
      const file = join(dir, 'ctx-config');
      writeFileSync(file, server.kubeconfig({ context: 'prod' }));
      expect(() =>
        createKubePort(
          { kind: 'kubeconfig', clusterName: 'c', path: file, context: 'staging' },
          OPTIONS,
        ),
      ).toThrow(/has no context "staging" \(it has: prod\)\. Pass one of those with --context/);
    });

    it('refuses a kubeconfig that turns TLS verification off', () => {
      const file = join(dir, 'insecure');
      writeFileSync(
        file,
        server
          .kubeconfig()
          .replace(/certificate-authority-data: .*/, 'insecure-skip-tls-verify: true'),
      );
      expect(() =>
        createKubePort({ kind: 'kubeconfig', clusterName: 'c', path: file }, OPTIONS),
      ).toThrow(/never skips verification/);
    });
  });
});
