import type { SecurityGroup, SgRule } from '../../lambda/snapshot/snapshot.js';
import {
  describeRule,
  evaluate,
  ruleCoversTraffic,
  type Peer,
} from '../../lambda/snapshot/net/evaluate.js';

const TCP_5005 = { protocol: 'tcp', port: 5005 } as const;
const ALL_EGRESS: SgRule = { direction: 'egress', protocol: '-1', cidrIpv4: '0.0.0.0/0' };

function sg(groupId: string, ...rules: SgRule[]): SecurityGroup {
  return { groupId, rules };
}
function ingress(rule: Omit<SgRule, 'direction'>): SgRule {
  return { direction: 'ingress', ...rule };
}
function groups(...list: SecurityGroup[]): Map<string, SecurityGroup> {
  return new Map(list.map((g) => [g.groupId, g]));
}
const agentPeer: Peer = { groupIds: ['sg-agent'], addresses: ['10.0.32.7'] };

describe('security group rule evaluation', () => {
  it.each<{ name: string; rules: SgRule[]; peer?: Peer; outcome: string; via?: string }>([
    {
      name: 'a tcp rule on the exact port referencing the peer group allows',
      rules: [
        ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, referencedGroupId: 'sg-agent' }),
      ],
      outcome: 'allowed',
      via: 'group-reference',
    },
    {
      name: 'a rule referencing another group denies',
      rules: [
        ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, referencedGroupId: 'sg-other' }),
      ],
      outcome: 'denied',
    },
    {
      name: 'a self reference admits a peer that carries the same group',
      rules: [ingress({ protocol: '-1', referencedGroupId: 'sg-ca' })],
      peer: { groupIds: ['sg-ca'], addresses: [] },
      outcome: 'allowed',
      via: 'self-reference',
    },
    {
      name: 'a self reference does not admit a peer without the group',
      rules: [ingress({ protocol: '-1', referencedGroupId: 'sg-ca' })],
      outcome: 'denied',
    },
    {
      name: 'a port range that includes 5005 allows',
      rules: [
        ingress({ protocol: 'tcp', fromPort: 5000, toPort: 5010, referencedGroupId: 'sg-agent' }),
      ],
      outcome: 'allowed',
    },
    {
      name: 'a port range that ends below 5005 denies',
      rules: [
        ingress({ protocol: 'tcp', fromPort: 4000, toPort: 5004, referencedGroupId: 'sg-agent' }),
      ],
      outcome: 'denied',
    },
    {
      name: 'protocol "6" is tcp',
      rules: [
        ingress({ protocol: '6', fromPort: 5005, toPort: 5005, referencedGroupId: 'sg-agent' }),
      ],
      outcome: 'allowed',
    },
    {
      name: 'a udp rule does not admit tcp',
      rules: [
        ingress({ protocol: 'udp', fromPort: 5005, toPort: 5005, referencedGroupId: 'sg-agent' }),
      ],
      outcome: 'denied',
    },
    {
      name: 'protocol -1 admits every port whatever its port fields say',
      rules: [ingress({ protocol: '-1', fromPort: 0, toPort: 0, referencedGroupId: 'sg-agent' })],
      outcome: 'allowed',
    },
    {
      name: 'a CIDR containing the pod IP allows',
      rules: [ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv4: '10.0.32.0/20' })],
      outcome: 'allowed',
      via: 'cidr',
    },
    {
      name: 'a CIDR not containing the pod IP denies',
      rules: [ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv4: '10.0.0.0/20' })],
      outcome: 'denied',
    },
    {
      name: '0.0.0.0/0 allows any IPv4 peer',
      rules: [ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv4: '0.0.0.0/0' })],
      outcome: 'allowed',
    },
    {
      name: '0.0.0.0/0 does not cover an IPv6 pod',
      rules: [ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv4: '0.0.0.0/0' })],
      peer: { groupIds: ['sg-agent'], addresses: ['2600:1f18:abcd:ff12::9'] },
      outcome: 'denied',
    },
    {
      name: '::/0 covers an IPv6 pod',
      rules: [ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv6: '::/0' })],
      peer: { groupIds: ['sg-agent'], addresses: ['2600:1f18:abcd:ff12::9'] },
      outcome: 'allowed',
    },
    {
      name: 'an IPv6 /56 covering the pod allows',
      rules: [
        ingress({
          protocol: 'tcp',
          fromPort: 5005,
          toPort: 5005,
          cidrIpv6: '2600:1f18:abcd:ff00::/56',
        }),
      ],
      peer: { groupIds: ['sg-agent'], addresses: ['2600:1f18:abcd:ff12::9'] },
      outcome: 'allowed',
    },
    {
      name: 'two CIDR rules that together cover both candidate subnets allow',
      rules: [
        ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv4: '10.0.32.0/20' }),
        ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv4: '10.0.48.0/20' }),
      ],
      peer: { addresses: ['10.0.32.0/20', '10.0.48.0/20'] },
      outcome: 'allowed',
    },
    {
      name: 'a CIDR covering only one of two candidate subnets denies',
      rules: [ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv4: '10.0.32.0/20' })],
      peer: { addresses: ['10.0.32.0/20', '10.0.48.0/20'] },
      outcome: 'denied',
    },
    {
      name: 'a prefix list cannot be evaluated',
      rules: [ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, prefixListId: 'pl-0abc' })],
      outcome: 'unknown',
    },
    {
      name: 'a prefix list does not matter when another rule allows',
      rules: [
        ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, prefixListId: 'pl-0abc' }),
        ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, referencedGroupId: 'sg-agent' }),
      ],
      outcome: 'allowed',
    },
    {
      name: 'a group reference cannot be evaluated when the peer groups are unknown',
      rules: [
        ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, referencedGroupId: 'sg-agent' }),
      ],
      peer: { addresses: [] },
      outcome: 'unknown',
    },
    {
      name: 'a narrow CIDR cannot be evaluated when the peer addresses are unknown',
      rules: [ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, cidrIpv4: '10.0.0.0/16' })],
      peer: { groupIds: ['sg-agent'], addresses: [] },
      outcome: 'unknown',
    },
    {
      name: 'egress rules are not consulted for ingress',
      rules: [ALL_EGRESS],
      outcome: 'denied',
    },
    {
      name: 'no rules at all denies',
      rules: [],
      outcome: 'denied',
    },
  ])('$name', ({ rules, peer, outcome, via }) => {
    const verdict = evaluate(
      'ingress',
      ['sg-ca'],
      groups(sg('sg-ca', ...rules)),
      peer ?? agentPeer,
      TCP_5005,
    );
    expect(verdict.outcome).toBe(outcome);
    if (via) expect(verdict.matched[0]?.via).toBe(via);
  });

  it('unions the rules of every group on the interface', () => {
    const verdict = evaluate(
      'ingress',
      ['sg-ca', 'sg-extra'],
      groups(
        sg('sg-ca'),
        sg(
          'sg-extra',
          ingress({ protocol: 'tcp', fromPort: 5005, toPort: 5005, referencedGroupId: 'sg-agent' }),
        ),
      ),
      agentPeer,
      TCP_5005,
    );
    expect(verdict).toMatchObject({ outcome: 'allowed', matched: [{ groupId: 'sg-extra' }] });
  });

  it('reports a group missing from the snapshot as unknown, not denied', () => {
    const verdict = evaluate('ingress', ['sg-gone'], groups(), agentPeer, TCP_5005);
    expect(verdict.outcome).toBe('unknown');
    expect(verdict.unresolved[0]!.reason).toContain('sg-gone');
  });
});

describe('egress evaluation', () => {
  const caPeer: Peer = { groupIds: ['sg-ca'], addresses: ['10.0.1.20'] };

  it.each<{ name: string; rules: SgRule[]; outcome: string }>([
    { name: 'the default allow-all egress rule allows', rules: [ALL_EGRESS], outcome: 'allowed' },
    {
      name: 'a group whose default egress rule was removed sends nothing',
      rules: [ingress({ protocol: '-1', referencedGroupId: 'sg-agent' })],
      outcome: 'denied',
    },
    {
      name: 'egress restricted to 443 denies 5005',
      rules: [
        { direction: 'egress', protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' },
      ],
      outcome: 'denied',
    },
    {
      name: 'egress to the Cluster Agent group on 5005 allows',
      rules: [
        {
          direction: 'egress',
          protocol: 'tcp',
          fromPort: 5005,
          toPort: 5005,
          referencedGroupId: 'sg-ca',
        },
      ],
      outcome: 'allowed',
    },
    {
      name: 'egress to the VPC CIDR allows',
      rules: [
        {
          direction: 'egress',
          protocol: 'tcp',
          fromPort: 0,
          toPort: 65535,
          cidrIpv4: '10.0.0.0/16',
        },
      ],
      outcome: 'allowed',
    },
  ])('$name', ({ rules, outcome }) => {
    expect(
      evaluate('egress', ['sg-agent'], groups(sg('sg-agent', ...rules)), caPeer, TCP_5005).outcome,
    ).toBe(outcome);
  });
});

describe('rule helpers', () => {
  it('treats missing or -1 ports of a tcp rule as the whole range', () => {
    expect(ruleCoversTraffic({ direction: 'ingress', protocol: 'tcp' }, TCP_5005)).toBe(true);
    expect(
      ruleCoversTraffic(
        { direction: 'ingress', protocol: 'tcp', fromPort: -1, toPort: -1 },
        TCP_5005,
      ),
    ).toBe(true);
  });

  it('describes rules in one line, marking self references', () => {
    expect(describeRule(ingress({ protocol: '-1', referencedGroupId: 'sg-a' }), 'sg-a')).toBe(
      'all traffic from sg-a (self)',
    );
    expect(
      describeRule(
        ingress({ protocol: 'tcp', fromPort: 5000, toPort: 5010, cidrIpv4: '10.0.0.0/16' }),
      ),
    ).toBe('tcp 5000-5010 from 10.0.0.0/16');
    expect(describeRule({ ...ALL_EGRESS, protocol: 'udp', fromPort: 53, toPort: 53 })).toBe(
      'udp 53 to 0.0.0.0/0',
    );
  });
});
