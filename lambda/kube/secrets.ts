import { digestSecret } from '../secret-digest.js';
import { convertMeta, type Raw } from './convert.js';
import type { SecretDigest, SecretSnapshot } from '../snapshot.js';

/**
 * Reduces a Secret object to digests. The object's `data` (base64) and `stringData` are decoded,
 * digested and dropped inside this function; callers must not keep the raw object.
 */
export function convertSecret(raw: Raw): SecretSnapshot {
  const data: Record<string, SecretDigest> = {};
  for (const [key, value] of Object.entries((raw?.data ?? {}) as Record<string, unknown>)) {
    const bytes = value instanceof Uint8Array ? value : Buffer.from(String(value ?? ''), 'base64');
    data[key] = digestSecret(bytes);
  }
  for (const [key, value] of Object.entries((raw?.stringData ?? {}) as Record<string, unknown>)) {
    data[key] = digestSecret(String(value ?? ''));
  }
  const managedFields = (
    Array.isArray(raw?.metadata?.managedFields) ? raw.metadata.managedFields : []
  ).map((m: Raw) => ({
    manager: String(m.manager ?? ''),
    operation: String(m.operation ?? ''),
    ...(m.time ? { time: m.time instanceof Date ? m.time.toISOString() : String(m.time) } : {}),
  }));
  return {
    meta: convertMeta(raw?.metadata),
    type: String(raw?.type ?? 'Opaque'),
    managedFields,
    data,
  };
}
