/**
 * Benchmark helper process: one full audit (collect + all checks + render, publishing mocked)
 * against the server of server-child.ts. Prints one JSON line of figures, including this
 * process's peak RSS.
 */
import { performance } from 'node:perf_hooks';
import { newRunId, runAudit } from '../lambda/audit.js';
import { createAwsClients } from '../lambda/aws/clients.js';
import { CHECKS } from '../lambda/checks/index.js';
import { collectCluster } from '../lambda/collect.js';
import { parseConfig } from '../lambda/config.js';
import { renderReport } from '../lambda/report/index.js';
import { loadAwsFixture, mockAwsFromFixture } from '../test/support/aws-fixture.js';
import { BENCH_CLUSTER } from './generate.js';

interface Args {
  url: string;
  caData: string;
  token: string;
  n: number;
  awsDir: string;
  pageSize: number;
  secretConcurrency: number;
}
const args = JSON.parse(process.argv[2]!) as Args;
const collectedAt = new Date('2026-11-24T02:00:00Z');
const calls = { count: 0 };
const aws = mockAwsFromFixture(loadAwsFixture(args.awsDir), { counter: calls });
const config = parseConfig(
  {
    // The name the AWS fixture answers DescribeCluster for (run.ts writes awsResponses(BENCH_CLUSTER)).
    clusters: [{ name: BENCH_CLUSTER, region: 'eu-west-1' }],
    kubernetes: {
      pageSize: args.pageSize,
      secretConcurrency: args.secretConcurrency,
      requestTimeoutMs: 60000,
    },
  },
  'benchmark',
);

const t0 = performance.now();
const report = await runAudit(
  config,
  config.clusters,
  {
    collect: (cluster, cfg) =>
      collectCluster(cluster, cfg, {
        now: () => collectedAt,
        awsClients: (region) => ({ ...createAwsClients({ region }), calls }),
        kubeAccess: {
          kind: 'token',
          clusterName: cluster.name,
          server: args.url,
          caData: args.caData,
          token: async () => args.token,
        },
      }),
    checks: CHECKS,
    now: () => collectedAt,
    newRunId: () => newRunId(collectedAt),
  },
  'cli',
);
const table = renderReport(report, 'table', {});
const json = renderReport(report, 'json', {});
const wallMs = performance.now() - t0;
aws.restore();

const c = report.clusters[0]!;
const count = (status: string) => c.findings.filter((f) => f.status === status).length;
process.stdout.write(
  JSON.stringify({
    wallMs: Math.round(wallMs),
    collectMs: c.stats.durationMs,
    kubeListPages: c.stats.kubeListPages,
    kubeGets: c.stats.kubeGets,
    awsCalls: calls.count,
    findings: c.findings.length,
    fail: count('FAIL'),
    error: count('ERROR'),
    failingByCheck: Object.fromEntries(
      [...new Set(c.findings.filter((f) => f.status !== 'PASS').map((f) => f.checkId))].map(
        (id) => [id, c.findings.filter((f) => f.checkId === id && f.status !== 'PASS').length],
      ),
    ),
    reportBytes: Buffer.byteLength(table) + Buffer.byteLength(json),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + '\n',
);
process.exit(0);
