/**
 * The reliability suite's ledger: every fault case it injected, whether its outcome was the one
 * expected, and every output the case produced (stdout, stderr, log records, SNS inputs, S3
 * bodies, thrown errors, returned summaries, rendered reports). Each case is searched for the
 * canaries when it ends; each file searches everything it collected once more when it finishes,
 * and hands the lot to the summary reporter (summary-reporter.js), which searches all files'
 * outputs a last time and prints the table.
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findCanaries } from './canary-needles.js';

/** Set by the summary reporter for the run; absent when jest runs without it. */
export const RESULTS_DIR_ENV = 'EKS_AUDITOR_RELIABILITY_DIR';

export type Layer = 'kubernetes' | 'aws' | 'config' | 'handler' | 'hostile' | 'silent-pass';

export interface Output {
  case: string;
  channel: string;
  text: string;
}

export interface CaseResult {
  name: string;
  layer: Layer;
  /** Faults injected by this case (several for cases that need a whole storm). */
  faults: number;
  ok: boolean;
}

export interface Leak {
  case: string;
  channel: string;
  canary: string;
  form: string;
}

export function leaksIn(outputs: readonly Output[]): Leak[] {
  return outputs.flatMap((o) =>
    findCanaries(o.text).map((f) => ({ case: o.case, channel: o.channel, ...f })),
  );
}

export class CaseRecorder {
  readonly outputs: Output[] = [];
  faults = 0;
  ok = false;

  constructor(
    readonly name: string,
    readonly layer: Layer,
  ) {}

  /** Records one output of this case (anything a person or another system could see). */
  record(channel: string, value: unknown): void {
    const text =
      typeof value === 'string'
        ? value
        : value instanceof Error
          ? `${value.name}: ${value.message}\n${value.stack ?? ''}`
          : JSON.stringify(value, (_k, v) =>
              v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
            );
    this.outputs.push({ case: this.name, channel, text: text ?? String(value) });
  }

  /** Counts an injected fault (a server fault, an SDK error, a broken config or event). */
  inject(n = 1): void {
    this.faults += n;
  }
}

export class Book {
  readonly cases: CaseRecorder[] = [];

  constructor(readonly file: string) {}

  begin(name: string, layer: Layer): CaseRecorder {
    const c = new CaseRecorder(name, layer);
    this.cases.push(c);
    return c;
  }

  outputs(): Output[] {
    return this.cases.flatMap((c) => c.outputs);
  }

  /**
   * The final search over every output of the file, and the hand-over to the reporter. Returns
   * the leaks so the caller can assert there are none.
   */
  finish(): Leak[] {
    const outputs = this.outputs();
    const leaks = leaksIn(outputs);
    const dir = process.env[RESULTS_DIR_ENV];
    if (dir) {
      const name = `${basename(this.file).replace(/\.test\.ts$/, '')}-${process.pid}`;
      const cases: CaseResult[] = this.cases.map((c) => ({
        name: c.name,
        layer: c.layer,
        faults: c.faults,
        ok: c.ok,
      }));
      writeFileSync(
        join(dir, `${name}.cases.json`),
        JSON.stringify({ file: this.file, cases, leaks }),
      );
      writeFileSync(
        join(dir, `${name}.outputs.jsonl`),
        outputs.map((o) => `${JSON.stringify(o)}\n`).join(''),
      );
    }
    return leaks;
  }
}

/**
 * Declares one case of the matrix: a jest test whose recorder collects the case's outputs. The
 * case counts as "outcome as expected" only when every assertion held and none of its outputs
 * carries a canary.
 */
export function faultCase(
  book: Book,
  layer: Layer,
  name: string,
  fn: (c: CaseRecorder) => Promise<void> | void,
  timeoutMs?: number,
): void {
  it(
    name,
    async () => {
      const c = book.begin(name, layer);
      await fn(c);
      expect(c.faults).toBeGreaterThan(0);
      expect(leaksIn(c.outputs)).toEqual([]);
      c.ok = true;
    },
    timeoutMs,
  );
}

/** Registers the file-level final search; call once at the top level of a test file. */
export function finalCanarySearch(book: Book): void {
  afterAll(() => {
    expect(book.finish()).toEqual([]);
  });
}
