/**
 * The S3 archive: the compliance record of every run, and the previous run drift is computed
 * against. Each run writes `reports/<cluster>/<yyyy>/<mm>/<dd>/<runId>.json` (never overwritten)
 * and then moves `reports/<cluster>/latest.json` forward with a conditional write, so two
 * overlapping runs cannot both win silently: the newer run always ends up in latest.json.
 */
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type PutObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import type { FinalizeRequestMiddleware } from '@smithy/types';
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

/** S3's answer for an object that does not exist (GetObject's NoSuchKey, HeadObject's NotFound). */
export function isNotFound(err: unknown): boolean {
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

/** Bytes per chunk of a streamed archive body (a part larger than this is a chunk of its own). */
export const ARCHIVE_CHUNK_BYTES = 64 * 1024;

/** An archive body: its size and checksum up front, its bytes as a fresh stream per request. */
export interface ArchiveBody {
  length: number;
  /** CRC32 of the bytes, base64 of the big-endian value, as S3's `x-amz-checksum-crc32`. */
  crc32: string;
  stream(): Readable;
}

/**
 * The archived report as UTF-8 JSON on one line, the same bytes as
 * `Buffer.from(safeJsonStringify(report))`, never held whole: at 5,000 namespaces it is 43 MB,
 * which as one buffer sat beside a heap near its limit and made the function's peak. A first pass
 * measures it (S3 needs the length before the body) and computes its CRC32, which S3 checks on
 * arrival, so the SDK neither hashes nor checksums the body itself; each {@link ArchiveBody.stream}
 * then renders it again, finding by finding, in chunks of about {@link ARCHIVE_CHUNK_BYTES}.
 */
export function archiveBody(report: ArchivedClusterReport): ArchiveBody {
  // Spreading keeps `findings` where it was in the key order.
  const frame = safeJsonStringify({ ...report, findings: [] });
  const at = frame.indexOf(FINDINGS_MARK);
  const split = at >= 0 && frame.indexOf(FINDINGS_MARK, at + 1) < 0;
  const head = split ? frame.slice(0, at + FINDINGS_MARK.length - 1) : safeJsonStringify(report);
  const tail = split ? frame.slice(at + FINDINGS_MARK.length - 1) : '';
  const findings = split ? report.findings : [];
  function* parts(): Generator<string> {
    yield head;
    for (let i = 0; i < findings.length; i++) {
      yield i > 0 ? `,${safeJsonStringify(findings[i])}` : safeJsonStringify(findings[i]);
    }
    yield tail;
  }
  let length = 0;
  let crc = 0;
  for (const part of parts()) {
    length += Buffer.byteLength(part, 'utf8');
    crc = crc32(part, crc);
  }
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc >>> 0);
  return {
    length,
    crc32: checksum.toString('base64'),
    stream: () => Readable.from(chunks(parts), { objectMode: false }),
  };
}

/**
 * The parts' UTF-8 bytes in buffers of {@link ARCHIVE_CHUNK_BYTES}, each part written straight into
 * the buffer: joining a chunk's parts first made a string too large for V8's young generation,
 * which only a full collection frees (43 MB of them per PUT at 5,000 namespaces).
 */
function* chunks(parts: () => Iterable<string>): Generator<Buffer> {
  let chunk = Buffer.allocUnsafe(ARCHIVE_CHUNK_BYTES);
  let used = 0;
  for (const part of parts()) {
    const bytes = Buffer.byteLength(part, 'utf8');
    if (used + bytes > chunk.length) {
      if (used > 0) yield chunk.subarray(0, used);
      chunk = Buffer.allocUnsafe(Math.max(ARCHIVE_CHUNK_BYTES, bytes));
      used = 0;
    }
    used += chunk.write(part, used, 'utf8');
  }
  if (used > 0) yield chunk.subarray(0, used);
}

/**
 * An archive body as a PutObject input carries it: iterable from the start each time (a test
 * double of the client reads it so), and no stream.
 */
export class ReplayableBody implements AsyncIterable<Buffer> {
  constructor(readonly body: ArchiveBody) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.body.stream()[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
}

/**
 * A PutObject of an archive body. The SDK never retries a request whose body is a stream (it cannot
 * know the stream can be read again), and one throttle or 5xx would then lose the archive: the
 * command carries a {@link ReplayableBody}, which the retry step does not take for a stream, and a
 * step between the retry and the signing gives each attempt its own fresh stream of the same
 * bytes. The length and the checksum are set, so nothing before it reads the body either.
 */
export function putArchiveBody(
  target: Pick<PutObjectCommandInput, 'Bucket' | 'Key' | 'IfMatch' | 'IfNoneMatch'>,
  body: ArchiveBody,
): PutObjectCommand {
  const command = new PutObjectCommand({
    ...target,
    Body: new ReplayableBody(body) as unknown as PutObjectCommandInput['Body'],
    ContentLength: body.length,
    ContentType: 'application/json',
    ChecksumCRC32: body.crc32,
  });
  const fresh: FinalizeRequestMiddleware<PutObjectCommandInput, PutObjectCommandOutput> =
    (next) => (args) => {
      if (!HttpRequest.isInstance(args.request)) return next(args);
      // A copy: the retry step keeps judging the request it holds, whose body is no stream.
      const request = HttpRequest.clone(args.request);
      request.body = body.stream();
      return next({ ...args, request });
    };
  command.middlewareStack.addRelativeTo(fresh, {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: 'archiveBodyPerAttempt',
  });
  return command;
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
const STATUS_KEY = Buffer.from('"status"');

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Parses an archived report keeping only the findings `keep` accepts, one finding at a time: the
 * text of a 5,000-namespace report (40 MB) is never one string, and its PASS results are never
 * objects all at once. JSON.parse does all the parsing; this only finds where the elements of the
 * top-level `findings` array begin and end (JSON's structural characters are ASCII, so a byte
 * scan is exact in UTF-8), jumping over each string to its closing quote. Invalid JSON throws a
 * SyntaxError, as JSON.parse does.
 *
 * `keep` is first asked with the finding's `status` alone when the finding has a plain string
 * status of its own: a finding it refuses then is never parsed (nearly all of a report is PASS
 * results nobody keeps). So `keep` must decide from the status or accept; what it accepts is
 * parsed and asked again whole.
 */
export function parseArchivedReport(
  bytes: Buffer,
  keep: (finding: { status?: unknown }) => boolean,
): unknown {
  const kept: unknown[] = [];
  let depth = 0;
  let lastKey: [number, number] | undefined;
  let arrayStart = -1;
  let arrayEnd = -1;
  let element = -1;
  /** Inside the current finding: the last key at its top level, and its `status` if a string. */
  let elementKey: [number, number] | undefined;
  let statusKey = false;
  let status: string | undefined;
  const endElement = (end: number) => {
    if (element < 0) return;
    if (status === undefined || keep({ status })) {
      const value = JSON.parse(bytes.toString('utf8', element, end)) as { status?: unknown };
      if (keep(value)) kept.push(value);
    }
    element = -1;
    status = undefined;
    elementKey = undefined;
    statusKey = false;
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const inFindings = arrayStart >= 0 && arrayEnd < 0 && depth === 2;
    if (inFindings && element < 0 && !isSpace(b) && b !== COMMA && b !== CLOSE_ARRAY) element = i;
    if (b === QUOTE) {
      const start = i;
      i = closingQuote(bytes, i);
      if (i < 0) throw new SyntaxError('Unterminated string in JSON');
      if (depth === 1) lastKey = [start, i + 1];
      else if (depth === 3 && element >= 0) {
        if (statusKey) {
          const raw = bytes.subarray(start + 1, i);
          // With an escape in it, JSON.parse decides what it says.
          status = raw.includes(BACKSLASH) ? undefined : raw.toString('utf8');
          statusKey = false;
        } else elementKey = [start, i + 1];
      }
    } else if (b === COLON) {
      if (depth === 1) {
        const isFindings =
          lastKey && bytes.subarray(lastKey[0], lastKey[1]).equals(FINDINGS_KEY) && arrayStart < 0;
        if (isFindings) {
          let j = i + 1;
          while (j < bytes.length && isSpace(bytes[j]!)) j++;
          if (bytes[j] === OPEN_ARRAY) arrayStart = j;
        }
      } else if (depth === 3 && element >= 0 && elementKey) {
        statusKey = bytes.subarray(elementKey[0], elementKey[1]).equals(STATUS_KEY);
        elementKey = undefined;
      }
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      // A status that is no string (or a second one) leaves the decision to JSON.parse.
      if (statusKey) status = undefined;
      statusKey = false;
      depth++;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      if (inFindings && b === CLOSE_ARRAY) {
        endElement(i);
        arrayEnd = i;
      }
      depth--;
    } else if (b === COMMA && inFindings) {
      endElement(i);
    } else if (statusKey && !isSpace(b)) {
      // A number, true, false or null as the status: not a string, JSON.parse decides.
      status = undefined;
      statusKey = false;
    }
  }
  if (arrayStart < 0) {
    // No top-level findings array: let JSON.parse judge the whole (it is no report anyway).
    const whole = JSON.parse(bytes.toString('utf8')) as { findings?: unknown };
    return whole;
  }
  if (arrayEnd < 0 || depth !== 0) {
    throw new SyntaxError('Unterminated JSON: the findings array or the report does not end');
  }
  const rest = JSON.parse(
    bytes.toString('utf8', 0, arrayStart) + '[]' + bytes.toString('utf8', arrayEnd + 1),
  ) as { findings: unknown[] };
  rest.findings = kept;
  return rest;
}

/** The index of the quote that closes the string opening at `open`, or -1. */
function closingQuote(bytes: Buffer, open: number): number {
  let at = bytes.indexOf(QUOTE, open + 1);
  while (at >= 0) {
    let backslashes = 0;
    while (at - 1 - backslashes > open && bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = bytes.indexOf(QUOTE, at + 1);
  }
  return -1;
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
    const key = reportKey(segment, report.runId, report.startedAt);
    try {
      await this.s3.send(
        // A dated report is evidence: never overwrite one.
        putArchiveBody({ Bucket: this.bucket, Key: key, IfNoneMatch: '*' }, body),
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
    body: ArchiveBody,
    readEtag: string | undefined,
  ): Promise<{ latest: LatestOutcome; note?: string }> {
    const key = latestKey(segment);
    let etag = readEtag;
    for (let attempt = 1; attempt <= LATEST_WRITE_ATTEMPTS; attempt++) {
      try {
        await this.s3.send(
          putArchiveBody(
            { Bucket: this.bucket, Key: key, ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }) },
            body,
          ),
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
