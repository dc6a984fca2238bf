import { digestSecret } from '../../snapshot/secret-digest.js';
import { convertMeta } from './convert.js';
import type { Raw } from './raw.js';
import type { SecretDigest, SecretSnapshot } from '../../snapshot/snapshot.js';

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
    ...ownedDataKeys(m.fieldsV1),
  }));
  return {
    meta: convertMeta(raw?.metadata),
    type: String(raw?.type ?? 'Opaque'),
    managedFields,
    data,
  };
}

/**
 * The data keys a field manager owns, from its fieldsV1 (`{"f:data": {"f:token": {}}}`): names
 * only. A manager that owns none (kubectl annotate, a metadata-only controller) cannot have
 * changed a value. Absent when the entry carries no fieldsV1.
 */
function ownedDataKeys(fieldsV1: unknown): { dataKeys?: string[] } {
  if (!fieldsV1 || typeof fieldsV1 !== 'object') return {};
  const data = (fieldsV1 as Record<string, unknown>)['f:data'];
  const keys =
    data && typeof data === 'object'
      ? Object.keys(data)
          .filter((k) => k.startsWith('f:'))
          .map((k) => k.slice(2))
      : [];
  return { dataKeys: keys };
}
