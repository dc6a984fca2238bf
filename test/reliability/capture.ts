/**
 * Captures what the code under test writes to the process while `fn` runs: stdout and stderr
 * (where Powertools Logger and Metrics print outside Lambda) and the console. Nothing is passed
 * through, so a leak cannot hide in jest's own output either; it is all recorded for the search.
 */
import type { CaseRecorder } from './book.js';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export async function captureProcess<T>(c: CaseRecorder, fn: () => Promise<T>): Promise<T> {
  const out: string[] = [];
  const err: string[] = [];
  const chunk = (v: unknown) =>
    typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('utf8');
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const consoleSaved = CONSOLE_METHODS.map((m) => [m, console[m]] as const);
  process.stdout.write = ((v: unknown) => {
    out.push(chunk(v));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((v: unknown) => {
    err.push(chunk(v));
    return true;
  }) as typeof process.stderr.write;
  for (const m of CONSOLE_METHODS) {
    console[m] = (...args: unknown[]) => {
      out.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ') + '\n');
    };
  }
  try {
    return await fn();
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    for (const [m, f] of consoleSaved) console[m] = f;
    c.record('stdout', out.join(''));
    c.record('stderr', err.join(''));
  }
}
