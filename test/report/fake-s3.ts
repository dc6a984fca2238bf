/**
 * An in-memory S3 bucket behind aws-sdk-client-mock that honours ETags, `IfMatch` and
 * `IfNoneMatch: '*'` like S3 does (412 PreconditionFailed), so conditional-write races can be
 * played out step by step.
 */
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { requestBodyBytes } from '../support/request-body.js';

export interface StoredObject {
  body: string;
  etag: string;
}

export function preconditionFailed(): S3ServiceException {
  return new S3ServiceException({
    name: 'PreconditionFailed',
    $fault: 'client',
    $metadata: { httpStatusCode: 412 },
    message: 'At least one of the pre-conditions you specified did not hold',
  });
}

export function conditionalRequestConflict(): S3ServiceException {
  return new S3ServiceException({
    name: 'ConditionalRequestConflict',
    $fault: 'client',
    $metadata: { httpStatusCode: 409 },
    message: 'A conflicting operation occurred.',
  });
}

export function accessDenied(): S3ServiceException {
  return new S3ServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message: 'Access Denied',
  });
}

export function fakeS3() {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const mock = mockClient(s3);
  const objects = new Map<string, StoredObject>();
  let version = 0;
  /** Runs before a Put is applied; may change `objects` (another writer) or throw. */
  const hooks: { beforePut?: (input: PutObjectCommandInput, body: string) => void } = {};

  const put = (key: string, body: string): StoredObject => {
    const stored = { body, etag: `"etag-${++version}"` };
    objects.set(key, stored);
    return stored;
  };

  mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const o = objects.get(input.Key);
    if (!o) {
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    return { ETag: o.etag, Body: { transformToString: async () => o.body } };
  });
  mock.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
    // An archive body is a stream of its bytes (lambda/deliver/archive.ts ReplayableBody).
    const body = (await requestBodyBytes(input.Body)).toString('utf8');
    hooks.beforePut?.(input, body);
    const key = input.Key!;
    const current = objects.get(key);
    if (input.IfNoneMatch === '*' && current) throw preconditionFailed();
    if (input.IfMatch && (!current || current.etag !== input.IfMatch)) throw preconditionFailed();
    return { ETag: put(key, body).etag };
  });

  return {
    s3,
    mock,
    objects,
    hooks,
    put,
    json: (key: string) => JSON.parse(objects.get(key)!.body),
  };
}
