/**
 * Shared by the end-to-end tests: one audit of a fixture cluster (the real Kubernetes client
 * against the local test API server, AWS through aws-sdk-client-mock), the CLI with its output
 * captured, and one-line summaries of findings for table-like assertions.
 */
import { main, type CliIo } from '../../lambda/run/cli.js';
import type { Finding } from '../../lambda/config/findings.js';
import type { ClusterReport } from '../../lambda/report/types.js';
import { runDemoAudit, type DemoOptions } from '../../lambda/run/demo/demo.js';
import { findCanaries } from '../reliability/canary-needles.js';

/** The one cluster of a fixture audited end to end; no secret canary may be in its report. */
export async function auditFixture(
  fixture: string,
  opts: Partial<DemoOptions> = {},
): Promise<ClusterReport> {
  const report = await runDemoAudit({ fixture, ...opts });
  expect(report.clusters).toHaveLength(1);
  expect(findCanaries(JSON.stringify(report))).toEqual([]);
  return report.clusters[0]!;
}

export const failing = (c: ClusterReport): Finding[] =>
  c.findings.filter((f) => f.status !== 'PASS');

/** `FAIL high check-id Kind ns/name`, sorted. */
export const summary = (fs: Finding[]): string[] =>
  fs
    .map(
      (f) =>
        `${f.status} ${f.severity} ${f.checkId} ${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name}`,
    )
    .sort();

export const findingsOf = (c: ClusterReport, checkId: string, name: string): Finding[] =>
  c.findings.filter((f) => f.checkId === checkId && f.resource.name === name);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI's main with captured output, no environment, and the fixtures' clock. */
export async function runCli(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
    now: () => new Date('2026-11-24T02:00:00Z'),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
