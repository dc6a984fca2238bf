import { formatDuration, parseGoDuration } from '../../../lambda/snapshot/go-duration.js';

describe('parseGoDuration', () => {
  it.each([
    ['1h', 3_600_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['1h0m0s', 3_600_000],
    ['2h30m0s', 9_000_000],
    ['0', 0],
    ['0s', 0],
    ['1m', 60_000],
    ['90s', 90_000],
    ['1.5h', 5_400_000],
    ['.5m', 30_000],
    ['300ms', 300],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['+5m', 300_000],
    ['-5m', -300_000],
  ])('parses %s as %d ms, as Go does', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['', ' 1h', '1', '10', 'h', '1d', '1 h', '1h 30m', '.', '1.h2', '-', 'abc', '1hour'])(
    'rejects %j like Go does',
    (text) => {
      expect(parseGoDuration(text)).toBeUndefined();
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [300_000, '5m'],
    [61_000, '1m1s'],
    [0, '0s'],
    [250, '250ms'],
  ])('renders %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
