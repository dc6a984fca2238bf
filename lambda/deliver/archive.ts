/**
 * The S3 archive: the compliance record of every run, and the previous run drift is computed
 * against. Each run writes `reports/<cluster>/<yyyy>/<mm>/<dd>/<runId>.json` (never overwritten)
 * and then moves `reports/<cluster>/latest.json` forward with a conditional write, so two
 * overlapping runs cannot both win silently: the newer run always ends up in latest.json.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditLogger } from './observability.js';
import { jsonDrift, safeJsonStringify, type JsonDrift } from '../report/render-json.js';
import type { AuditReport, ClusterReport, Drift } from '../report/types.js';

export const ARCHIVE_PREFIX = 'reports/';
/** Attempts at moving latest.json forward when other runs keep overtaking the read. */
export const LATEST_WRITE_ATTEMPTS = 3;

/** What the archive holds per cluster and run: every result (PASS included) plus the drift. */
export interface ArchivedClusterReport extends ClusterReport {
  archiveSchema: 1;
  runId: string;
  trigger: AuditReport['trigger'];
  drift: JsonDrift | null;
}

export function toArchived(
  report: ClusterReport,
  run: { runId: string; trigger: AuditReport['trigger'] },
  drift: Drift | undefined,
): ArchivedClusterReport {
  return {
    archiveSchema: 1,
    runId: run.runId,
    trigger: run.trigger,
    ...report,
    drift: drift ? jsonDrift(drift) : null,
  };
}

/**
 * The key segment of a cluster: its name, or `name.region` when the configuration lists the same
 * name in several regions (cluster names cannot contain dots, so this cannot collide).
 */
export function archiveSegment(
  report: Pick<ClusterReport, 'name' | 'region'>,
  configuredNames: readonly string[],
): string {
  const clashes = configuredNames.filter((n) => n === report.name).length > 1;
  const raw = clashes ? `${report.name}.${report.region ?? 'default-region'}` : report.name;
  return raw.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function reportKey(segment: string, runId: string, startedAt: string): string {
  const d = new Date(startedAt);
  const date = Number.isNaN(d.getTime()) ? new Date(0) : d;
  const yyyy = String(date.getUTCFullYear());
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  const safeRun = runId.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${ARCHIVE_PREFIX}${segment}/${yyyy}/${mm}/${dd}/${safeRun}.json`;
}

export function latestKey(segment: string): string {
  return `${ARCHIVE_PREFIX}${segment}/latest.json`;
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export interface LatestRead {
  /** Absent on the first run. */
  report?: ArchivedClusterReport;
  /** ETag of latest.json as read; absent when it did not exist. */
  etag?: string;
}

export type LatestOutcome =
  /** latest.json now points at this run. */
  | 'updated'
  /** A newer run had already written latest.json; it was kept and this run is only in its dated key. */
  | 'newer-run-kept'
  /** Other writers kept winning for every attempt; latest.json was left to them. */
  | 'contended'
  /** Not attempted: the previous latest.json could not be read, so it is left as it is. */
  | 'skipped';

export interface ArchiveResult {
  bucket: string;
  key: string;
  location: string;
  latest: LatestOutcome;
  /** Human explanation when latest.json was not updated. */
  note?: string;
}

export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

interface S3ErrorLike {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function isNotFound(err: unknown): boolean {
  const e = err as S3ErrorLike;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** 412 PreconditionFailed (ETag moved on) or 409 ConditionalRequestConflict (concurrent write). */
export function isWriteConflict(err: unknown): boolean {
  const e = err as S3ErrorLike;
  const code = e?.name ?? e?.Code;
  return (
    code === 'PreconditionFailed' ||
    code === 'ConditionalRequestConflict' ||
    e?.$metadata?.httpStatusCode === 412 ||
    e?.$metadata?.httpStatusCode === 409
  );
}

function describe(err: unknown): string {
  const e = err as S3ErrorLike & { message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}

const FINDINGS_MARK = '"findings":[]';

/**
 * The archived report as UTF-8 JSON on one line, the same bytes as
 * `Buffer.from(safeJsonStringify(report))`, written finding by finding into one buffer that both
 * PUTs send. At 5,000 namespaces the report is 35 MB (43 MB indented): JSON.stringify would build
 * it in parts, flatten it and then it would be encoded (and, given a string, the SDK encodes it
 * again per request), several copies at once where this holds the bytes and one finding's text.
 */
export function archiveBody(report: ArchivedClusterReport): Buffer {
  // Spreading keeps `findings` where it was in the key order.
  const frame = safeJsonStringify({ ...report, findings: [] });
  const at = frame.indexOf(FINDINGS_MARK);
  if (at < 0 || frame.indexOf(FINDINGS_MARK, at + 1) >= 0) {
    return Buffer.from(safeJsonStringify(report), 'utf8');
  }
  const head = frame.slice(0, at + FINDINGS_MARK.length - 1);
  const tail = frame.slice(at + FINDINGS_MARK.length - 1);
  // Two passes (length, then bytes) so no finding's text outlives its write.
  let length = Buffer.byteLength(head) + Buffer.byteLength(tail);
  report.findings.forEach((f, i) => {
    length += Buffer.byteLength(safeJsonStringify(f)) + (i > 0 ? 1 : 0);
  });
  const out = Buffer.allocUnsafe(length);
  let offset = out.write(head);
  report.findings.forEach((f, i) => {
    if (i > 0) offset += out.write(',', offset);
    offset += out.write(safeJsonStringify(f), offset);
  });
  out.write(tail, offset);
  return out;
}

/**
 * The body's bytes. latest.json is 40 MB at 5,000 namespaces; the SDK's transformToString keeps
 * every chunk, copies them into one array and decodes that (two copies beside the text). Here the
 * chunks are copied into one buffer of the announced length as they arrive and let go.
 */
async function bodyBytes(
  body: unknown,
  contentLength: number | undefined,
): Promise<{ bytes: Buffer; owned: boolean }> {
  if (!body) return { bytes: Buffer.alloc(0), owned: false };
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    const stream = body as {
      transformToByteArray?(): Promise<Uint8Array>;
      transformToString(encoding?: string): Promise<string>;
    };
    if (!stream.transformToByteArray) {
      return {
        bytes: Buffer.from((await stream.transformToString('utf-8')) ?? '', 'utf8'),
        owned: false,
      };
    }
    const bytes = await stream.transformToByteArray();
    return { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), owned: false };
  }
  let buffer = Buffer.allocUnsafe(contentLength && contentLength > 0 ? contentLength : 64 * 1024);
  let length = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (length + bytes.length > buffer.length) {
      // More than announced (or nothing announced): grow by doubling.
      const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + bytes.length));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    buffer.set(bytes, length);
    length += bytes.length;
  }
  return { bytes: buffer.subarray(0, length), owned: true };
}

/** Buffers at least this large are freed as soon as they are done with (see {@link releaseNow}). */
export const RELEASE_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Frees the memory of a large buffer this module allocated, now. A Buffer's bytes live outside
 * the heap until the garbage collector finds the Buffer unreachable, which for one that outlived
 * a few young collections is the next full collection: with a heap far from its limit that can be
 * after the checks, so the 43 MB of the previous report stayed resident through the whole audit.
 * Transferring the ArrayBuffer to an empty one detaches it and releases its bytes at once; the
 * Buffer reads as empty afterwards. Only for buffers nobody else holds.
 */
export function releaseNow(bytes: Buffer): boolean {
  const ab = bytes.buffer as ArrayBuffer & { transfer?(length: number): ArrayBuffer };
  if (ab.byteLength < RELEASE_MIN_BYTES || typeof ab.transfer !== 'function') return false;
  ab.transfer(0);
  return true;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const FINDINGS_KEY = Buffer.from('"findings"');

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Parses an archived report keeping only the findings `keep` accepts, one finding at a time: the
 * text of a 5,000-namespace report (40 MB) is never one string, and its PASS results are never
 * objects all at once. JSON.parse does all the parsing; this only finds where the elements of the
 * top-level `findings` array begin and end (JSON's structural characters are ASCII, so a byte
 * scan is exact in UTF-8). Invalid JSON throws a SyntaxError, as JSON.parse does.
 */
export function parseArchivedReport(
  bytes: Buffer,
  keep: (finding: { status?: unknown }) => boolean,
): unknown {
  const kept: unknown[] = [];
  let depth = 0;
  let inString = false;
  let stringStart = -1;
  let lastKey: [number, number] | undefined;
  let arrayStart = -1;
  let arrayEnd = -1;
  let element = -1;
  const endElement = (end: number) => {
    if (element < 0) return;
    const value = JSON.parse(bytes.toString('utf8', element, end)) as { status?: unknown };
    if (keep(value)) kept.push(value);
    element = -1;
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) {
        inString = false;
        if (depth === 1) lastKey = [stringStart, i + 1];
      }
      continue;
    }
    const inFindings = arrayStart >= 0 && arrayEnd < 0 && depth === 2;
    if (inFindings && element < 0 && !isSpace(b) && b !== COMMA && b !== CLOSE_ARRAY) element = i;
    if (b === QUOTE) {
      inString = true;
      stringStart = i;
    } else if (b === COLON && depth === 1) {
      const isFindings =
        lastKey && bytes.subarray(lastKey[0], lastKey[1]).equals(FINDINGS_KEY) && arrayStart < 0;
      if (isFindings) {
        let j = i + 1;
        while (j < bytes.length && isSpace(bytes[j]!)) j++;
        if (bytes[j] === OPEN_ARRAY) arrayStart = j;
      }
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      depth++;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      if (inFindings && b === CLOSE_ARRAY) {
        endElement(i);
        arrayEnd = i;
      }
      depth--;
    } else if (b === COMMA && inFindings) {
      endElement(i);
    }
  }
  if (arrayStart < 0) {
    // No top-level findings array: let JSON.parse judge the whole (it is no report anyway).
    const whole = JSON.parse(bytes.toString('utf8')) as { findings?: unknown };
    return whole;
  }
  if (arrayEnd < 0 || depth !== 0 || inString) {
    throw new SyntaxError('Unterminated JSON: the findings array or the report does not end');
  }
  const rest = JSON.parse(
    bytes.toString('utf8', 0, arrayStart) + '[]' + bytes.toString('utf8', arrayEnd + 1),
  ) as { findings: unknown[] };
  rest.findings = kept;
  return rest;
}

function looksArchived(value: unknown): value is ArchivedClusterReport {
  const v = value as ArchivedClusterReport;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    typeof v.runId === 'string' &&
    typeof v.startedAt === 'string' &&
    Array.isArray(v.findings) &&
    v.findings.every((f) => typeof f?.id === 'string' && typeof f?.status === 'string')
  );
}

/** Later start wins; the run id breaks ties (it sorts by time too). */
function isNewer(a: ArchivedClusterReport, b: ArchivedClusterReport): boolean {
  return a.startedAt > b.startedAt || (a.startedAt === b.startedAt && a.runId > b.runId);
}

export class ReportArchive {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
    private readonly logger?: AuditLogger,
  ) {}

  /** Reads latest.json. A missing object is a first run; anything else unreadable throws. */
  async readLatest(
    segment: string,
    opts: { keepFinding?: (finding: { status?: unknown }) => boolean } = {},
  ): Promise<LatestRead> {
    const key = latestKey(segment);
    let bytes: Buffer;
    let owned: boolean;
    let etag: string | undefined;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      etag = res.ETag;
      ({ bytes, owned } = await bodyBytes(res.Body, res.ContentLength));
    } catch (err) {
      if (isNotFound(err)) return {};
      throw new ArchiveError(
        `Could not read the previous report ${s3Uri(this.bucket, key)} (${describe(err)}): check that the auditor role may s3:GetObject on the archive bucket.`,
      );
    }
    let parsed: unknown;
    try {
      parsed = parseArchivedReport(bytes, opts.keepFinding ?? (() => true));
    } catch {
      if (owned) releaseNow(bytes);
      throw new ArchiveError(
        `The previous report ${s3Uri(this.bucket, key)} is not valid JSON: restore it from a dated report under ${ARCHIVE_PREFIX}${segment}/ or delete it to start drift afresh.`,
      );
    }
    // Parsed into objects: the text is not needed any more.
    if (owned) releaseNow(bytes);
    if (!looksArchived(parsed)) {
      throw new ArchiveError(
        `The previous report ${s3Uri(this.bucket, key)} is not an auditor report: restore it from a dated report under ${ARCHIVE_PREFIX}${segment}/ or delete it.`,
      );
    }
    return { report: parsed, ...(etag ? { etag } : {}) };
  }

  /**
   * Writes this run's dated report, then moves latest.json to it unless a newer run got there
   * first. `readEtag` is the ETag from {@link readLatest} (undefined when latest.json did not
   * exist), so the update only succeeds if nobody wrote latest.json in between.
   */
  async write(
    segment: string,
    report: ArchivedClusterReport,
    readEtag: string | undefined,
    opts: { updateLatest?: boolean } = {},
  ): Promise<ArchiveResult> {
    const body = archiveBody(report);
    try {
      return await this.writeBody(segment, report, body, readEtag, opts);
    } finally {
      // The PUTs are done with it: the SDK keeps no reference past a request.
      releaseNow(body);
    }
  }

  private async writeBody(
    segment: string,
    report: ArchivedClusterReport,
    body: Buffer,
    readEtag: string | undefined,
    opts: { updateLatest?: boolean },
  ): Promise<ArchiveResult> {
    const key = reportKey(segment, report.runId, report.startedAt);
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          // A dated report is evidence: never overwrite one.
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      throw new ArchiveError(
        `Could not write the report of cluster ${report.name} to ${s3Uri(this.bucket, key)} (${describe(err)}): check the bucket exists and the auditor role may s3:PutObject there.`,
      );
    }
    const base = { bucket: this.bucket, key, location: s3Uri(this.bucket, key) };
    if (opts.updateLatest === false) {
      return {
        ...base,
        latest: 'skipped',
        note: `latest.json of cluster ${report.name} was not updated because it could not be read.`,
      };
    }
    const latest = await this.moveLatest(segment, report, body, readEtag);
    return { ...base, ...latest };
  }

  private async moveLatest(
    segment: string,
    report: ArchivedClusterReport,
    body: Buffer,
    readEtag: string | undefined,
  ): Promise<{ latest: LatestOutcome; note?: string }> {
    const key = latestKey(segment);
    let etag = readEtag;
    for (let attempt = 1; attempt <= LATEST_WRITE_ATTEMPTS; attempt++) {
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json',
            ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }),
          }),
        );
        return { latest: 'updated' };
      } catch (err) {
        if (!isWriteConflict(err)) {
          throw new ArchiveError(
            `Could not update ${s3Uri(this.bucket, key)} for cluster ${report.name} (${describe(err)}); the run's report is at ${s3Uri(this.bucket, reportKey(segment, report.runId, report.startedAt))}.`,
          );
        }
      }
      // Someone wrote latest.json since we read it: look at what won before deciding.
      const current = await this.readLatest(segment);
      if (current.report?.runId === report.runId) {
        // Our own earlier attempt landed (its response was lost and the SDK retried).
        return { latest: 'updated' };
      }
      if (current.report && isNewer(current.report, report)) {
        const note = `latest.json of cluster ${report.name} already holds newer run ${current.report.runId}; kept it (this run ${report.runId} is archived under its dated key only).`;
        this.logger?.warn('newer run already archived; latest.json left alone', {
          cluster: report.name,
          runId: report.runId,
          newerRunId: current.report.runId,
        });
        return { latest: 'newer-run-kept', note };
      }
      this.logger?.info('latest.json changed under us by an older run; retrying', {
        cluster: report.name,
        runId: report.runId,
        attempt,
      });
      etag = current.etag;
    }
    const note = `latest.json of cluster ${report.name} kept changing during ${LATEST_WRITE_ATTEMPTS} attempts; left to the other writers (this run ${report.runId} is archived under its dated key).`;
    this.logger?.warn('gave up updating latest.json after repeated conflicts', {
      cluster: report.name,
      runId: report.runId,
    });
    return { latest: 'contended', note };
  }
}
