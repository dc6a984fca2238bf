import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretDigest } from './snapshot.js';

/**
 * Reduces secret bytes to a digest. Callers must pass the raw value straight in and drop it: this
 * is the only place secret material is looked at.
 */
export function digestSecret(value: Uint8Array | string): SecretDigest {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const text = bytes.toString('latin1');
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    length: bytes.length,
    flags: {
      leadingWhitespace: /^\s/.test(text),
      trailingWhitespace: /\s$/.test(text),
      // eslint-disable-next-line no-control-regex
      nonPrintable: /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text) || !isUtf8(bytes),
    },
  };
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Constant-time digest equality. */
export function digestsEqual(a: SecretDigest | undefined, b: SecretDigest | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a.sha256, 'hex');
  const y = Buffer.from(b.sha256, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

const SENSITIVE_NAME = /(TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;

/** Env var names whose literal values are treated as secrets (kept as digests only). */
export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name);
}
