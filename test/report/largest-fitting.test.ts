/**
 * The SNS message is cut to the largest number of whole findings that fits: the search must find
 * exactly what trying every k would, for any size that grows with k, in few renders.
 */
import { largestFitting } from '../../lambda/deliver/publish.js';

/** The answer by trying every k. */
function bruteForce(total: number, size: (k: number) => number, budget: number): number {
  let best = -1;
  for (let k = 0; k < total; k++) if (size(k) <= budget) best = k;
  return best;
}

/** A deterministic pseudo-random source, so a failure names its case. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('largestFitting', () => {
  it('finds what trying every k finds, for 2,000 sizes that grow with k (steady, lumpy, flat runs)', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const r = rng(seed);
      const total = 1 + Math.floor(r() * 600);
      const base = Math.floor(r() * 5000);
      const lumpy = r() < 0.5;
      const sizes: number[] = [];
      let s = base;
      for (let k = 0; k <= total; k++) {
        sizes.push(s);
        // Findings differ in size: some tiny, some huge, some adding nothing (a section header).
        s += lumpy ? Math.floor(r() ** 4 * 4000) : 100 + Math.floor(r() * 20);
      }
      const size = (k: number) => sizes[k]!;
      const budget = Math.floor(base + r() * (sizes[total]! - base) * 1.2) - 50;
      if (sizes[total]! <= budget) continue; // the caller only searches when all does not fit
      expect([seed, largestFitting(total, sizes[total]!, size, budget)]).toEqual([
        seed,
        bruteForce(total, size, budget),
      ]);
    }
  });

  it('says -1 when even no finding fits, and 0 for a single finding that does not', () => {
    expect(largestFitting(10, 5000, (k) => 1000 + k * 400, 900)).toBe(-1);
    expect(largestFitting(1, 2000, (k) => 1000 + k * 1000, 1500)).toBe(0);
  });

  it('renders about a dozen times for 5,000 findings (a gallop from zero took about 25)', () => {
    let renders = 0;
    const size = (k: number) => {
      renders += 1;
      return 2000 + k * 180 + (k % 7) * 30;
    };
    const total = 5000;
    const best = largestFitting(total, size(total), size, 256 * 1024 - 4096);
    expect(best).toBe(bruteForce(total, (k) => 2000 + k * 180 + (k % 7) * 30, 256 * 1024 - 4096));
    expect(renders).toBeLessThanOrEqual(14);
  });
});
