/**
 * A bucket for the fleet benchmark, answered at the HTTP layer of the real S3 client and kept in a
 * directory: the state machine's steps run in separate processes (one per Lambda invocation) and
 * hand the cluster list and each cluster's report to each other through S3, so every process must
 * see the same objects. The SDK still serialises, checksums and signs every request as in Lambda.
 * Honours `If-None-Match: *` and `If-Match` (412 PreconditionFailed), which the archive's
 * latest.json update relies on, and checks a body against its `x-amz-checksum-crc32` (400
 * BadDigest) as S3 does.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { requestBodyBytes } from '../test/support/request-body.js';

export interface DirBucketStats {
  gets: number;
  puts: number;
  bytesPut: number;
}

function crc32Base64(body: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(body) >>> 0);
  return out.toString('base64');
}

const etagOf = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

function header(request: HttpRequest, name: string): string | undefined {
  const hit = Object.entries(request.headers).find(([k]) => k.toLowerCase() === name);
  return hit?.[1];
}

function errorResponse(status: number, code: string, message: string, key: string) {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><Key>${key}</Key></Error>`;
  return {
    response: new HttpResponse({
      statusCode: status,
      headers: { 'content-type': 'application/xml' },
      body: Readable.from([Buffer.from(xml)]),
    }),
  };
}

/** An S3 client whose bucket `bucket` lives in `dir` (flat: one file per URL-encoded key). */
export function dirBucketClient(dir: string, bucket: string, stats?: DirBucketStats): S3Client {
  const file = (key: string) => join(dir, encodeURIComponent(key));
  const requestHandler = {
    async handle(request: HttpRequest) {
      const prefix = `/${bucket}/`;
      if (!request.path.startsWith(prefix)) {
        return errorResponse(404, 'NoSuchBucket', 'The specified bucket does not exist', '');
      }
      const key = decodeURIComponent(request.path.slice(prefix.length));
      if (request.method === 'GET') {
        if (stats) stats.gets += 1;
        if (!existsSync(file(key))) {
          return errorResponse(404, 'NoSuchKey', 'The specified key does not exist.', key);
        }
        const body = readFileSync(file(key));
        return {
          response: new HttpResponse({
            statusCode: 200,
            headers: { etag: etagOf(body), 'content-length': String(body.length) },
            body: Readable.from([body]),
          }),
        };
      }
      if (request.method === 'PUT') {
        if (/aws-chunked/.test(header(request, 'content-encoding') ?? '')) {
          throw new Error('fleet bench S3: aws-chunked uploads are not decoded by this fake');
        }
        const body = await requestBodyBytes(request.body);
        const checksum = header(request, 'x-amz-checksum-crc32');
        if (checksum !== undefined && checksum !== crc32Base64(body)) {
          // As S3 answers a body that does not match the checksum it was sent with.
          return errorResponse(
            400,
            'BadDigest',
            'The CRC32 you specified did not match the calculated checksum.',
            key,
          );
        }
        const exists = existsSync(file(key));
        const ifNoneMatch = header(request, 'if-none-match');
        const ifMatch = header(request, 'if-match');
        if (
          (ifNoneMatch === '*' && exists) ||
          (ifMatch !== undefined && (!exists || etagOf(readFileSync(file(key))) !== ifMatch))
        ) {
          return errorResponse(
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            key,
          );
        }
        writeFileSync(file(key), body);
        if (stats) {
          stats.puts += 1;
          stats.bytesPut += body.length;
        }
        return {
          response: new HttpResponse({ statusCode: 200, headers: { etag: etagOf(body) } }),
        };
      }
      return errorResponse(405, 'MethodNotAllowed', `${request.method} is not served`, key);
    },
  };
  return new S3Client({
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench' },
    requestHandler,
  });
}
