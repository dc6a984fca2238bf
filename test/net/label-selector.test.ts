import { selectorMatches } from '../../lambda/snapshot/net/label-selector.js';
import type { LabelSelector } from '../../lambda/snapshot/snapshot.js';

describe('label selectors', () => {
  it.each<{
    name: string;
    selector: LabelSelector;
    labels: Record<string, string>;
    expected: boolean;
  }>([
    {
      name: 'an empty selector matches everything',
      selector: {},
      labels: { a: '1' },
      expected: true,
    },
    {
      name: 'matchLabels needs every pair',
      selector: { matchLabels: { a: '1', b: '2' } },
      labels: { a: '1' },
      expected: false,
    },
    {
      name: 'matchLabels with all pairs matches',
      selector: { matchLabels: { a: '1' } },
      labels: { a: '1', b: '2' },
      expected: true,
    },
    {
      name: 'In matches a listed value',
      selector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] },
      labels: { a: '2' },
      expected: true,
    },
    {
      name: 'In fails when the key is absent',
      selector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] },
      labels: {},
      expected: false,
    },
    {
      name: 'NotIn matches when the key is absent',
      selector: { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] },
      labels: {},
      expected: true,
    },
    {
      name: 'NotIn fails on a listed value',
      selector: { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] },
      labels: { a: '1' },
      expected: false,
    },
    {
      name: 'Exists needs the key',
      selector: { matchExpressions: [{ key: 'a', operator: 'Exists' }] },
      labels: { a: '' },
      expected: true,
    },
    {
      name: 'DoesNotExist fails when the key is there',
      selector: { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] },
      labels: { a: 'x' },
      expected: false,
    },
    {
      name: 'an unknown operator never matches',
      selector: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] },
      labels: { a: '2' },
      expected: false,
    },
  ])('$name', ({ selector, labels, expected }) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});
