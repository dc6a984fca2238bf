/**
 * Security group rule evaluation for one flow: does a set of groups on one network interface
 * admit (ingress) or send (egress) TCP/UDP traffic on one port to or from a peer?
 *
 * AWS semantics encoded here:
 * - An interface's groups are unioned: one matching rule in any group allows the flow.
 * - Groups are stateful: only the direction that opens the connection is evaluated.
 * - A rule referencing a group matches a peer whose interface carries that group; a group that
 *   references itself admits every interface that carries it (the default EKS cluster security
 *   group does this for all traffic).
 * - A CIDR rule matches when it contains every address the peer can use (its pod IP, or the
 *   subnets it may be placed in). `0.0.0.0/0` covers IPv4 only, `::/0` IPv6 only.
 * - Protocol `-1` matches everything, whatever the ports say; `tcp`/`6`, `udp`/`17` match their
 *   protocol on the inclusive port range `fromPort..toPort`.
 * - There is no implicit egress: a new group gets an explicit allow-all egress rule, which
 *   DescribeSecurityGroups lists like any other. A group without egress rules sends nothing.
 * - Prefix lists cannot be expanded from the snapshot: a rule naming one makes the outcome
 *   `unknown` unless another rule decides the flow.
 */
import type { SecurityGroup, SgRule } from '../snapshot.js';
import { contains, isWholeFamily, parseBlock } from './cidr.js';

export interface Traffic {
  protocol: 'tcp' | 'udp';
  port: number;
}

/** The other end of the flow: where ingress comes from, or where egress goes to. */
export interface Peer {
  /** Groups on the peer's interface; `undefined` when they could not be determined. */
  groupIds?: string[];
  /**
   * Addresses the peer can use: IPs or CIDR blocks, each of which must be covered by a CIDR rule.
   * Empty when unknown (then only `/0` rules and group references decide).
   */
  addresses: string[];
}

export type Outcome = 'allowed' | 'denied' | 'unknown';

export interface RuleMatch {
  groupId: string;
  rule: SgRule;
  via: 'group-reference' | 'self-reference' | 'cidr';
}

export interface Unresolved {
  groupId: string;
  rule?: SgRule;
  /** Why it could not be decided: names the prefix list, the missing group, ... */
  reason: string;
}

export interface Verdict {
  outcome: Outcome;
  direction: SgRule['direction'];
  /** The rules that allowed the flow (one per covered address for CIDR rules). */
  matched: RuleMatch[];
  /** What kept the outcome from being `denied` when nothing allowed it. */
  unresolved: Unresolved[];
}

const PROTOCOL_NUMBERS: Record<string, string> = { tcp: '6', udp: '17', icmp: '1', icmpv6: '58' };

function protocolNumber(p: string): string {
  const lower = p.toLowerCase();
  return PROTOCOL_NUMBERS[lower] ?? lower;
}

/** Does the rule's protocol and port range cover the traffic? */
export function ruleCoversTraffic(rule: SgRule, traffic: Traffic): boolean {
  const proto = protocolNumber(rule.protocol);
  if (proto === '-1' || proto === 'all') return true;
  if (proto !== protocolNumber(traffic.protocol)) return false;
  // EC2 omits ports (or sends -1) when a rule covers the whole range.
  const from = rule.fromPort === undefined || rule.fromPort < 0 ? 0 : rule.fromPort;
  const to = rule.toPort === undefined || rule.toPort < 0 ? 65535 : rule.toPort;
  return traffic.port >= from && traffic.port <= to;
}

function ruleCidr(rule: SgRule): string | undefined {
  return rule.cidrIpv4 ?? rule.cidrIpv6;
}

/**
 * Evaluates the rules of `direction` in `groupIds` (the local interface's groups, looked up in
 * `groups`) for traffic to or from `peer`.
 */
export function evaluate(
  direction: SgRule['direction'],
  groupIds: readonly string[],
  groups: ReadonlyMap<string, SecurityGroup>,
  peer: Peer,
  traffic: Traffic,
): Verdict {
  const unresolved: Unresolved[] = [];
  const cidrMatches = new Map<string, RuleMatch>();
  const addresses = peer.addresses.filter((a) => parseBlock(a) !== undefined);
  let wholeFamilyV4: RuleMatch | undefined;

  for (const groupId of groupIds) {
    const group = groups.get(groupId);
    if (!group) {
      unresolved.push({ groupId, reason: `security group ${groupId} was not collected` });
      continue;
    }
    for (const rule of group.rules) {
      if (rule.direction !== direction || !ruleCoversTraffic(rule, traffic)) continue;
      if (rule.referencedGroupId) {
        if (!peer.groupIds) {
          unresolved.push({
            groupId,
            rule,
            reason: `rule references ${rule.referencedGroupId} but the peer's security groups are unknown`,
          });
        } else if (peer.groupIds.includes(rule.referencedGroupId)) {
          const via = rule.referencedGroupId === groupId ? 'self-reference' : 'group-reference';
          return { outcome: 'allowed', direction, matched: [{ groupId, rule, via }], unresolved };
        }
        continue;
      }
      if (rule.prefixListId) {
        unresolved.push({
          groupId,
          rule,
          reason: `rule uses prefix list ${rule.prefixListId}, whose CIDRs the auditor does not resolve`,
        });
        continue;
      }
      const cidr = ruleCidr(rule);
      if (!cidr) continue;
      if (addresses.length === 0) {
        // Unknown peer addresses: only "all of IPv4" (what EKS pods use by default) decides.
        if (rule.cidrIpv4 && isWholeFamily(cidr)) wholeFamilyV4 ??= { groupId, rule, via: 'cidr' };
        else
          unresolved.push({
            groupId,
            rule,
            reason: `rule allows ${cidr} but the peer's addresses are unknown`,
          });
        continue;
      }
      for (const address of addresses) {
        if (!cidrMatches.has(address) && contains(cidr, address)) {
          cidrMatches.set(address, { groupId, rule, via: 'cidr' });
        }
      }
    }
  }

  if (addresses.length > 0 && addresses.every((a) => cidrMatches.has(a))) {
    const matched = [...new Set(addresses.map((a) => cidrMatches.get(a)!))];
    return { outcome: 'allowed', direction, matched, unresolved };
  }
  if (addresses.length === 0 && wholeFamilyV4) {
    return { outcome: 'allowed', direction, matched: [wholeFamilyV4], unresolved };
  }
  return {
    outcome: unresolved.length > 0 ? 'unknown' : 'denied',
    direction,
    matched: [],
    unresolved,
  };
}

/** A security group rule in one line: `tcp 5005 from sg-0abc (self)`. */
export function describeRule(rule: SgRule, ownGroupId?: string): string {
  const proto = rule.protocol === '-1' ? 'all traffic' : rule.protocol;
  const ports =
    rule.protocol === '-1'
      ? ''
      : rule.fromPort === undefined || rule.fromPort < 0
        ? ' all ports'
        : rule.fromPort === rule.toPort
          ? ` ${rule.fromPort}`
          : ` ${rule.fromPort}-${rule.toPort}`;
  const peer =
    rule.referencedGroupId ?? rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.prefixListId ?? '(none)';
  const self = rule.referencedGroupId && rule.referencedGroupId === ownGroupId ? ' (self)' : '';
  return `${proto}${ports} ${rule.direction === 'ingress' ? 'from' : 'to'} ${peer}${self}`;
}
