/**
 * The one glob of the auditor, with EKS's Fargate selector rules (which suppressions share):
 * `*` stands for none, one or more characters, `?` for exactly one; every other character is
 * literal (no classes, no escapes, no regular expressions); the whole value must match.
 */

const cache = new Map<string, RegExp>();

/** The anchored regular expression for `pattern` (cached: patterns repeat across resources). */
export function globRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 's');
    cache.set(pattern, re);
  }
  return re;
}

/** `prod*` matches `prod` and `prod-metrics`; `value?` matches `valuea` but not `value`. */
export function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  return globRegExp(pattern).test(value);
}
