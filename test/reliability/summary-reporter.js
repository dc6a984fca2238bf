/**
 * Jest reporter (registered in jest.config.js after the default one). At the end of every run it
 * prints one plain line, alone and last, that CI reads:
 *
 *   N passed, N failed
 *
 * (every test of the run; a suite that crashed before its tests could run counts as one failed).
 * Before it, on runs of several files, the ten slowest test files with their seconds, so a file that
 * got slow is seen the day it lands (README, Development: how long the suite takes on 2 cores).
 * When reliability tests ran, the line is preceded by the fault-matrix table: faults injected,
 * outcomes as expected, and canary leaks, from a last search of every output those tests recorded.
 *
 * The test files hand their ledgers over through a directory this reporter creates and names in
 * the environment before any test process starts (test/reliability/book.ts writes into it).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setImmediate } from 'node:timers';
import { join, relative } from 'node:path';
import { findCanaries } from './canary-needles.js';

export const RESULTS_DIR_ENV = 'EKS_AUDITOR_RELIABILITY_DIR';

const LAYERS = [
  ['kubernetes', 'Kubernetes API faults'],
  ['aws', 'AWS faults'],
  ['config', 'Configuration and events'],
  ['handler', 'Delivery (archive, alert)'],
  ['silent-pass', 'Never a silent pass'],
  ['hostile', 'Hostile input from the cluster'],
];

export default class SummaryReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.dir = mkdtempSync(join(tmpdir(), 'eks-auditor-reliability-'));
    process.env[RESULTS_DIR_ENV] = this.dir;
    process.once('exit', () => rmSync(this.dir, { recursive: true, force: true }));
  }

  onRunStart() {
    // Watch mode runs again in the same process: start every run with an empty ledger.
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  onRunComplete(_contexts, results) {
    const ledger = this.readLedger();
    const lines = [];
    if (ledger.cases.length > 0) lines.push(...renderTable(ledger, proofs(results)));
    lines.push(...slowestFiles(results, this.globalConfig.rootDir));
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    lines.push(`${results.numPassedTests} passed, ${failed} failed`);
    if (ledger.leaks.length > 0) process.exitCode = 1;
    // --json owns stdout; then everything of ours goes where jest's own summary goes.
    const out = this.globalConfig.json ? process.stderr : process.stdout;
    // Bound now: on --forceExit jest silences the streams (write = no-op) before exiting.
    const write = out.write.bind(out);
    let printed = false;
    const print = () => {
      if (printed) return;
      printed = true;
      write(`\n${lines.join('\n')}\n`);
    };
    // Jest's own summary reporter is always registered after custom reporters: print once it is
    // done (next turn of the event loop), or at exit if jest exits first (--forceExit).
    setImmediate(print);
    process.once('exit', print);
  }

  readLedger() {
    const cases = [];
    const leaks = [];
    let outputs = 0;
    let bytes = 0;
    let files;
    try {
      files = readdirSync(this.dir);
    } catch {
      files = [];
    }
    for (const name of files.filter((f) => f.endsWith('.cases.json')).sort()) {
      const data = JSON.parse(readFileSync(join(this.dir, name), 'utf8'));
      cases.push(...data.cases);
    }
    // The last search: every output of every case of every file, with the same needles.
    for (const name of files.filter((f) => f.endsWith('.outputs.jsonl')).sort()) {
      for (const line of readFileSync(join(this.dir, name), 'utf8').split('\n')) {
        if (!line) continue;
        const o = JSON.parse(line);
        outputs += 1;
        bytes += Buffer.byteLength(o.text, 'utf8');
        for (const f of findCanaries(o.text))
          leaks.push({ case: o.case, channel: o.channel, ...f });
      }
    }
    return { cases, leaks, outputs, bytes };
  }
}

/** The ten slowest test files of a run of several files, as `  12.3 s  test/path.test.ts`. */
export function slowestFiles(results, rootDir = process.cwd()) {
  const files = results.testResults
    .filter((r) => r.perfStats && r.perfStats.end > r.perfStats.start)
    .map((r) => ({
      seconds: (r.perfStats.end - r.perfStats.start) / 1000,
      path: relative(rootDir, r.testFilePath).replace(/\\/g, '/'),
    }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, SLOWEST);
  if (results.testResults.length < 2 || files.length === 0) return [];
  const width = Math.max(...files.map((f) => f.seconds.toFixed(1).length));
  return [
    `Slowest test files (of ${results.testResults.length}, seconds from start to end in a worker):`,
    ...files.map((f) => `  ${f.seconds.toFixed(1).padStart(width)} s  ${f.path}`),
  ];
}

const SLOWEST = 10;

/** Reliability tests that are proofs rather than injected faults: their pass counts. */
const PROOFS = [
  ['least-privilege', 'Least privilege (RBAC and IAM from recorded calls)'],
  ['no-insecure-code', 'No TLS bypass, no unbounded loop in lambda/'],
  ['canary', 'Canary fixtures and search'],
];

function proofs(results) {
  return PROOFS.flatMap(([file, title]) => {
    const r = results.testResults.find((t) =>
      t.testFilePath.replace(/\\/g, '/').endsWith(`test/reliability/${file}.test.ts`),
    );
    if (!r) return [];
    const passed = r.testResults.filter((t) => t.status === 'passed').length;
    return [`${title}: ${passed} of ${r.testResults.length} tests passed`];
  });
}

function renderTable({ cases, leaks, outputs, bytes }, proofLines) {
  const rows = LAYERS.map(([layer, title]) => {
    const of = cases.filter((c) => c.layer === layer);
    return [title, of.length, of.reduce((n, c) => n + c.faults, 0), of.filter((c) => c.ok).length];
  }).filter((r) => r[1] > 0);
  const total = [
    'Total',
    cases.length,
    cases.reduce((n, c) => n + c.faults, 0),
    cases.filter((c) => c.ok).length,
  ];
  const head = ['Reliability', 'cases', 'faults injected', 'outcomes as expected'];
  const all = [head, ...rows, total];
  const widths = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const fmt = (r) =>
    r
      .map((v, i) => (i === 0 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i])))
      .join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const lines = ['', fmt(head), rule, ...rows.map(fmt), rule, fmt(total), ''];
  lines.push(`Faults injected:       ${total[2]} (in ${total[1]} cases)`);
  lines.push(`Outcomes as expected:  ${total[3]} of ${total[1]} cases`);
  lines.push(
    `Canary leaks:          ${leaks.length} (searched ${outputs} outputs, ${(bytes / 1e6).toFixed(1)} MB: stdout, stderr, logs, SNS inputs, S3 bodies, errors, summaries, renderings)`,
  );
  for (const l of leaks.slice(0, 20)) {
    lines.push(`  LEAK ${l.form} of canary ${l.canary} in ${l.channel} of "${l.case}"`);
  }
  for (const l of proofLines) lines.push(l);
  const unexpected = cases.filter((c) => !c.ok);
  for (const c of unexpected.slice(0, 20)) lines.push(`  NOT AS EXPECTED: [${c.layer}] ${c.name}`);
  lines.push('');
  return lines;
}
