/** Helpers shared by the Kubernetes I/O tests: inline YAML fixtures, access, raw HTTPS requests. */
import { request } from 'node:https';
import { parseAllDocuments } from 'yaml';
import type { KubernetesOptions } from '../../lambda/config/config.js';
import type { KubeAccess, RequestTimer } from '../../lambda/collect/kube/client.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import type { RetryPolicy } from '../../lambda/collect/kube/list.js';
import type { Fault, TestApiServer } from '../../lambda/run/demo/kube-api-server.js';

/** Multi-document YAML -> objects. */
export function yamlDocs(text: string): Raw[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean);
}

/**
 * The request timeout is generous: no test waits for it (a timeout test injects its own, see
 * `timeoutOn`), and a loaded machine must not time out and retry a request a test counts.
 */
export const OPTIONS: KubernetesOptions = {
  pageSize: 500,
  secretConcurrency: 4,
  requestTimeoutMs: 20_000,
  accessReviews: true,
  maxAccessReviews: 300,
};

/** Retries without real waiting, for tests that are about what is retried, not when. */
export const FAST_RETRY: Partial<RetryPolicy> = { baseDelayMs: 1, maxDelayMs: 2 };

/**
 * A retry policy whose sleep waits on no clock: it records each delay the retry loop asked for
 * (`waits`, in ms) and resolves at once, for tests about when a retry waits and for how long.
 */
export function recordingRetry(): { retry: Partial<RetryPolicy>; waits: number[] } {
  const waits: number[] = [];
  return { retry: { sleep: async (ms) => void waits.push(ms) }, waits };
}

/** The timeout every request but the chosen one gets from `timeoutOn`: never reached in a test. */
export const GENEROUS_TIMEOUT_MS = 60_000;

/**
 * A timeout on exactly one path, whatever the machine's speed: the test server holds every request
 * to `path` (a `hang` fault, inject it; `times` limits it) and the request timer expires it as soon
 * as the server holds it; every request keeps a real timer of GENEROUS_TIMEOUT_MS too, so a slow
 * machine cannot time out a request that must succeed. Give the timer to `createKubePort` (or the harness).
 */
export function timeoutOn(
  path: string,
  fault: Omit<Fault, 'path' | 'hang' | 'onHeld'> = {},
): { timer: RequestTimer; fault: Fault; expired: () => number } {
  const pending: (() => void)[] = [];
  let expired = 0;
  const timer: RequestTimer = (_ms, expire, request) => {
    const t = setTimeout(expire, GENEROUS_TIMEOUT_MS);
    if (request.path !== path) return () => clearTimeout(t);
    // Requests to the path are answered one at a time (retries), so the oldest is the one held.
    pending.push(expire);
    return () => {
      clearTimeout(t);
      const i = pending.indexOf(expire);
      if (i >= 0) pending.splice(i, 1);
    };
  };
  const onHeld = () => {
    const expire = pending.shift();
    if (!expire) throw new Error(`timeoutOn(${path}): a request was held with no timer started`);
    expired += 1;
    expire();
  };
  return { timer, fault: { ...fault, path, hang: true, onHeld }, expired: () => expired };
}

export function tokenAccess(
  server: TestApiServer,
  overrides: Partial<Extract<KubeAccess, { kind: 'token' }>> = {},
): KubeAccess {
  return {
    kind: 'token',
    clusterName: 'test-cluster',
    server: server.url,
    caData: server.caData,
    token: async () => server.token,
    ...overrides,
  };
}

/** A GET straight to the test server, trusting its CA. */
export function rawGet(
  server: TestApiServer,
  path: string,
  token: string | null = server.token,
): Promise<{ status: number; body: Raw; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { ca: server.caPem, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Raw;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Paths (without query) the server saw, in order. */
export function pathsSeen(server: TestApiServer): string[] {
  return server.requests.map((r) => r.path);
}

/** Pod number `i` of the scale cases (scale.test.ts) and figures (bench/timings.ts): app + agent. */
export function scalePod(i: number) {
  const namespace = `ns-${i % 5000}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `app-${i}-7d9f8b6c5-x2k4p`,
      namespace,
      labels: { app: `app-${i}`, 'eks.amazonaws.com/fargate-profile': 'apps' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `app-${i}-7d9f8b6c5` }],
    },
    spec: {
      serviceAccountName: 'app',
      nodeName: `fargate-ip-10-0-${i % 250}-${i % 200}.eu-west-1.compute.internal`,
      containers: [
        {
          name: 'app',
          image: 'repo/app:1.2.3',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'PORT', value: '8080' }],
        },
        {
          name: 'datadog-agent',
          image: 'public.ecr.aws/datadog/agent:7',
          env: [
            { name: 'DD_EKS_FARGATE', value: 'true' },
            {
              name: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
              valueFrom: { secretKeyRef: { name: 'datadog-secrets', key: 'token' } },
            },
          ],
        },
      ],
    },
    status: {
      phase: 'Running',
      startTime: '2026-11-01T00:00:00Z',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: '2026-11-01T00:00:00Z' } },
        },
      ],
    },
  };
}
