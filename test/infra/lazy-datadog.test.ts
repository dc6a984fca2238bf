/**
 * The real handler bundle (buildHandlerBundle, as the stack builds it): the Datadog client stays
 * out of index.mjs, in datadog.mjs beside it, and that file works on its own with the client's
 * default transport.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildHandlerBundle, LAZY_DATADOG_FILE } from '../../infra/bundling.js';
import { auditReport, clusterReport, fieldReportFindings } from '../report/support.js';

/** .ci/run's limit for the function bundle. */
const MAX_BUNDLE_BYTES = 2_621_440;
const KEY = 'ddcanary-bundle-0123456789abcdef';

describe('the handler bundle and the lazily loaded Datadog delivery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lazy-datadog-'));
  let index: string;
  beforeAll(async () => {
    index = await buildHandlerBundle(dir);
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the Datadog client out of index.mjs, which imports datadog.mjs only on demand', () => {
    const code = readFileSync(index, 'utf8');
    expect(statSync(index).size).toBeLessThan(MAX_BUNDLE_BYTES);
    expect(code).toContain(`import("./${LAZY_DATADOG_FILE}")`);
    expect(code).not.toContain('/api/v2/series');
    expect(readFileSync(join(dir, LAZY_DATADOG_FILE), 'utf8')).toContain('/api/v2/series');
  });

  it('is ASCII throughout, so V8 holds the source of each file at one byte per character', () => {
    // One non-ASCII character (a regex's micro sign, a licence comment's name) doubled the
    // 3 MB source string in the function's heap.
    for (const file of [index, join(dir, LAZY_DATADOG_FILE)]) {
      const bytes = readFileSync(file);
      const at = bytes.findIndex((b) => b > 0x7f);
      expect(at === -1 ? 'ascii' : `${file}: non-ASCII at byte ${at}`).toBe('ascii');
    }
  });

  it('sends with the bundled client and its default transport', async () => {
    const seen: { path: string; key: unknown; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', key: req.headers['dd-api-key'], body });
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"errors":[]}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const mod = (await import(pathToFileURL(join(dir, LAZY_DATADOG_FILE)).href)) as {
        deliverToDatadog: (...args: unknown[]) => Promise<{ series: number; failed: string[] }>;
      };
      // The bundle carries its own copy of the SDK, so aws-sdk-client-mock cannot reach its
      // client class: the key source is an object with the client's `send`.
      const secrets = { send: () => Promise.resolve({ SecretString: KEY }) };
      const outcome = await mod.deliverToDatadog(
        auditReport([clusterReport(fieldReportFindings())]),
        {},
        { site: 'datadoghq.com', apiKeySecret: 'datadog/api-key', tags: [] },
        { secrets, baseUrl: `http://127.0.0.1:${port}` },
        { archives: {} },
      );
      expect(outcome.failed).toEqual([]);
      expect(seen.map((s) => s.path)).toEqual(['/api/v2/series']);
      expect(seen[0]!.key).toBe(KEY);
      expect(JSON.parse(seen[0]!.body).series.length).toBe(outcome.series);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
