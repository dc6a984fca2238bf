import { startTestApiServer, type TestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { rawGet, yamlDocs } from './support.js';

const MANIFESTS = yamlDocs(`
apiVersion: v1
kind: Namespace
metadata: { name: datadog }
---
apiVersion: v1
kind: Pod
metadata: { name: a, namespace: datadog, labels: { app: agent, tier: infra } }
---
apiVersion: v1
kind: Pod
metadata: { name: b, namespace: golang, labels: { app: web } }
---
apiVersion: v1
kind: Pod
metadata: { name: c, namespace: golang, labels: { app: worker, tier: infra } }
---
apiVersion: v1
kind: Pod
metadata: { name: d, namespace: golang }
---
apiVersion: v1
kind: Pod
metadata: { name: e, namespace: zeta, labels: { app: web } }
---
apiVersion: v1
kind: Secret
metadata: { name: datadog-secrets, namespace: datadog }
stringData: { token: hello-token }
data: { api-key: YWJj }
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: { name: golang-secrets, namespace: golang }
spec: { secretStoreRef: { name: aws, kind: ClusterSecretStore } }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: datadog-agent }
rules: []
`);

describe('test Kubernetes API server', () => {
  let server: TestApiServer;

  beforeAll(async () => {
    server = await startTestApiServer({
      manifests: MANIFESTS,
      token: 'good-token',
      crds: ['vpcresources.k8s.aws/v1beta1'],
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.clearFaults();
    server.setToken('good-token');
    server.requests.length = 0;
  });

  it('answers 401 with a Status object when the bearer token is missing or wrong', async () => {
    for (const token of [null, 'wrong-token']) {
      const res = await rawGet(server, '/api/v1/pods', token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    }
  });

  it('serves discovery for core, built-in groups and only the CRD groups that exist', async () => {
    expect((await rawGet(server, '/api')).body).toMatchObject({
      kind: 'APIVersions',
      versions: ['v1'],
    });
    const groups = (await rawGet(server, '/apis')).body.groups.map((g: { name: string }) => g.name);
    expect(groups).toEqual(
      expect.arrayContaining([
        'apps',
        'rbac.authorization.k8s.io',
        'discovery.k8s.io',
        'external-secrets.io',
        'vpcresources.k8s.aws',
      ]),
    );
    const eso = await rawGet(server, '/apis/external-secrets.io/v1beta1');
    expect(eso.body.kind).toBe('APIResourceList');
    expect(eso.body.resources.map((r: { name: string }) => r.name)).toContain('externalsecrets');
    expect((await rawGet(server, '/apis/external-secrets.io/v1')).status).toBe(404);
    expect((await rawGet(server, '/apis/kyverno.io/v1')).status).toBe(404);
  });

  it('serves an installed CRD without objects as an empty list', async () => {
    const res = await rawGet(server, '/apis/vpcresources.k8s.aws/v1beta1/securitygrouppolicies');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'SecurityGroupPolicyList', items: [] });
  });

  it('lists like the real server: List kind, resourceVersion, filled metadata, no kind on built-in items', async () => {
    const res = await rawGet(server, '/api/v1/pods');
    expect(res.body.kind).toBe('PodList');
    expect(res.body.apiVersion).toBe('v1');
    expect(res.body.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(res.body.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
    const item = res.body.items[0];
    expect(item.kind).toBeUndefined();
    expect(item.metadata).toEqual(
      expect.objectContaining({
        uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        resourceVersion: expect.stringMatching(/^\d+$/),
        creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      }),
    );
    const es = await rawGet(server, '/apis/external-secrets.io/v1beta1/externalsecrets');
    expect(es.body.items[0]).toMatchObject({
      apiVersion: 'external-secrets.io/v1beta1',
      kind: 'ExternalSecret',
    });
  });

  it('lists one namespace and gets one object by name, with a 404 Status for a missing one', async () => {
    const golang = await rawGet(server, '/api/v1/namespaces/golang/pods');
    expect(golang.body.items).toHaveLength(3);
    const role = await rawGet(
      server,
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/datadog-agent',
    );
    expect(role.body).toMatchObject({ kind: 'ClusterRole', metadata: { name: 'datadog-agent' } });
    const missing = await rawGet(server, '/api/v1/namespaces/golang/secrets/go-secrets');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    expect((await rawGet(server, '/api/v1/widgets')).status).toBe(404);
  });

  it('turns stringData into base64 data, as the API server does', async () => {
    const res = await rawGet(server, '/api/v1/namespaces/datadog/secrets/datadog-secrets');
    expect(res.body.stringData).toBeUndefined();
    expect(res.body.type).toBe('Opaque');
    expect(res.body.data).toEqual({
      'api-key': 'YWJj',
      token: Buffer.from('hello-token').toString('base64'),
    });
  });

  it('pages with limit and opaque continue tokens until the last page', async () => {
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const q = `limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
      const res = await rawGet(server, `/api/v1/pods?${q}`);
      names.push(...res.body.items.map((p: { metadata: { name: string } }) => p.metadata.name));
      cont = res.body.metadata.continue;
      pages += 1;
    } while (cont);
    expect(pages).toBe(3);
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('answers 410 Expired for an unknown or expired continue token', async () => {
    const first = await rawGet(server, '/api/v1/pods?limit=2');
    server.expireContinueTokens();
    const expired = await rawGet(
      server,
      `/api/v1/pods?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`,
    );
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    expect((await rawGet(server, '/api/v1/pods?limit=2&continue=bogus')).status).toBe(410);
  });

  it.each([
    ['app=web', ['b', 'e']],
    ['app==web', ['b', 'e']],
    ['app!=web', ['a', 'c', 'd']],
    ['app in (agent,worker)', ['a', 'c']],
    ['app notin (agent,worker)', ['b', 'd', 'e']],
    ['tier', ['a', 'c']],
    ['!tier', ['b', 'd', 'e']],
    ['tier=infra,app=worker', ['c']],
  ])('filters with labelSelector %s', async (selector, expected) => {
    const res = await rawGet(server, `/api/v1/pods?labelSelector=${encodeURIComponent(selector)}`);
    expect(res.body.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(
      expected,
    );
  });

  it('records every request with method, path, query and status', async () => {
    await rawGet(server, '/api/v1/pods?limit=1');
    await rawGet(server, '/api/v1/nodes', null);
    expect(server.requests).toEqual([
      { method: 'GET', path: '/api/v1/pods', query: { limit: '1' }, status: 200 },
      { method: 'GET', path: '/api/v1/nodes', query: {}, status: 401 },
    ]);
  });

  it('injects a status with headers for a limited number of matching requests', async () => {
    server.inject({ path: '/api/v1/pods', status: 429, headers: { 'retry-after': '3' }, times: 1 });
    const throttled = await rawGet(server, '/api/v1/pods');
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests' });
    expect((await rawGet(server, '/api/v1/pods')).status).toBe(200);
  });

  it('matches faults by prefix, regex and query parameter', async () => {
    server.inject({ prefix: '/apis/external-secrets.io/', status: 503 });
    server.inject({ regex: /\/secrets\/[^/]+$/, status: 403 });
    server.inject({ path: '/api/v1/pods', query: { continue: true }, status: 500 });
    expect((await rawGet(server, '/apis/external-secrets.io/v1beta1/externalsecrets')).status).toBe(
      503,
    );
    expect(
      (await rawGet(server, '/api/v1/namespaces/datadog/secrets/datadog-secrets')).status,
    ).toBe(403);
    const first = await rawGet(server, '/api/v1/pods?limit=2');
    expect(first.status).toBe(200);
    const next = await rawGet(
      server,
      `/api/v1/pods?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`,
    );
    expect(next.status).toBe(500);
  });

  it('serves malformed JSON, truncated bodies and resets the connection on request', async () => {
    server.inject({ path: '/api/v1/pods', malformedJson: true, times: 1 });
    const malformed = await rawGet(server, '/api/v1/pods');
    expect(malformed.status).toBe(200);
    expect(malformed.body).toBeUndefined();

    server.inject({ path: '/api/v1/pods', truncate: true, times: 1 });
    await expect(rawGet(server, '/api/v1/pods')).rejects.toThrow();

    server.inject({ path: '/api/v1/pods', reset: true, times: 1 });
    await expect(rawGet(server, '/api/v1/pods')).rejects.toThrow();
    expect(server.requests.at(-1)?.status).toBe(0);
  });

  it('delays an answer and pads one object to a chosen size', async () => {
    server.inject({ path: '/api/v1/pods', delayMs: 150, padBytes: 5_000_000, times: 1 });
    const started = Date.now();
    const res = await rawGet(server, '/api/v1/pods');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(res.text.length).toBeGreaterThan(5_000_000);
    expect(res.body.items[0].metadata.annotations['test.invalid/padding']).toHaveLength(5_000_000);
    const again = await rawGet(server, '/api/v1/pods');
    expect(again.text.length).toBeLessThan(10_000);
  });

  it('writes a kubeconfig that points at the server with its CA and token', () => {
    const text = server.kubeconfig({ context: 'demo' });
    expect(text).toContain(server.url);
    expect(text).toContain(server.caData);
    expect(text).toContain('current-context: demo');
    expect(text).toContain('token: good-token');
  });
});
