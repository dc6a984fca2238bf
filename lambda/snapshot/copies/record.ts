/**
 * The copy record: per Secret key holding the token or a Datadog key, a fingerprint of its value,
 * of ESO's `reconcile.external-secrets.io/data-hash` annotation and when the key was last
 * written. Each run archives it with its report (ClusterReport.copyRecord); the next run gets it
 * back as `snapshot.previousRun` so token-stale-in-pods can tell "the token changed" from "another
 * key or only metadata changed". Pure: computed from the snapshot, no clock, no I/O.
 *
 * A fingerprint is a SHA-256 over a fixed label, the key's place and the value's digest, cut to
 * 128 bits: equal across runs exactly when the value is, and unlike the digest itself it matches
 * no hash of the value anywhere else (a report may travel further than the snapshot).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type {
  ClusterSnapshot,
  CopyRecord,
  CopyRecordSet,
  SecretDigest,
  SecretSnapshot,
} from '../snapshot.js';
import { msBetween } from '../eso.js';
import type { SecretCopyModel } from './model.js';

/** ESO writes this on every Secret it manages: a hash of the whole data map (all keys at once). */
export const ESO_DATA_HASH = 'reconcile.external-secrets.io/data-hash';

const LABEL = 'eks-datadog-auditor copy record v1';

function fingerprint(place: string, material: string): string {
  return createHash('sha256').update(`${LABEL}\0${place}\0${material}`).digest('hex').slice(0, 32);
}

export function valueFingerprint(
  namespace: string,
  secret: string,
  key: string,
  digest: SecretDigest,
): string {
  return fingerprint(`${namespace}/${secret}/${key}`, digest.sha256);
}

export function dataHashFingerprint(namespace: string, secret: string, hash: string): string {
  return fingerprint(`${namespace}/${secret}#data-hash`, hash);
}

/** Constant-time equality of two fingerprints. */
export function fingerprintsEqual(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * When key `key` of the Secret last changed at the latest: the newest managedFields write by a
 * manager that owns that key, or whose ownership is unknown. A manager that owns no data key, or
 * only other keys, did not write this one. Falls back to the creation time.
 */
export function keyLastWrite(
  secret: SecretSnapshot,
  key: string,
): { time: string; by?: string; precise: boolean } | undefined {
  let best: { time: string; by?: string; precise: boolean } | undefined;
  for (const m of secret.managedFields) {
    if (!m.time) continue;
    if (m.dataKeys && !m.dataKeys.includes(key)) continue;
    if (!best || (msBetween(best.time, m.time) ?? 0) > 0) {
      best = { time: m.time, by: m.manager, precise: m.dataKeys !== undefined };
    }
  }
  if (best) return best;
  return secret.meta.creationTimestamp
    ? { time: secret.meta.creationTimestamp, precise: true }
    : undefined;
}

/** The record of the copy model of `snapshot` (the model's `record()` keeps it). */
export function computeRecord(snapshot: ClusterSnapshot, model: SecretCopyModel): CopyRecordSet {
  const secrets = new Map<string, SecretSnapshot>();
  for (const l of snapshot.kube.secrets) {
    if (l.result.status === 'found') secrets.set(`${l.namespace}/${l.name}`, l.result.secret);
  }
  const wanted = new Set<string>();
  for (const k of model.keys.token) wanted.add(`${k.namespace}/${k.secret}/${k.key}`);
  for (const c of model.copies) wanted.add(`${c.namespace}/${c.secret}/${c.key}`);
  const copies: CopyRecord[] = [];
  for (const id of [...wanted].sort()) {
    const [namespace, name, key] = splitId(id);
    const secret = secrets.get(`${namespace}/${name}`);
    const digest = secret?.data[key];
    if (!secret || !digest) continue;
    const hash = secret.meta.annotations[ESO_DATA_HASH];
    const written = keyLastWrite(secret, key);
    copies.push({
      namespace,
      secret: name,
      key,
      fingerprint: valueFingerprint(namespace, name, key, digest),
      ...(hash ? { dataHash: dataHashFingerprint(namespace, name, hash) } : {}),
      ...(written ? { lastWrite: written.time } : {}),
      ...(secret.meta.resourceVersion ? { resourceVersion: secret.meta.resourceVersion } : {}),
    });
  }
  return { collectedAt: snapshot.collectedAt, copies };
}

function splitId(id: string): [string, string, string] {
  const a = id.indexOf('/');
  const b = id.indexOf('/', a + 1);
  return [id.slice(0, a), id.slice(a + 1, b), id.slice(b + 1)];
}

const PREVIOUS_CACHE = new WeakMap<ClusterSnapshot, Map<string, CopyRecord>>();

/** The previous run's entry for one Secret key, when the previous run recorded it. */
export function previousCopy(
  snapshot: ClusterSnapshot,
  namespace: string,
  secret: string,
  key: string,
): CopyRecord | undefined {
  const prev = snapshot.previousRun;
  if (!prev) return undefined;
  let index = PREVIOUS_CACHE.get(snapshot);
  if (!index) {
    index = new Map(prev.copies.map((c) => [`${c.namespace}/${c.secret}/${c.key}`, c]));
    PREVIOUS_CACHE.set(snapshot, index);
  }
  return index.get(`${namespace}/${secret}/${key}`);
}

const HEX32 = /^[0-9a-f]{32}$/;

/**
 * A copy record read back from an archived report, or undefined when it is absent or not one
 * (an older report, a hand-edited file): the checks then fall back to their other rules.
 */
export function asCopyRecordSet(v: unknown): CopyRecordSet | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const r = v as { collectedAt?: unknown; copies?: unknown };
  if (typeof r.collectedAt !== 'string' || Number.isNaN(Date.parse(r.collectedAt)))
    return undefined;
  if (!Array.isArray(r.copies)) return undefined;
  const copies: CopyRecord[] = [];
  for (const c of r.copies as Record<string, unknown>[]) {
    if (!c || typeof c !== 'object') continue;
    const { namespace, secret, key, fingerprint, dataHash, lastWrite, resourceVersion } = c;
    if (typeof namespace !== 'string' || typeof secret !== 'string' || typeof key !== 'string') {
      continue;
    }
    if (typeof fingerprint !== 'string' || !HEX32.test(fingerprint)) continue;
    copies.push({
      namespace,
      secret,
      key,
      fingerprint,
      ...(typeof dataHash === 'string' && HEX32.test(dataHash) ? { dataHash } : {}),
      ...(typeof lastWrite === 'string' ? { lastWrite } : {}),
      ...(typeof resourceVersion === 'string' ? { resourceVersion } : {}),
    });
  }
  return { collectedAt: r.collectedAt, copies };
}
