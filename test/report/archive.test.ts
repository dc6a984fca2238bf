import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import 'aws-sdk-client-mock-jest';
import {
  archiveSegment,
  LATEST_WRITE_ATTEMPTS,
  latestKey,
  ReportArchive,
  reportKey,
  toArchived,
  type ArchivedClusterReport,
} from '../../lambda/deliver/archive.js';
import { diffReports } from '../../lambda/report/diff.js';
import { accessDenied, conditionalRequestConflict, fakeS3, preconditionFailed } from './fake-s3.js';
import { clusterReport, fieldReportFindings, RUN_ID } from './support.js';

const BUCKET = 'audit-bucket';
const SEGMENT = 'golang-cluster';
const LATEST = latestKey(SEGMENT);

function archived(runId: string, startedAt: string): ArchivedClusterReport {
  const report = clusterReport(fieldReportFindings(), { startedAt });
  return toArchived(report, { runId, trigger: 'scheduled' }, diffReports(report, undefined));
}

function recordingLogger() {
  const lines: { level: string; message: string; extra?: object }[] = [];
  const log = (level: string) => (message: string, extra?: object) =>
    lines.push({ level, message, extra });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

const ours = () => archived(RUN_ID, '2026-11-24T02:00:00.000Z');
const older = () => archived('2026-11-24T01-00-00Z-aaaaaa', '2026-11-24T01:00:00.000Z');
const newer = () => archived('2026-11-24T03-00-00Z-bbbbbb', '2026-11-24T03:00:00.000Z');

describe('archive keys', () => {
  it('files a run under reports/<cluster>/<yyyy>/<mm>/<dd>/<runId>.json by its UTC start', () => {
    expect(reportKey(SEGMENT, RUN_ID, '2026-01-05T23:30:00.000-02:00')).toBe(
      `reports/golang-cluster/2026/01/06/${RUN_ID}.json`,
    );
    expect(latestKey(SEGMENT)).toBe('reports/golang-cluster/latest.json');
  });

  it('adds the region only when the same cluster name is configured in several regions', () => {
    const eu = clusterReport([], { name: 'prod', region: 'eu-west-1' });
    expect(archiveSegment(eu, ['prod', 'dev'])).toBe('prod');
    expect(archiveSegment(eu, ['prod', 'prod'])).toBe('prod.eu-west-1');
  });
});

describe('ReportArchive.readLatest', () => {
  it('treats a missing latest.json as the first run', async () => {
    const { s3 } = fakeS3();
    await expect(new ReportArchive(s3, BUCKET).readLatest(SEGMENT)).resolves.toEqual({});
  });

  it('returns the previous report and its ETag', async () => {
    const bucket = fakeS3();
    const stored = bucket.put(LATEST, JSON.stringify(older()));
    const read = await new ReportArchive(bucket.s3, BUCKET).readLatest(SEGMENT);
    expect(read.etag).toBe(stored.etag);
    expect(read.report?.runId).toBe(older().runId);
    expect(bucket.mock).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: BUCKET,
      Key: LATEST,
    });
  });

  it.each([
    ['is not JSON', '{"truncated', /is not valid JSON/],
    ['is not a report', '{"hello":"world"}', /is not an auditor report/],
  ])('fails clearly when latest.json %s', async (_name, body, message) => {
    const bucket = fakeS3();
    bucket.put(LATEST, body);
    await expect(new ReportArchive(bucket.s3, BUCKET).readLatest(SEGMENT)).rejects.toThrow(message);
  });

  it('names the missing permission when the read is denied', async () => {
    const bucket = fakeS3();
    bucket.mock.on(GetObjectCommand).rejects(accessDenied());
    await expect(new ReportArchive(bucket.s3, BUCKET).readLatest(SEGMENT)).rejects.toThrow(
      /AccessDenied.*s3:GetObject/,
    );
  });
});

describe('ReportArchive.write', () => {
  it('writes the dated report (PASS results and drift included) and creates latest.json on the first run', async () => {
    const bucket = fakeS3();
    const result = await new ReportArchive(bucket.s3, BUCKET).write(SEGMENT, ours(), undefined);
    const key = `reports/golang-cluster/2026/11/24/${RUN_ID}.json`;
    expect(result).toEqual({
      bucket: BUCKET,
      key,
      location: `s3://${BUCKET}/${key}`,
      latest: 'updated',
    });
    expect(bucket.mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: key,
      IfNoneMatch: '*',
      ContentType: 'application/json',
    });
    expect(bucket.mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: LATEST,
      IfNoneMatch: '*',
    });
    const doc = bucket.json(key);
    expect(doc.findings.filter((f: { status: string }) => f.status === 'PASS')).toHaveLength(2);
    expect(doc.drift.firstRun).toBe(true);
    expect(doc.runId).toBe(RUN_ID);
    expect(bucket.json(LATEST).runId).toBe(RUN_ID);
  });

  it('moves latest.json forward only if it still has the ETag that was read', async () => {
    const bucket = fakeS3();
    const { etag } = bucket.put(LATEST, JSON.stringify(older()));
    const result = await new ReportArchive(bucket.s3, BUCKET).write(SEGMENT, ours(), etag);
    expect(result.latest).toBe('updated');
    expect(bucket.mock).toHaveReceivedCommandWith(PutObjectCommand, { Key: LATEST, IfMatch: etag });
    expect(bucket.json(LATEST).runId).toBe(RUN_ID);
  });

  it('keeps a newer run that wrote latest.json in between, and says so', async () => {
    const bucket = fakeS3();
    const { etag } = bucket.put(LATEST, JSON.stringify(older()));
    bucket.hooks.beforePut = (input) => {
      if (input.Key === LATEST && bucket.json(LATEST).runId === older().runId) {
        bucket.put(LATEST, JSON.stringify(newer()));
      }
    };
    const logger = recordingLogger();
    const result = await new ReportArchive(bucket.s3, BUCKET, logger).write(SEGMENT, ours(), etag);
    expect(result.latest).toBe('newer-run-kept');
    expect(result.note).toMatch(/already holds newer run 2026-11-24T03-00-00Z-bbbbbb/);
    expect(bucket.json(LATEST).runId).toBe(newer().runId);
    expect(bucket.objects.has(`reports/golang-cluster/2026/11/24/${RUN_ID}.json`)).toBe(true);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'newer run already archived; latest.json left alone',
      }),
    );
  });

  it('overwrites an older run that wrote latest.json in between, with the new ETag', async () => {
    const bucket = fakeS3();
    bucket.hooks.beforePut = (input) => {
      if (input.Key === LATEST && !bucket.objects.has(LATEST)) {
        bucket.put(LATEST, JSON.stringify(older()));
      }
    };
    const result = await new ReportArchive(bucket.s3, BUCKET).write(SEGMENT, ours(), undefined);
    expect(result.latest).toBe('updated');
    expect(bucket.json(LATEST).runId).toBe(RUN_ID);
    const latestPuts = bucket.mock
      .commandCalls(PutObjectCommand)
      .filter((c) => c.args[0].input.Key === LATEST);
    expect(latestPuts.map((c) => c.args[0].input.IfMatch ?? c.args[0].input.IfNoneMatch)).toEqual([
      '*',
      expect.stringMatching(/^"etag-\d+"$/),
    ]);
  });

  it('handles a 409 ConditionalRequestConflict like a 412', async () => {
    const bucket = fakeS3();
    let conflicts = 0;
    bucket.hooks.beforePut = (input) => {
      if (input.Key === LATEST && conflicts++ === 0) throw conditionalRequestConflict();
    };
    const result = await new ReportArchive(bucket.s3, BUCKET).write(SEGMENT, ours(), undefined);
    expect(result.latest).toBe('updated');
    expect(bucket.json(LATEST).runId).toBe(RUN_ID);
  });

  it('recognises its own earlier write whose response was lost', async () => {
    const bucket = fakeS3();
    bucket.hooks.beforePut = (input, body) => {
      if (input.Key === LATEST) {
        bucket.put(LATEST, body);
        throw preconditionFailed();
      }
    };
    const result = await new ReportArchive(bucket.s3, BUCKET).write(SEGMENT, ours(), undefined);
    expect(result.latest).toBe('updated');
  });

  it(`gives up after ${LATEST_WRITE_ATTEMPTS} conflicts with older writers and says so, never looping`, async () => {
    const bucket = fakeS3();
    bucket.hooks.beforePut = (input) => {
      if (input.Key === LATEST) bucket.put(LATEST, JSON.stringify(older()));
    };
    const logger = recordingLogger();
    const result = await new ReportArchive(bucket.s3, BUCKET, logger).write(
      SEGMENT,
      ours(),
      undefined,
    );
    expect(result.latest).toBe('contended');
    expect(result.note).toMatch(/kept changing/);
    expect(
      bucket.mock.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key === LATEST),
    ).toHaveLength(LATEST_WRITE_ATTEMPTS);
  });

  it('fails with the bucket and the fix when the dated report cannot be written', async () => {
    const bucket = fakeS3();
    bucket.mock.on(PutObjectCommand).rejects(accessDenied());
    await expect(
      new ReportArchive(bucket.s3, BUCKET).write(SEGMENT, ours(), undefined),
    ).rejects.toThrow(
      /Could not write the report of cluster golang-cluster to s3:\/\/audit-bucket\/reports\/.*s3:PutObject/,
    );
  });

  it('leaves latest.json alone when asked (its previous content could not be read)', async () => {
    const bucket = fakeS3();
    const result = await new ReportArchive(bucket.s3, BUCKET).write(SEGMENT, ours(), undefined, {
      updateLatest: false,
    });
    expect(result.latest).toBe('skipped');
    expect(bucket.objects.has(LATEST)).toBe(false);
  });
});
