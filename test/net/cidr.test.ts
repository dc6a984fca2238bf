import { contains, familyOf, isWholeFamily, parseBlock } from '../../lambda/snapshot/net/cidr.js';

describe('CIDR parsing', () => {
  it.each([
    ['10.0.0.0/16', 4, 16],
    ['10.0.1.7', 4, 32],
    ['0.0.0.0/0', 4, 0],
    ['2600:1f18:abcd::/56', 6, 56],
    ['::/0', 6, 0],
    ['::ffff:10.0.0.1', 6, 128],
    ['fe80::1', 6, 128],
  ])('parses %s as IPv%s with prefix /%s', (text, family, prefix) => {
    expect(parseBlock(text)).toMatchObject({ family, prefix });
  });

  it.each([
    '10.0.0.256/16',
    '10.0.0.0/33',
    '10.0.0/8',
    '1::2::3',
    '::/129',
    'sg-123',
    '',
    '10.0.0.0/1/2',
  ])('rejects the malformed block %j', (text) => {
    expect(parseBlock(text)).toBeUndefined();
  });

  it('clears host bits, so 10.0.1.5/16 is the block 10.0.0.0/16', () => {
    expect(parseBlock('10.0.1.5/16')).toEqual(parseBlock('10.0.0.0/16'));
  });
});

describe('CIDR containment', () => {
  it.each([
    ['10.0.0.0/16', '10.0.3.4', true],
    ['10.0.0.0/16', '10.1.0.1', false],
    ['10.0.0.0/16', '10.0.128.0/17', true],
    ['10.0.0.0/17', '10.0.0.0/16', false],
    ['10.0.0.0/16', '10.0.0.0/16', true],
    ['0.0.0.0/0', '192.168.1.1', true],
    ['0.0.0.0/0', '2600:1f18::1', false],
    ['::/0', '2600:1f18::1', true],
    ['::/0', '10.0.0.1', false],
    ['2600:1f18:abcd:ff00::/56', '2600:1f18:abcd:ff12::9', true],
    ['2600:1f18:abcd:ff00::/56', '2600:1f18:abcd:fe00::9', false],
    ['10.0.0.5/32', '10.0.0.5', true],
    ['10.0.0.5/32', '10.0.0.6', false],
  ])('%s contains %s: %s', (outer, inner, expected) => {
    expect(contains(outer, inner)).toBe(expected);
  });

  it('recognises the whole-family blocks and the family of an address', () => {
    expect(isWholeFamily('0.0.0.0/0')).toBe(true);
    expect(isWholeFamily('::/0')).toBe(true);
    expect(isWholeFamily('10.0.0.0/8')).toBe(false);
    expect(familyOf('2600::1')).toBe(6);
    expect(familyOf('10.0.0.1')).toBe(4);
  });
});
