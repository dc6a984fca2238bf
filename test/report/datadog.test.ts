/**
 * The Datadog delivery through the official client, against a local HTTPS intake that records
 * what the client sends. Only the server URL and the TLS trust differ from production: the
 * client's own HTTP library (cross-fetch, i.e. node-fetch) sends every request, given an agent
 * that trusts the test CA.
 */
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { fetch as crossFetch } from 'cross-fetch';
import type { HandlerSummary } from '../../lambda/deliver/deliver.js';
import {
  deliverToDatadog,
  driftEvent,
  DURATION_METRIC,
  FINDINGS_METRIC,
} from '../../lambda/deliver/datadog.js';
import { diffReports } from '../../lambda/report/diff.js';
import { testTlsMaterial } from '../../lambda/run/demo/kube-api-server.js';
import { harness, testConfig } from '../handler/support.js';
import {
  auditReport,
  clusterReport,
  CONTROL_CHARS,
  fieldReportFindings,
  hostileFindings,
} from './support.js';

const CANARY_KEY = 'ddcanary0123456789abcdef01234567';
const SECRET_ID = 'datadog/api-key';

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

interface Intake {
  url: string;
  requests: Recorded[];
  /** Status per path prefix, for faults; default 202. */
  statusFor: Map<string, number>;
  fetch: unknown;
  close(): Promise<void>;
}

async function startIntake(): Promise<Intake> {
  const tls = await testTlsMaterial('datadog-intake-ca');
  const requests: Recorded[] = [];
  const statusFor = new Map<string, number>();
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      if (encoding === 'gzip') raw = gunzipSync(raw);
      if (encoding === 'deflate') raw = inflateSync(raw);
      const text = raw.toString('utf8');
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      });
      const path = req.url ?? '';
      const status = [...statusFor].find(([prefix]) => path.startsWith(prefix))?.[1] ?? 202;
      res.writeHead(status, { 'content-type': 'application/json' });
      if (status >= 400) res.end(JSON.stringify({ errors: ['Forbidden'] }));
      else if (path.startsWith('/api/v1/events')) {
        res.end(JSON.stringify({ status: 'ok', event: { id: 1, title: 'x' } }));
      } else res.end(JSON.stringify({ errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ ca: tls.caPem, keepAlive: false });
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    statusFor,
    fetch: (url: string, init: Record<string, unknown>) =>
      crossFetch(url, { ...init, agent } as RequestInit),
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

function secrets(value: string | undefined = CANARY_KEY) {
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  mock.on(GetSecretValueCommand, { SecretId: SECRET_ID }).resolves({ SecretString: value });
  return { client, mock };
}

let intake: Intake;
beforeEach(async () => {
  intake = await startIntake();
});
afterEach(async () => {
  await intake.close();
});

const DATADOG = { apiKeySecret: SECRET_ID, site: 'datadoghq.eu', tags: ['env:prod'] };

describe('Datadog delivery with the official client', () => {
  it('sends an event for the cluster whose findings drifted and the findings and duration metrics', async () => {
    const sm = secrets();
    const h = harness({ config: testConfig({ datadog: DATADOG }) });
    h.deps.integrations = {
      datadog: { secrets: sm.client, baseUrl: intake.url, fetch: intake.fetch },
    };
    const res = (await h.handler({})) as HandlerSummary;
    expect(res.ok).toBe(true);
    expect(res.datadog).toMatchObject({ site: 'datadoghq.eu', events: 1, failed: [] });

    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(intake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v1/events',
      'POST /api/v2/series',
    ]);
    for (const r of intake.requests) {
      expect(r.headers['dd-api-key']).toBe(CANARY_KEY);
      expect(r.headers['dd-application-key']).toBeUndefined();
    }

    const event = intake.requests[0]!.body as Record<string, unknown>;
    expect(event).toMatchObject({
      title: 'eks-datadog-auditor: golang-cluster: 2 new, 0 resolved',
      alert_type: 'error',
      source_type_name: 'eks-datadog-auditor',
      tags: [
        'cluster:golang-cluster',
        'region:eu-west-1',
        'source:eks-datadog-auditor',
        'env:prod',
      ],
    });
    expect(event.text).toContain('failing: 1 critical, 1 high');
    expect(event.text).toContain('s3://audit-bucket/reports/');

    const { series } = intake.requests[1]!.body as {
      series: { metric: string; type: number; tags: string[]; points: { value: number }[] }[];
    };
    expect(res.datadog?.series).toBe(series.length);
    const findings = series.filter((s) => s.metric === FINDINGS_METRIC);
    expect(findings.every((s) => s.type === 3)).toBe(true);
    const failing = findings.find(
      (s) =>
        s.tags.includes('cluster:golang-cluster') &&
        s.tags.includes('check:token-ref-resolves') &&
        s.tags.includes('status:fail'),
    );
    expect(failing?.tags).toEqual(
      expect.arrayContaining(['severity:critical', 'source:eks-datadog-auditor', 'env:prod']),
    );
    expect(failing?.points[0]?.value).toBe(1);
    expect(
      findings.some((s) => s.tags.includes('cluster:payments') && s.tags.includes('status:pass')),
    ).toBe(true);
    const duration = series.filter((s) => s.metric === DURATION_METRIC);
    expect(duration).toHaveLength(1);
    expect(duration[0]!.points[0]!.value).toBeGreaterThanOrEqual(0);

    expect(JSON.stringify([res, h.logger.records])).not.toContain(CANARY_KEY);
  });

  it('sends no event when nothing drifted, and a zero for a fixed finding', async () => {
    const sm = secrets();
    const h = harness({ config: testConfig({ datadog: DATADOG }) });
    h.deps.integrations = {
      datadog: { secrets: sm.client, baseUrl: intake.url, fetch: intake.fetch },
    };
    await h.handler({});
    intake.requests.length = 0;
    await h.handler({});
    expect(intake.requests.map((r) => r.path)).toEqual(['/api/v2/series']);

    h.findings['golang-cluster'] = h.findings['golang-cluster']!.map((f) =>
      f.checkId === 'rbac-agent-permissions' ? { ...f, status: 'PASS' as const } : f,
    );
    intake.requests.length = 0;
    await h.handler({});
    expect(intake.requests.map((r) => r.path)).toEqual(['/api/v1/events', '/api/v2/series']);
    const event = intake.requests[0]!.body as { title: string };
    expect(event.title).toBe('eks-datadog-auditor: golang-cluster: 0 new, 1 resolved');
    const { series } = intake.requests[1]!.body as {
      series: { tags: string[]; points: { value: number }[] }[];
    };
    const fixed = series.find(
      (s) => s.tags.includes('check:rbac-agent-permissions') && s.tags.includes('status:fail'),
    );
    expect(fixed?.points[0]?.value).toBe(0);
  });

  it('reports a refused request without the key, and the run still succeeds', async () => {
    intake.statusFor.set('/api/v1/events', 403);
    const sm = secrets();
    const h = harness({ config: testConfig({ datadog: DATADOG }) });
    h.deps.integrations = {
      datadog: { secrets: sm.client, baseUrl: intake.url, fetch: intake.fetch },
    };
    const res = (await h.handler({})) as HandlerSummary;
    expect(res.ok).toBe(true);
    expect(res.datadog?.events).toBe(0);
    expect(res.datadog?.failed).toEqual([
      expect.stringMatching(/^event for cluster golang-cluster: /),
    ]);
    expect(res.warnings.join('\n')).toMatch(/Datadog: event for cluster golang-cluster/);
    expect(intake.requests.map((r) => r.path)).toEqual(['/api/v1/events', '/api/v2/series']);
    expect(JSON.stringify([res, h.logger.records])).not.toContain(CANARY_KEY);
  });

  it('reads the key from a JSON property when configured', async () => {
    const sm = secrets(JSON.stringify({ apiKey: CANARY_KEY }));
    const report = auditReport([clusterReport(fieldReportFindings())]);
    const outcome = await deliverToDatadog(
      report,
      {},
      { ...DATADOG, site: 'datadoghq.com', apiKeyProperty: 'apiKey' },
      { secrets: sm.client, baseUrl: intake.url, fetch: intake.fetch },
      { archives: {} },
    );
    expect(outcome).toMatchObject({ events: 0, failed: [] });
    expect(intake.requests[0]!.headers['dd-api-key']).toBe(CANARY_KEY);
  });

  it('sends nothing when the key secret cannot be read, and says which secret', async () => {
    const client = new SecretsManagerClient({ region: 'eu-west-1' });
    mockClient(client)
      .on(GetSecretValueCommand)
      .rejects(
        Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
      );
    const report = auditReport([clusterReport(fieldReportFindings())]);
    const outcome = await deliverToDatadog(
      report,
      {},
      { ...DATADOG, site: 'datadoghq.com' },
      { secrets: client, baseUrl: intake.url, fetch: intake.fetch },
      { archives: {} },
    );
    expect(outcome.failed).toEqual([
      'API key secret datadog/api-key unreadable: User is not authorized',
    ]);
    expect(intake.requests).toEqual([]);
  });
});

describe('Datadog event text', () => {
  it('neutralises hostile names and stays within the event limits', () => {
    const cluster = clusterReport(hostileFindings());
    const event = driftEvent(cluster, diffReports(cluster, undefined), null, []);
    expect(event.title).not.toMatch(CONTROL_CHARS);
    expect(event.text.replace(/\n/g, '')).not.toMatch(CONTROL_CHARS);
    expect(Array.from(event.title).length).toBeLessThanOrEqual(100);
    expect(Array.from(event.text).length).toBeLessThanOrEqual(4000);
    expect(event.text).toContain('Report: not archived');
  });
});
