/**
 * Go `time.ParseDuration`, which is how External Secrets Operator reads `spec.refreshInterval`
 * (`1h`, `15m`, `1h30m`, `0`, `0s`, `1.5h`, `300ms`). Kept exact so the freshness and rotation
 * grace checks agree with the operator about when the next sync is due.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 MICRO SIGN
  μs: 1e-3, // U+03BC GREEK SMALL LETTER MU
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds, or undefined when Go would reject the string. Negative durations parse, as in Go. */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  if (s === '') return undefined;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  // Go accepts a bare "0" (and only zero) without a unit.
  if (s === '0') return 0;
  if (s === '') return undefined;
  // The micro signs escaped: one non-ASCII character makes V8 keep the whole bundle's source as
  // two bytes per character (3 MB more heap in a 256 MB function).
  const part = /^(\d*)(?:\.(\d*))?([a-z\u00b5\u03bc]+)/;
  let total = 0;
  while (s.length > 0) {
    const m = part.exec(s);
    if (!m) return undefined;
    const [whole, int = '', frac, unit = ''] = m;
    // "." alone or a unit without digits is invalid in Go.
    if (int === '' && (frac === undefined || frac === '')) return undefined;
    const factor = UNIT_MS[unit];
    if (factor === undefined) return undefined;
    total += Number(`${int || '0'}.${frac || '0'}`) * factor;
    s = s.slice(whole.length);
  }
  return sign * total;
}

/** `1h30m`-style rendering for messages (whole seconds; sub-second intervals are shown in ms). */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const sec = rest - m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec || (!h && !m) ? `${sec}s` : ''}`;
}
