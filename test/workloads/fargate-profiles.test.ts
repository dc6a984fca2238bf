import {
  fargatePlacement,
  selectorMatchesPod,
} from '../../lambda/snapshot/workloads/fargate-profiles.js';
import { globMatches } from '../../lambda/config/glob.js';
import { profile } from '../net/manifests.js';

describe('Fargate profile wildcards', () => {
  it.each([
    ['prod*', 'prod', true],
    ['prod*', 'prod-metrics', true],
    ['prod*', 'preprod', false],
    ['*', 'anything', true],
    ['value?', 'valuea', true],
    ['value?', 'value', false],
    ['value?', 'value-a', false],
    ['go?ang', 'golang', true],
    ['golang', 'golang', true],
    ['golang', 'golang2', false],
    ['a.b', 'axb', false],
    ['team-(x)', 'team-(x)', true],
  ])('pattern %s against %s: %s', (pattern, value, expected) => {
    expect(globMatches(pattern, value)).toBe(expected);
  });

  it.each<{
    name: string;
    selector: { namespace: string; labels: Record<string, string> };
    ns: string;
    labels: Record<string, string>;
    expected: boolean;
  }>([
    {
      name: 'a namespace-only selector selects every pod of the namespace',
      selector: { namespace: 'golang', labels: {} },
      ns: 'golang',
      labels: {},
      expected: true,
    },
    {
      name: 'a selector label the pod lacks does not select',
      selector: { namespace: 'golang', labels: { fargate: 'yes' } },
      ns: 'golang',
      labels: { app: 'x' },
      expected: false,
    },
    {
      name: 'every selector label must be on the pod',
      selector: { namespace: 'golang', labels: { a: '1', b: '2' } },
      ns: 'golang',
      labels: { a: '1' },
      expected: false,
    },
    {
      name: 'extra pod labels do not matter',
      selector: { namespace: 'golang', labels: { a: '1' } },
      ns: 'golang',
      labels: { a: '1', b: '2' },
      expected: true,
    },
    {
      name: 'a wildcard label value matches',
      selector: { namespace: 'go*', labels: { tier: 'back?' } },
      ns: 'golang',
      labels: { tier: 'backs' },
      expected: true,
    },
    {
      name: 'a wildcard label key matches',
      selector: { namespace: 'golang', labels: { 'team-*': 'a' } },
      ns: 'golang',
      labels: { 'team-core': 'a' },
      expected: true,
    },
    {
      name: 'a wildcard namespace does not match another prefix',
      selector: { namespace: 'prod-*', labels: {} },
      ns: 'staging-x',
      labels: {},
      expected: false,
    },
  ])('$name', ({ selector, ns, labels, expected }) => {
    expect(selectorMatchesPod(selector, ns, labels)).toBe(expected);
  });
});

describe('Fargate placement', () => {
  const a = profile('fp-a', { selectors: [{ namespace: 'golang', labels: {} }] });
  const b = profile('fp-b', { selectors: [{ namespace: 'go*', labels: {} }] });
  const deleting = profile('fp-old', {
    status: 'DELETING',
    selectors: [{ namespace: 'golang', labels: {} }],
  });

  it('considers only ACTIVE profiles', () => {
    expect(fargatePlacement([deleting], 'golang', {}).candidates).toEqual([]);
  });

  it('lists every ACTIVE profile that selects the pod', () => {
    expect(fargatePlacement([a, b, deleting], 'golang', {}).candidates.map((p) => p.name)).toEqual([
      'fp-a',
      'fp-b',
    ]);
  });

  it('honours a pinned profile and leaves the placement empty when the pin does not select the pod', () => {
    expect(
      fargatePlacement([a, b], 'golang', { 'eks.amazonaws.com/fargate-profile': 'fp-b' }).profile
        ?.name,
    ).toBe('fp-b');
    expect(
      fargatePlacement([a, b], 'golang', { 'eks.amazonaws.com/fargate-profile': 'fp-zzz' }).profile,
    ).toBeUndefined();
  });
});
