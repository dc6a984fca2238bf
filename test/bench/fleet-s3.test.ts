/**
 * The fleet benchmark's directory bucket: every step's process sees the same objects, and the
 * archive's conditional writes (latest.json) get S3's answers through the real S3 client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { dirBucketClient, type DirBucketStats } from '../../bench/fleet-s3.js';
import { archiveBody, putArchiveBody, toArchived } from '../../lambda/deliver/archive.js';
import { safeJsonStringify } from '../../lambda/report/render-json.js';
import { clusterReport, fieldReportFindings, RUN_ID } from '../report/support.js';

describe('fleet benchmark bucket (a directory behind the real S3 client)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-s3-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const put = (client: ReturnType<typeof dirBucketClient>, key: string, body: string, extra = {}) =>
    client.send(new PutObjectCommand({ Bucket: 'b', Key: key, Body: body, ...extra }));
  const get = async (client: ReturnType<typeof dirBucketClient>, key: string) => {
    const res = await client.send(new GetObjectCommand({ Bucket: 'b', Key: key }));
    return { body: await res.Body!.transformToString('utf8'), etag: res.ETag };
  };

  it('serves what another client (another process) wrote, with its ETag', async () => {
    const stats: DirBucketStats = { gets: 0, puts: 0, bytesPut: 0 };
    const written = await put(
      dirBucketClient(dir, 'b'),
      'runs/r1/clusters/eu-west-1/a.json',
      '{"a":1}',
    );
    const read = await get(dirBucketClient(dir, 'b', stats), 'runs/r1/clusters/eu-west-1/a.json');
    expect(read).toEqual({ body: '{"a":1}', etag: written.ETag });
    expect(stats.gets).toBe(1);
  });

  it('answers NoSuchKey for an object nobody wrote', async () => {
    await expect(get(dirBucketClient(dir, 'b'), 'reports/x/latest.json')).rejects.toBeInstanceOf(
      NoSuchKey,
    );
  });

  it('refuses If-None-Match * over an existing object and If-Match with a stale ETag (412)', async () => {
    const s3 = dirBucketClient(dir, 'b');
    const first = await put(s3, 'reports/x/latest.json', 'v1', { IfNoneMatch: '*' });
    await expect(
      put(s3, 'reports/x/latest.json', 'v2', { IfNoneMatch: '*' }),
    ).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    const second = await put(s3, 'reports/x/latest.json', 'v2', { IfMatch: first.ETag });
    await expect(
      put(s3, 'reports/x/latest.json', 'v3', { IfMatch: first.ETag }),
    ).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(await get(s3, 'reports/x/latest.json')).toEqual({ body: 'v2', etag: second.ETag });
  });

  it('takes an archive body streamed with its CRC32 and refuses one whose checksum does not match (400 BadDigest)', async () => {
    const s3 = dirBucketClient(dir, 'b');
    const report = toArchived(
      clusterReport(fieldReportFindings()),
      { runId: RUN_ID, trigger: 'scheduled' },
      undefined,
    );
    const body = archiveBody(report);
    await s3.send(putArchiveBody({ Bucket: 'b', Key: 'reports/x/latest.json' }, body));
    expect((await get(s3, 'reports/x/latest.json')).body).toBe(safeJsonStringify(report));
    await expect(
      s3.send(
        putArchiveBody(
          { Bucket: 'b', Key: 'reports/y/latest.json' },
          { ...body, crc32: 'AAAAAA==' },
        ),
      ),
    ).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
  });
});
