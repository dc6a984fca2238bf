/**
 * Fault matrix, Kubernetes side: every fault injected through the local test API server into a
 * whole audit (real client-node, real collectors and checks), each with the outcome it must have.
 * Budgets are shrunk through the config (request timeout, page size) so the matrix runs in seconds.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectCluster } from '../../lambda/collect/collect.js';
import { CHECKS } from '../../lambda/checks/index.js';
import { parseConfig } from '../../lambda/config/config.js';
import { createKubePort } from '../../lambda/collect/kube/client.js';
import { collectKube } from '../../lambda/collect/kube/collect.js';
import { KUBE_KINDS, qualifiedResource } from '../../lambda/collect/kube/kinds.js';
import { DEFAULT_RETRY } from '../../lambda/collect/kube/list.js';
import { renderEmail, renderSubject } from '../../lambda/report/email.js';
import { renderReport } from '../../lambda/report/index.js';
import type { ClusterReport } from '../../lambda/report/types.js';
import type { DataKey } from '../../lambda/snapshot/snapshot.js';
import { startTestApiServer, type RecordedRequest } from '../../lambda/run/demo/kube-api-server.js';
import { DEFAULT_SETTINGS, FIXTURES_DIR, loadManifests } from '../support/snapshot-builder.js';
import { Book, CaseRecorder, faultCase, finalCanarySearch } from './book.js';
import { timeoutOn } from '../kube/support.js';
import { FAST_KUBE, auditCase, hits, notEvaluated } from './harness.js';

const book = new Book(import.meta.url);
finalCanarySearch(book);

const PODS = '/api/v1/pods';
const NAMESPACES = '/api/v1/namespaces';

/** `status checkId kind ns/name` of every finding: what two audits are compared by. */
const summary = (c: ClusterReport) =>
  c.findings
    .map(
      (f) =>
        `${f.status} ${f.checkId} ${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name} ${f.messageId}`,
    )
    .sort();

/** Checks that read what a Secret holds (digests), not only which Secret a pod names. */
const CONTENT_CHECKS = [
  'token-consumers-match',
  'token-ref-resolves',
  'token-stale-in-pods',
  'token-not-chart-generated',
];

const statuses = (rs: RecordedRequest[]) => rs.map((r) => r.status);

/** Checks that declare `key` among the data they need. */
const needing = (...keys: DataKey[]) =>
  CHECKS.filter((c) => c.requires.some((k) => keys.includes(k)))
    .map((c) => c.id)
    .sort();

/** The email and the table both say the audit is incomplete and why. */
function expectIncomplete(cluster: ClusterReport, reason: RegExp): void {
  expect(cluster.status).toBe('ERROR');
  const email = renderEmail(cluster, undefined);
  expect(email).toMatch(/^AUDIT INCOMPLETE: /);
  expect(email).toContain('NOT known to be healthy');
  // Reasons are wrapped at 80 columns; match them as one line.
  expect(email.replace(/\s+/g, ' ')).toMatch(reason);
  expect(renderSubject(cluster, undefined)).toContain('AUDIT INCOMPLETE');
  const table = renderReport(
    {
      runId: 'r',
      startedAt: cluster.startedAt,
      finishedAt: cluster.finishedAt,
      trigger: 'cli',
      clusters: [cluster],
    },
    'table',
  );
  expect(table).toContain('AUDIT INCOMPLETE');
  expect(table).toContain('(audit incomplete)');
}

/** A check that could not be evaluated says so once and says nothing else. */
function expectOnlyNotEvaluated(cluster: ClusterReport, checkIds: string[]): void {
  for (const id of checkIds) {
    expect(
      cluster.findings.filter((f) => f.checkId === id).map((f) => `${f.status} ${f.messageId}`),
    ).toEqual(['ERROR not-evaluated']);
  }
}

let healthy: ClusterReport;
beforeAll(async () => {
  healthy = (await auditCase(new CaseRecorder('baseline', 'kubernetes'), { fixture: 'healthy' }))
    .cluster;
  expect(healthy.status).toBe('PASS');
});

describe('fault matrix: Kubernetes API', () => {
  faultCase(
    book,
    'kubernetes',
    '401 once (token expired): the token is refreshed, the request retried once, and the audit completes',
    async (c) => {
      const state = { current: 'expired-token', invalidations: 0 };
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.setToken('fresh-token');
          c.inject();
        },
        access: (s, name) => ({
          kind: 'token',
          clusterName: name,
          server: s.url,
          caData: s.caData,
          token: async () => state.current,
          onUnauthorized: () => {
            state.invalidations += 1;
            state.current = s.token;
          },
        }),
      });
      const reqs = o.requests.healthy!;
      expect(state.invalidations).toBe(1);
      expect(statuses(reqs).filter((s) => s === 401)).toHaveLength(1);
      expect(statuses(hits(reqs, NAMESPACES))).toEqual([401, 200]);
      expect(summary(o.cluster)).toEqual(summary(healthy));
    },
  );

  faultCase(
    book,
    'kubernetes',
    '401 on every request: one refresh and retry, then the cluster is ERROR and nothing else is asked',
    async (c) => {
      c.inject();
      let invalidations = 0;
      const o = await auditCase(c, {
        access: (s, name) => ({
          kind: 'token',
          clusterName: name,
          server: s.url,
          caData: s.caData,
          token: async () => 'revoked-token',
          onUnauthorized: () => void (invalidations += 1),
        }),
      });
      const reqs = o.requests.healthy!;
      // The namespaces probe and its one retry; no other kind is hammered with a dead token.
      expect(reqs.map((r) => `${r.path} ${r.status}`)).toEqual([
        `${NAMESPACES} 401`,
        `${NAMESPACES} 401`,
      ]);
      expect(invalidations).toBe(2);
      expect(o.cluster.findings.map((f) => `${f.status} ${f.checkId} ${f.messageId}`)).toEqual([
        'ERROR audit-cluster unreachable',
      ]);
      expect(o.cluster.errors[0]).toMatchObject({ code: 'Unauthorized' });
      expectIncomplete(o.cluster, /credentials were rejected/);
    },
  );

  const listed = KUBE_KINDS.filter((k) => k.verbs.includes('list'));
  for (const kind of listed) {
    const path = kind.group
      ? `/apis/${kind.group}/${kind.version}/${kind.resource}`
      : `/api/v1/${kind.resource}`;
    faultCase(
      book,
      'kubernetes',
      `403 on ${qualifiedResource(kind)}: ERROR for that kind, the checks needing it not evaluated, every other check still runs`,
      async (c) => {
        const o = await auditCase(c, {
          beforeAudit: (s) => {
            s.inject({ path, status: 403 });
            c.inject();
          },
        });
        const cluster = o.cluster;
        expect(cluster.errors.map((e) => `${e.kind} ${e.code} ${e.status}`)).toContain(
          `${qualifiedResource(kind)} Forbidden 403`,
        );
        // EC2 instances are chosen from the node list: without nodes they are not described either.
        const failed: DataKey[] = [
          `kube.${kind.key}` as DataKey,
          ...(kind.key === 'nodes' ? (['aws.instances'] as DataKey[]) : []),
        ];
        const skipped = needing(...failed);
        expect(notEvaluated(cluster)).toEqual(skipped);
        expectOnlyNotEvaluated(cluster, skipped);
        expect(cluster.findings.filter((f) => f.status === 'PASS').length).toBeGreaterThan(0);
        expectIncomplete(cluster, new RegExp(`list ${path.replace(/[.]/g, '\\.')}`));
        expect(
          cluster.findings.find((f) => f.checkId === 'audit-collection')!.remediation,
        ).toContain('auditor-rbac.yaml');
      },
    );
  }

  faultCase(
    book,
    'kubernetes',
    '404 on the external-secrets.io CRD group: ESO is not installed, a fact and not an error',
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ prefix: '/apis/external-secrets.io/', status: 404 });
          c.inject();
        },
      });
      const reqs = o.requests.healthy!;
      // v1 first, then the v1beta1 fallback, for each ESO kind; then it is recorded as not installed.
      expect(
        hits(reqs, '/apis/external-secrets.io/v1/externalsecrets').map((r) => r.status),
      ).toEqual([404]);
      expect(
        hits(reqs, '/apis/external-secrets.io/v1beta1/externalsecrets').map((r) => r.status),
      ).toEqual([404]);
      expect(o.cluster.errors).toEqual([]);
      expect(o.cluster.findings.filter((f) => f.status !== 'PASS')).toEqual([]);
      expect(o.cluster.status).toBe('PASS');
    },
  );

  faultCase(
    book,
    'kubernetes',
    '404 on a built-in kind: an ERROR, never mistaken for "not installed"',
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: '/apis/discovery.k8s.io/v1/endpointslices', status: 404 });
          c.inject();
        },
      });
      expect(o.cluster.errors.map((e) => `${e.kind} ${e.code}`)).toEqual([
        'endpointslices.discovery.k8s.io NotFound',
      ]);
      expect(o.cluster.status).toBe('ERROR');
    },
  );

  const paged = { kubernetes: { ...FAST_KUBE, pageSize: 2 } };
  faultCase(
    book,
    'kubernetes',
    '410 on a continue token: the list restarts from the first page once and completes',
    async (c) => {
      const o = await auditCase(
        c,
        {
          beforeAudit: (s) => {
            s.inject({ path: PODS, query: { continue: true }, status: 410, times: 1 });
            c.inject();
          },
        },
        paged,
      );
      const pods = hits(o.requests.healthy!, PODS);
      expect(pods[1]).toMatchObject({ status: 410 });
      expect(pods[2]!.query.continue).toBeUndefined();
      expect(statuses(pods).filter((s) => s === 410)).toHaveLength(1);
      expect(summary(o.cluster)).toEqual(summary(healthy));
    },
  );

  faultCase(
    book,
    'kubernetes',
    '410 again after the restart: no second restart, ERROR Gone for that kind',
    async (c) => {
      const o = await auditCase(
        c,
        {
          beforeAudit: (s) => {
            s.inject({ path: PODS, query: { continue: true }, status: 410 });
            c.inject();
          },
        },
        paged,
      );
      expect(statuses(hits(o.requests.healthy!, PODS))).toEqual([200, 410, 200, 410]);
      expect(o.cluster.errors.map((e) => `${e.kind} ${e.code}`)).toEqual(['pods Gone']);
      expectIncomplete(o.cluster, /410 Gone/);
    },
  );

  faultCase(
    book,
    'kubernetes',
    '429 with Retry-After: 1: the retry waits the second the server asked for, then completes',
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: PODS, status: 429, headers: { 'retry-after': '1' }, times: 1 });
          c.inject();
        },
      });
      expect(statuses(hits(o.requests.healthy!, PODS))).toEqual([429, 200]);
      // The one wait of the audit is the second the server asked for, no more, no backoff on top
      // (the harness's sleep records the delay instead of waiting it out).
      expect(o.kubeWaits).toEqual([1000]);
      expect(summary(o.cluster)).toEqual(summary(healthy));
    },
  );

  faultCase(
    book,
    'kubernetes',
    `429 with a Retry-After beyond the ${DEFAULT_RETRY.maxRetryAfterSeconds} s bound: fails at once instead of waiting an hour`,
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: PODS, status: 429, headers: { 'retry-after': '3600' } });
          c.inject();
        },
      });
      expect(statuses(hits(o.requests.healthy!, PODS))).toEqual([429]);
      // At once: no wait at all, neither the hour asked for nor a backoff.
      expect(o.kubeWaits).toEqual([]);
      expect(o.cluster.errors[0]!.message).toContain(
        `Retry-After 3600s is longer than the ${DEFAULT_RETRY.maxRetryAfterSeconds}s the auditor waits`,
      );
      expectIncomplete(o.cluster, /Retry-After 3600s/);
    },
  );

  faultCase(
    book,
    'kubernetes',
    '503 twice: retried with backoff, the list completes',
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: PODS, status: 503, times: 2 });
          c.inject(2);
        },
      });
      expect(statuses(hits(o.requests.healthy!, PODS))).toEqual([503, 503, 200]);
      expect(o.kubeWaits).toHaveLength(2);
      expect(summary(o.cluster)).toEqual(summary(healthy));
    },
  );

  faultCase(
    book,
    'kubernetes',
    `500 on every attempt: ${1 + DEFAULT_RETRY.transientRetries} attempts with growing, capped backoff, then ERROR`,
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: PODS, status: 500 });
          c.inject();
        },
      });
      expect(statuses(hits(o.requests.healthy!, PODS))).toEqual(
        Array(1 + DEFAULT_RETRY.transientRetries).fill(500),
      );
      expect(o.cluster.errors[0]!.message).toContain(
        `gave up after ${1 + DEFAULT_RETRY.transientRetries} attempts`,
      );
      expectIncomplete(o.cluster, /HTTP 500/);
      expectOnlyNotEvaluated(o.cluster, needing('kube.pods'));

      // The waits between those attempts, through the same client with the jitter pinned high.
      const server = await startTestApiServer({
        manifests: loadManifests(join(FIXTURES_DIR, 'healthy')),
      });
      const waits: number[] = [];
      try {
        server.inject({ path: PODS, status: 500 });
        const options = parseConfig(
          { clusters: [{ name: 'healthy' }], kubernetes: FAST_KUBE },
          'test',
        ).kubernetes;
        const port = createKubePort(
          {
            kind: 'token',
            clusterName: 'healthy',
            server: server.url,
            caData: server.caData,
            token: async () => server.token,
          },
          options,
        );
        const kube = await collectKube(port, DEFAULT_SETTINGS, options, {
          retry: { random: () => 1, sleep: async (ms) => void waits.push(ms) },
        });
        await port.close();
        expect(kube.pods.status).toBe('error');
      } finally {
        await server.close();
      }
      const { baseDelayMs: base, maxDelayMs: max, transientRetries: n } = DEFAULT_RETRY;
      expect(waits).toEqual(Array.from({ length: n }, (_, i) => Math.min(max, base * 2 ** i)));
    },
  );

  faultCase(book, 'kubernetes', 'connection reset once: retried, the list completes', async (c) => {
    const o = await auditCase(c, {
      beforeAudit: (s) => {
        s.inject({ path: PODS, reset: true, times: 1 });
        c.inject();
      },
    });
    expect(statuses(hits(o.requests.healthy!, PODS))).toEqual([0, 200]);
    expect(summary(o.cluster)).toEqual(summary(healthy));
  });

  faultCase(
    book,
    'kubernetes',
    'connection reset on every attempt: bounded retries, ERROR Network for that kind, the rest collected',
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: PODS, reset: true });
          c.inject();
        },
      });
      expect(hits(o.requests.healthy!, PODS)).toHaveLength(1 + DEFAULT_RETRY.transientRetries);
      expect(o.cluster.errors.map((e) => `${e.kind} ${e.code}`)).toEqual(['pods Network']);
      expectIncomplete(o.cluster, /reachable/);
    },
  );

  faultCase(
    book,
    'kubernetes',
    'a response slower than the timeout: aborted at requestTimeoutMs, retried within the bound, then ERROR Timeout',
    async (c) => {
      const timeoutMs = 150;
      // The pods list never answers and times out as soon as the server holds it; every other
      // request has a timeout no loaded machine reaches, so pods alone can time out.
      const pods = timeoutOn(PODS);
      const o = await auditCase(
        c,
        {
          requestTimer: pods.timer,
          beforeAudit: (s) => {
            s.inject(pods.fault);
            c.inject();
          },
        },
        { kubernetes: { ...FAST_KUBE, requestTimeoutMs: timeoutMs } },
      );
      const attempts = 1 + DEFAULT_RETRY.transientRetries;
      expect(hits(o.requests.healthy!, PODS)).toHaveLength(attempts);
      expect(pods.expired()).toBe(attempts);
      expect(o.cluster.errors.map((e) => `${e.kind} ${e.code}`)).toEqual(['pods Timeout']);
      expect(o.cluster.errors[0]!.message).toContain(`no response within ${timeoutMs} ms`);
      // Every attempt is cut by its timeout (the message above; the server never answers) and every
      // wait between attempts is capped by the backoff bound (recorded, not waited out). Only pods
      // can time out, so the waits are exactly the pods retries.
      const cap = Math.min(
        DEFAULT_RETRY.maxDelayMs,
        DEFAULT_RETRY.baseDelayMs * 2 ** (DEFAULT_RETRY.transientRetries - 1),
      );
      expect(o.kubeWaits).toHaveLength(attempts - 1);
      for (const ms of o.kubeWaits) expect(ms).toBeLessThanOrEqual(cap);
      expectIncomplete(o.cluster, /raise kubernetes\.requestTimeoutMs/);
    },
  );

  faultCase(
    book,
    'kubernetes',
    'malformed JSON in a 200 answer: ERROR BadResponse, not retried, the body never echoed',
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: PODS, malformedJson: true });
          c.inject();
        },
      });
      expect(hits(o.requests.healthy!, PODS)).toHaveLength(1);
      expect(o.cluster.errors.map((e) => `${e.kind} ${e.code}`)).toEqual(['pods BadResponse']);
      expect(o.cluster.errors[0]!.message).not.toContain('"kind"');
      expectIncomplete(o.cluster, /not JSON/);
    },
  );

  faultCase(
    book,
    'kubernetes',
    'a body cut off mid-way, once: retried, the list completes',
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: PODS, truncate: true, times: 1 });
          c.inject();
        },
      });
      expect(hits(o.requests.healthy!, PODS)).toHaveLength(2);
      expect(summary(o.cluster)).toEqual(summary(healthy));
    },
  );

  faultCase(
    book,
    'kubernetes',
    'a body cut off on every attempt: bounded retries, then ERROR, never a partial list',
    async (c) => {
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path: PODS, truncate: true });
          c.inject();
        },
      });
      expect(hits(o.requests.healthy!, PODS)).toHaveLength(1 + DEFAULT_RETRY.transientRetries);
      expect(o.cluster.errors.map((e) => e.kind)).toEqual(['pods']);
      expectOnlyNotEvaluated(o.cluster, needing('kube.pods'));
      expectIncomplete(o.cluster, /pods/);
    },
  );

  faultCase(
    book,
    'kubernetes',
    'a TLS certificate from another CA: fails closed, no request is sent, never retried without verification',
    async (c) => {
      c.inject();
      const o = await auditCase(c, { server: { certFromOtherCa: true } });
      expect(o.requests.healthy).toEqual([]);
      // One handshake: TLS failures are not retried (and a retry could only fail the same way).
      expect(o.connections.healthy).toBe(1);
      expect(o.cluster.errors.map((e) => e.code)).toEqual(['TLS']);
      expect(o.cluster.findings.map((f) => f.checkId)).toEqual(['audit-cluster']);
      expectIncomplete(o.cluster, /verification is never skipped/);
    },
  );

  faultCase(
    book,
    'kubernetes',
    'a kubeconfig that says insecure-skip-tls-verify: refused before any request',
    async (c) => {
      c.inject();
      const server = await startTestApiServer({ manifests: [], certFromOtherCa: true });
      const dir = mkdtempSync(join(tmpdir(), 'insecure-kubeconfig-'));
      const path = join(dir, 'config');
      try {
        writeFileSync(
          path,
          server
            .kubeconfig()
            .replace(/certificate-authority-data: \S+/, 'insecure-skip-tls-verify: true'),
        );
        const config = parseConfig(
          { clusters: [{ name: 'healthy', region: 'eu-west-1' }] },
          'test',
        );
        const err = await collectCluster(config.clusters[0]!, config, {
          kubeconfig: { path },
          skipAws: true,
        }).catch((e: Error) => e);
        c.record('thrown', err);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toContain('never skips verification');
        expect(server.requests).toEqual([]);
        expect(server.connections).toBe(0);
      } finally {
        await server.close();
      }
    },
  );

  faultCase(book, 'kubernetes', 'an object of 5 MB: read whole, the audit unchanged', async (c) => {
    const o = await auditCase(c, {
      beforeAudit: (s) => {
        s.inject({ path: PODS, padBytes: 5_000_000 });
        c.inject();
      },
    });
    expect(hits(o.requests.healthy!, PODS)).toHaveLength(1);
    expect(summary(o.cluster)).toEqual(summary(healthy));
    // How long reading it takes is a benchmark figure: `npm run bench -- --timings`.
  });

  faultCase(
    book,
    'kubernetes',
    '403 on one Secret GET: that secret is ERROR, never PASS, and the audit is incomplete',
    async (c) => {
      const path = '/api/v1/namespaces/golang/secrets/golang-secrets';
      const o = await auditCase(c, {
        beforeAudit: (s) => {
          s.inject({ path, status: 403 });
          c.inject();
        },
      });
      expect(o.cluster.errors.map((e) => `${e.kind} ${e.namespace}/${e.name} ${e.code}`)).toEqual([
        'secrets golang/golang-secrets Forbidden',
      ]);
      // The checks that compare what the Secret holds: none may pass it unread.
      const aboutIt = o.cluster.findings.filter(
        (f) => CONTENT_CHECKS.includes(f.checkId) && f.message.includes('golang/golang-secrets'),
      );
      expect(
        aboutIt.filter((f) => f.status === 'PASS').map((f) => `${f.checkId} ${f.message}`),
      ).toEqual([]);
      expect(aboutIt.filter((f) => f.status === 'ERROR').length).toBeGreaterThan(0);
      expectIncomplete(o.cluster, /get \/api\/v1\/namespaces\/golang\/secrets\/golang-secrets/);
    },
  );

  const SECRET_PATH = '/api/v1/namespaces/datadog/secrets/datadog-secrets';
  /** The Secret as the API server would serve it, base64 `data` holding the canaries. */
  const secretJson = () => {
    const doc = loadManifests(join(FIXTURES_DIR, 'healthy')).find(
      (d) => d?.kind === 'Secret' && d.metadata?.name === 'datadog-secrets',
    )!;
    const data = Object.fromEntries(
      Object.entries(doc.stringData as Record<string, string>).map(([k, v]) => [
        k,
        Buffer.from(v).toString('base64'),
      ]),
    );
    return { apiVersion: 'v1', kind: 'Secret', metadata: doc.metadata, data };
  };

  faultCase(
    book,
    'kubernetes',
    'a Secret GET answered with an error whose body is the Secret itself, or with the Secret cut into invalid JSON: ERROR, and not one byte of it echoed',
    async (c) => {
      const body = secretJson();
      // V8's JSON.parse error quotes the text around the fault: the client must keep only its name.
      for (const fault of [
        { status: 500, body },
        { status: 200, body: JSON.stringify(body).slice(0, -7) },
      ]) {
        const o = await auditCase(c, {
          beforeAudit: (s) => {
            s.inject({ path: SECRET_PATH, ...fault });
            c.inject();
          },
        });
        expect(o.cluster.errors.map((e) => `${e.kind} ${e.namespace}/${e.name}`)).toEqual([
          'secrets datadog/datadog-secrets',
        ]);
        expect(o.cluster.status).toBe('ERROR');
      }
    },
  );

  faultCase(
    book,
    'kubernetes',
    'SubjectAccessReviews forbidden: the static RBAC verdicts stand, reported as not confirmed rather than an error',
    async (c) => {
      c.inject();
      const o = await auditCase(c, { server: { accessReviews: 'forbidden' } });
      expect(o.cluster.errors).toEqual([]);
      expect(summary(o.cluster)).toEqual(summary(healthy));
    },
  );
});
