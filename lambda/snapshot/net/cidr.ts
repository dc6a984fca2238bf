/**
 * IPv4 and IPv6 addresses and CIDR blocks as bigints, so containment is one mask compare for both
 * families. Security group rules, pod IPs and subnet blocks all go through here.
 */

export type Family = 4 | 6;

export interface Block {
  family: Family;
  /** Network address with host bits cleared. */
  network: bigint;
  prefix: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  let body = text.toLowerCase();
  // An embedded IPv4 tail (::ffff:10.0.0.1) stands for the last two groups.
  const v4 = body.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const tail = parseIpv4(v4[2]!);
    if (tail === undefined) return undefined;
    body = `${v4[1]}${(tail >> 16n).toString(16)}:${(tail & 0xffffn).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return value;
}

/** Parses `10.0.0.0/16`, `2600:1f18::/56` or a bare address (a /32 or /128). Undefined when malformed. */
export function parseBlock(text: string): Block | undefined {
  const [addr, len, extra] = text.trim().split('/');
  if (extra !== undefined || !addr) return undefined;
  const family: Family = addr.includes(':') ? 6 : 4;
  const value = family === 4 ? parseIpv4(addr) : parseIpv6(addr);
  if (value === undefined) return undefined;
  const bits = BITS[family];
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  const prefix = len === undefined ? bits : Number(len);
  if (prefix > bits) return undefined;
  return { family, network: value & mask(family, prefix), prefix };
}

function mask(family: Family, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all >> (bits - BigInt(prefix))) << (bits - BigInt(prefix));
}

/**
 * True when every address of `inner` lies in `outer` (a bare address is a one-address block).
 * Blocks of different families never contain each other: `0.0.0.0/0` does not cover IPv6.
 */
export function contains(outer: string | Block, inner: string | Block): boolean {
  const o = typeof outer === 'string' ? parseBlock(outer) : outer;
  const i = typeof inner === 'string' ? parseBlock(inner) : inner;
  if (!o || !i || o.family !== i.family || i.prefix < o.prefix) return false;
  return (i.network & mask(o.family, o.prefix)) === o.network;
}

/** `0.0.0.0/0` or `::/0`: the whole address family. */
export function isWholeFamily(text: string): boolean {
  const b = parseBlock(text);
  return b !== undefined && b.prefix === 0;
}

export function familyOf(text: string): Family | undefined {
  return parseBlock(text)?.family;
}
