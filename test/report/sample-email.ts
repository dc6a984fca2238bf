/**
 * `npm run docs:email`: renders docs/sample-email.txt from a real audit of the field-report
 * fixture (test API server + mocked AWS, the same path as `npm run demo`), exactly as the SNS
 * email subscriber would receive it on the first night. Deterministic: fixed clock and run id.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportKey, s3Uri } from '../../lambda/deliver/archive.js';
import { diffReports } from '../../lambda/report/diff.js';
import { renderEmail, renderSubject } from '../../lambda/report/email.js';
import { runDemoAudit } from '../../lambda/run/demo/demo.js';

const RUN_ID = '2026-11-24T02-00-00Z-3f9a1c';
const OUT = join(dirname(fileURLToPath(import.meta.url)), '../../docs/sample-email.txt');

export async function renderSampleEmail(): Promise<string> {
  const report = await runDemoAudit({ fixture: 'field-report' });
  const cluster = report.clusters[0]!;
  const drift = diffReports(cluster, undefined);
  const body = renderEmail(cluster, drift, {
    archiveLocation: s3Uri(
      'acme-eks-audit-reports',
      reportKey(cluster.name, RUN_ID, cluster.startedAt),
    ),
    functionName: 'eks-datadog-auditor',
    region: cluster.region ?? 'eu-west-1',
    runId: RUN_ID,
    trigger: 'scheduled',
  });
  return `Subject: ${renderSubject(cluster, drift)}\n\n${body}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await renderSampleEmail();
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, text);
  process.stderr.write(`wrote ${OUT} (${text.split('\n').length} lines)\n`);
}
