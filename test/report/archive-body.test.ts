import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { StandardRetryStrategy } from '@smithy/core/retry';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ARCHIVE_CHUNK_BYTES,
  archiveBody,
  releaseNow,
  RELEASE_MIN_BYTES,
  ReportArchive,
  toArchived,
  type ArchivedClusterReport,
} from '../../lambda/deliver/archive.js';
import { diffReports } from '../../lambda/report/diff.js';
import { safeJsonStringify } from '../../lambda/report/render-json.js';
import { requestBodyBytes } from '../support/request-body.js';
import { bodyBytesOf, clusterReport, fieldReportFindings, RUN_ID } from './support.js';

function crc32Base64(bytes: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(bytes) >>> 0);
  return out.toString('base64');
}

function archived(mutate?: (r: ArchivedClusterReport) => void): ArchivedClusterReport {
  const report = clusterReport(fieldReportFindings(), { region: 'eu-west-1' });
  const out = toArchived(
    report,
    { runId: RUN_ID, trigger: 'scheduled' },
    diffReports(report, undefined),
  );
  mutate?.(out);
  return out;
}

describe('archiveBody', () => {
  it.each([
    ['a report with findings', archived()],
    ['a report without findings', archived((r) => (r.findings = []))],
    [
      'a report whose texts need escaping (quotes, line separators, bidi controls, non-ASCII)',
      archived((r) => {
        r.findings[0]!.message = 'say "findings":[] \u2028 next\u202e — café ✓';
        r.errors.push({
          source: 'kubernetes',
          kind: 'pods',
          code: 'Forbidden',
          message: '{"findings":[]} \u0085 quoted',
        });
      }),
    ],
  ])(
    'streams the same bytes as safeJsonStringify for %s, with their length and CRC32',
    async (_name, report) => {
      const expected = Buffer.from(safeJsonStringify(report), 'utf8');
      const body = archiveBody(report);
      expect((await bodyBytesOf(body)).equals(expected)).toBe(true);
      expect(body.length).toBe(expected.length);
      expect(body.crc32).toBe(crc32Base64(expected));
    },
  );

  it('keeps the key order of the report, findings where they were', async () => {
    const keys = Object.keys(JSON.parse((await bodyBytesOf(archiveBody(archived()))).toString()));
    expect(keys).toEqual(Object.keys(archived()));
  });

  it('gives a fresh stream of the whole body each time, in chunks, never the body in one piece', async () => {
    const report = archived((r) => {
      const base = r.findings[0]!;
      r.findings = Array.from({ length: 4000 }, (_, i) => ({
        ...base,
        id: `${base.checkId}:${i}`,
        message: `${base.message} (${i})`,
      }));
    });
    const body = archiveBody(report);
    expect(body.length).toBeGreaterThan(3 * ARCHIVE_CHUNK_BYTES);
    const sizes: number[] = [];
    for await (const chunk of body.stream()) sizes.push((chunk as Buffer).length);
    expect(sizes.length).toBeGreaterThan(3);
    expect(Math.max(...sizes)).toBeLessThan(ARCHIVE_CHUNK_BYTES + 64 * 1024);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(body.length);
    // Read again: the same bytes from the start.
    expect(crc32Base64(await bodyBytesOf(body))).toBe(body.crc32);
  });
});

describe('ReportArchive.write through the S3 client', () => {
  /** S3 at the HTTP layer of the real client: the first PUT of each key fails with a 500. */
  function flakyBucket() {
    const received: { key: string; headers: Record<string, string>; bytes: Buffer }[] = [];
    const failed = new Set<string>();
    const requestHandler = {
      async handle(request: HttpRequest) {
        const key = decodeURIComponent(request.path.replace(/^\/bucket\//, ''));
        const bytes = await requestBodyBytes(request.body);
        if (!failed.has(key)) {
          failed.add(key);
          const xml =
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';
          return {
            response: new HttpResponse({
              statusCode: 500,
              headers: { 'content-type': 'application/xml' },
              body: Readable.from([Buffer.from(xml)]),
            }),
          };
        }
        received.push({ key, headers: { ...request.headers }, bytes });
        return {
          response: new HttpResponse({
            statusCode: 200,
            headers: { etag: '"written"' },
            body: Readable.from([]),
          }),
        };
      },
    };
    const s3 = new S3Client({
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
      requestHandler,
      retryStrategy: new StandardRetryStrategy({
        maxAttempts: 3,
        backoff: { setDelayBase: () => undefined, computeNextBackoffDelay: () => 0 },
      }),
    });
    return { s3, received };
  }

  it('sends the whole body on the retry after a 5xx, with its length and a CRC32 S3 can check', async () => {
    const report = archived();
    const expected = Buffer.from(safeJsonStringify(report), 'utf8');
    const { s3, received } = flakyBucket();
    const result = await new ReportArchive(s3, 'bucket').write('golang-cluster', report, undefined);
    expect(result.latest).toBe('updated');
    expect(received.map((r) => r.key)).toEqual([result.key, 'reports/golang-cluster/latest.json']);
    for (const r of received) {
      expect(r.bytes.equals(expected)).toBe(true);
      const header = (name: string) =>
        Object.entries(r.headers).find(([k]) => k.toLowerCase() === name)?.[1];
      expect(header('content-length')).toBe(String(expected.length));
      expect(header('x-amz-checksum-crc32')).toBe(crc32Base64(expected));
      // Not re-encoded by the SDK's own checksum step (aws-chunked is for unknown lengths).
      expect(header('content-encoding')).toBeUndefined();
      // Signed as a stream: had the signer seen the empty placeholder, this would be the hash of
      // no bytes and S3 would refuse the request (XAmzContentSHA256Mismatch).
      expect(header('x-amz-content-sha256')).toBe('UNSIGNED-PAYLOAD');
    }
  });
});

describe('ReportArchive.readLatest with a streamed body', () => {
  it('decodes a body whose multi-byte characters are split across chunks', async () => {
    const report = archived((r) => (r.findings[0]!.message = 'café ✓ — done'));
    const bytes = await bodyBytesOf(archiveBody(report));
    const split = bytes.indexOf(Buffer.from('✓')) + 1;
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand).callsFake(() => ({
      ETag: '"e"',
      Body: (async function* () {
        yield bytes.subarray(0, split);
        yield bytes.subarray(split);
      })(),
    }));
    try {
      const read = await new ReportArchive(new S3Client({}), 'bucket').readLatest('golang-cluster');
      expect(read.report?.findings[0]?.message).toBe('café ✓ — done');
      expect(read.etag).toBe('"e"');
    } finally {
      s3.restore();
    }
  });
});

describe('releaseNow', () => {
  it('frees a large buffer at once (it reads as empty) and leaves a small one alone', () => {
    const large = Buffer.alloc(RELEASE_MIN_BYTES, 1);
    expect(releaseNow(large)).toBe(true);
    expect(large.buffer.byteLength).toBe(0);
    const small = Buffer.from('{"findings":[]}');
    expect(releaseNow(small)).toBe(false);
    expect(small.toString()).toBe('{"findings":[]}');
  });
});
