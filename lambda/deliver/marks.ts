/**
 * Delivery marks: what makes a fleet Map iteration's delivery idempotent when Step Functions
 * runs it again (a Lambda timeout, a lost response, a service error). One small object per run,
 * cluster and effect under `runs/<runId>/delivered/<segment>/`, created with a conditional put
 * (`IfNoneMatch: '*'`, S3's create-only write): the attempt whose put succeeds performs the
 * effect, a later attempt finds the mark and reads what the first one recorded. The drift the
 * first attempt computed is kept the same way, because its archive write moved latest.json on.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DeliveryGuard, SavedDrift } from './deliver.js';
import { isNotFound, isWriteConflict } from './archive.js';

interface Marked {
  value?: unknown;
}

export function deliveryMarks(
  s3: S3Client,
  bucket: string,
  prefix: string,
): DeliveryGuard & {
  /** What the whole delivery recorded when an earlier attempt finished it. */
  finished<T>(segment: string): Promise<T | undefined>;
  finish(segment: string, value: unknown): Promise<void>;
} {
  const key = (segment: string, effect: string) => `${prefix}${segment}/${effect}.json`;
  const read = async (k: string): Promise<Marked | undefined> => {
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      const text = await res.Body?.transformToString('utf8');
      return text ? (JSON.parse(text) as Marked) : {};
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const put = async (k: string, body: Marked, ifNoneMatch?: '*') => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: k,
        Body: JSON.stringify(body),
        ContentType: 'application/json',
        ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}),
      }),
    );
  };
  /** True when this call created the mark; false when it existed. */
  const create = async (k: string, body: Marked): Promise<boolean> => {
    try {
      await put(k, body, '*');
      return true;
    } catch (err) {
      if (isWriteConflict(err)) return false;
      throw err;
    }
  };
  return {
    async claim(segment, effect) {
      if (await create(key(segment, effect), {})) return undefined;
      const earlier = await read(key(segment, effect));
      return { ...(earlier?.value !== undefined ? { recorded: earlier.value } : {}) };
    },
    async record(segment, effect, value) {
      await put(key(segment, effect), { value });
    },
    async drift(segment, compute) {
      const k = key(segment, 'drift');
      const saved = await read(k);
      if (saved?.value) return saved.value as SavedDrift;
      const computed = await compute();
      if (await create(k, { value: computed })) return computed;
      return ((await read(k))?.value as SavedDrift | undefined) ?? computed;
    },
    async finished<T>(segment: string) {
      return (await read(key(segment, 'done')))?.value as T | undefined;
    },
    async finish(segment, value) {
      await put(key(segment, 'done'), { value });
    },
  };
}
