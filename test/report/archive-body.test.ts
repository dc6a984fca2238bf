import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  archiveBody,
  releaseNow,
  RELEASE_MIN_BYTES,
  ReportArchive,
  toArchived,
  type ArchivedClusterReport,
} from '../../lambda/deliver/archive.js';
import { diffReports } from '../../lambda/report/diff.js';
import { safeJsonStringify } from '../../lambda/report/render-json.js';
import { clusterReport, fieldReportFindings, RUN_ID } from './support.js';

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
  ])('writes the same bytes as safeJsonStringify for %s', (_name, report) => {
    expect(archiveBody(report).equals(Buffer.from(safeJsonStringify(report), 'utf8'))).toBe(true);
  });

  it('keeps the key order of the report, findings where they were', () => {
    const keys = Object.keys(JSON.parse(archiveBody(archived()).toString('utf8')));
    expect(keys).toEqual(Object.keys(archived()));
  });
});

describe('ReportArchive.readLatest with a streamed body', () => {
  it('decodes a body whose multi-byte characters are split across chunks', async () => {
    const report = archived((r) => (r.findings[0]!.message = 'café ✓ — done'));
    const bytes = archiveBody(report);
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
