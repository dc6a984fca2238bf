/**
 * The collector's interner: what equal values it shares, what it must never share, and that a
 * shared value cannot be changed through one of its holders.
 */
import { createInterner } from '../../lambda/collect/kube/collect.js';

const pod = (name: string, image: string) => ({
  metadata: { name, labels: { app: 'web', team: 'a' }, annotations: {} },
  spec: {
    containers: [{ name: 'agent', image, env: [{ name: 'DD_SITE', value: 'datadoghq.eu' }] }],
  },
});

describe('createInterner', () => {
  it('shares equal strings and equal nested objects, frozen; never the top-level objects', () => {
    const intern = createInterner();
    const a = intern(pod('a', 'datadog/agent:7'));
    const b = intern(pod('b', 'datadog/agent:7'));
    expect(a).not.toBe(b);
    expect(Object.isFrozen(a)).toBe(false);
    expect(a.metadata).not.toBe(b.metadata); // the names differ
    expect(a.metadata.labels).toBe(b.metadata.labels);
    expect(a.spec).toBe(b.spec);
    expect(Object.isFrozen(a.spec)).toBe(true);
    expect(() => {
      'use strict';
      (a.spec.containers as unknown[]).push({});
    }).toThrow(TypeError);
    expect(a).toEqual(pod('a', 'datadog/agent:7'));
  });

  it('tells values apart by type, key and order: "1" is not 1, {a:1} is not {b:1}, [x,y] is not [y,x]', () => {
    const intern = createInterner();
    const x = intern({ n: { v: '1' }, o: { a: 1 }, l: [['x', 'y']] });
    const y = intern({ n: { v: 1 }, o: { b: 1 }, l: [['y', 'x']] });
    expect(x.n).not.toBe(y.n);
    expect(x.o).not.toBe(y.o);
    expect(x.l[0]).not.toBe(y.l[0]);
    expect(y).toEqual({ n: { v: 1 }, o: { b: 1 }, l: [['y', 'x']] });
    const z = intern({ n: { v: null }, o: { a: true } });
    const w = intern({ n: { v: 'null' }, o: { a: 'true' } });
    expect(z.n).not.toBe(w.n);
    expect(z.o).not.toBe(w.o);
  });

  it('gives empty lists and maps one shared frozen value each', () => {
    const intern = createInterner();
    const a = intern({ l: [], m: {} });
    const b = intern({ l: [], m: {} });
    expect(a.l).toBe(b.l);
    expect(a.m).toBe(b.m);
    expect(Object.isFrozen(a.l)).toBe(true);
  });

  it('leaves an object too large to compare cheaply unshared', () => {
    const intern = createInterner();
    const long = 'x'.repeat(600);
    const a = intern({ c: { value: long } });
    const b = intern({ c: { value: `${long}` } });
    expect(a.c).not.toBe(b.c);
    expect(a.c).toEqual(b.c);
  });

  it('does not share objects of other prototypes (Dates, class instances)', () => {
    const intern = createInterner();
    const d = new Date(0);
    const a = intern({ w: { at: d } });
    expect(a.w.at).toBe(d);
  });
});
