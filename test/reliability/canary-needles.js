/**
 * The fixture canaries and every form in which one could leak: raw, base64 and base64url at each
 * of the three byte alignments (a value embedded in a longer encoded string shifts), hex, URL
 * encoding, its distinctive tail, and its SHA-256. Plain JavaScript so the jest reporter (which
 * runs outside ts-jest) does the final scan with the very same needles as the tests.
 */
import { createHash } from 'node:crypto';

/** The canary secret values the fixtures carry (helper brief); the Secrets Manager values too. */
export const CANARIES = [
  'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c',
  'CANARY-dd-cluster-agent-token-OLD-0b1c2d3e4f5a6b7c',
  'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b',
  'CANARY-dd-app-key-9a8b7c6d5e4f3a2b1c0d',
  // The Datadog Operator fixtures: a literal spec.global.clusterAgentToken, a generated token.
  'CANARY-dd-operator-literal-token-8e2c4a6b0d',
  'CANARY-dd-operator-generated-token-5d7f9b1c3e',
  'CANARY-dd-api-key-OLD-5c6d7e8f9a0b1c2d',
];

/** Any canary prefix at all: a value cut short is still a leak. */
export const CANARY_PREFIX = 'CANARY-dd-';

function base64Forms(bytes) {
  const out = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // Characters that mix in the shift bytes or the padding are not part of the value's own run.
    const inner = encoded.slice(Math.ceil((shift * 8) / 6), encoded.length - 4);
    out.push(inner, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** `[form, needle]` pairs for one secret value. */
export function needlesFor(value) {
  const bytes = Buffer.from(value, 'utf8');
  const hex = bytes.toString('hex');
  const sha = createHash('sha256').update(bytes).digest('hex');
  return [
    ['raw', value],
    ['url-encoded', encodeURIComponent(value)],
    ['tail', value.slice(-16)],
    ...base64Forms(bytes).map((n) => ['base64', n]),
    ['hex', hex],
    ['sha256', sha],
  ];
}

const NEEDLES = [
  ...CANARIES.flatMap((canary) =>
    needlesFor(canary).map(([form, needle]) => ({ canary, form, needle })),
  ),
  { canary: CANARY_PREFIX, form: 'prefix', needle: CANARY_PREFIX },
];

/**
 * Every canary form found in `text`, as `{ canary, form }` (the canary's tail only, so a report
 * of a leak does not print the secret again).
 */
export function findCanaries(text) {
  const found = [];
  const lower = text.toLowerCase();
  for (const { canary, form, needle } of NEEDLES) {
    const hay = form === 'hex' || form === 'sha256' ? lower : text;
    const want = form === 'hex' || form === 'sha256' ? needle.toLowerCase() : needle;
    if (hay.includes(want)) found.push({ canary: `…${canary.slice(-6)}`, form });
  }
  return found;
}
