/**
 * One run plan for every entry point: the direct handler, the fleet's steps (discover,
 * audit-cluster) and the CLI read the same event and configuration the same way, discovered
 * clusters included, and refuse the same suppressions before any cluster is touched.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { CHECKS } from '../../lambda/checks/index.js';
import { ConfigError, type AuditorConfig, type ClusterConfig } from '../../lambda/config/config.js';
import { createFleetHandlers } from '../../lambda/run/fleet/handlers.js';
import { runKey, type ClusterTask } from '../../lambda/run/fleet/run.js';
import type { HandlerDeps } from '../../lambda/run/direct.js';
import { planRun } from '../../lambda/run/plan.js';
import { runCli } from '../e2e/support.js';
import {
  BUCKET,
  harness,
  recordingLogger,
  recordingMetrics,
  testConfig,
} from '../handler/support.js';
import { fakeS3 } from '../report/fake-s3.js';

const DISCOVERED: ClusterConfig[] = [
  { name: 'found-1', region: 'eu-west-1', roleArn: 'arn:aws:iam::111122223333:role/auditor' },
  { name: 'found-2', region: 'eu-west-1', roleArn: 'arn:aws:iam::111122223333:role/auditor' },
];
const discover = async () => ({ clusters: DISCOVERED, failures: [] });

/** An expiry five years after the run: refused (at most a year) by every entry point. */
function fiveYearsOut(now: Date): string {
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() + 5);
  return d.toISOString().slice(0, 10);
}

function fleet(config: AuditorConfig) {
  const s3 = fakeS3();
  const audited: string[] = [];
  const handlers = createFleetHandlers({
    loadConfig: () => config,
    s3: s3.s3,
    sns: new SNSClient({ region: 'eu-west-1' }),
    logger: recordingLogger(),
    metrics: recordingMetrics(),
    newRunId: () => '2026-11-24T02-00-00Z-fleet',
    discover,
    audit: {
      checks: CHECKS,
      now: () => new Date(),
      collect: async (cluster) => {
        audited.push(cluster.name);
        throw new Error('not reached in these tests');
      },
    },
  });
  return { handlers, s3, audited };
}

const EVENTS: unknown[] = [
  {},
  { clusters: ['payments', 'found-2'], dryRun: true },
  { source: 'aws.scheduler', detail: { notify: 'never' } },
];

describe('one run plan', () => {
  it.each(EVENTS.map((event) => ({ event })))(
    'the direct handler and the fleet discover step plan $event alike (discovered clusters included)',
    async ({ event }) => {
      const config = testConfig();
      const direct = harness({ config });
      (direct.deps as HandlerDeps).discover = discover;
      await direct.handler(event);
      const f = fleet(config);
      const found = await f.handlers.discover(event);
      const listed = f.s3.json(runKey(found.run.runId, 'clusters.json')) as ClusterConfig[];
      expect(direct.audits.map((a) => a.clusters)).toEqual([listed.map((c) => c.name)]);
      expect(direct.audits[0]!.trigger).toBe(found.run.trigger);

      const plan = planRun({
        event,
        config,
        discovered: { clusters: DISCOVERED, failures: [] },
        now: new Date(),
      });
      if (!plan.ok) throw new Error('plan refused');
      expect(plan.plan.clusters).toEqual(listed);
      expect(plan.plan.trigger).toBe(found.run.trigger);
      expect(plan.plan.dryRun).toBe(found.run.dryRun);
      expect(plan.plan.notify).toBe(found.run.notify);
      expect(plan.plan.checks.map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
    },
  );

  it('refuses an unknown cluster alike on the direct and fleet paths', async () => {
    const config = testConfig();
    const direct = harness({ config });
    (direct.deps as HandlerDeps).discover = discover;
    const refused = await direct.handler({ clusters: ['nope'] });
    expect(refused).toMatchObject({ ok: false, error: 'Unknown cluster' });
    await expect(fleet(config).handlers.discover({ clusters: ['nope'] })).rejects.toMatchObject({
      name: 'InvalidEvent',
      message: expect.stringMatching(/"nope" is not configured/),
    });
  });

  describe('a suppression expiring five years out is refused by every entry point', () => {
    const now = new Date();
    const suppressions = [
      { check: 'token-ref-resolves', reason: 'accepted risk', expires: fiveYearsOut(now) },
    ];
    const config = testConfig({ suppressions });

    it('the direct handler', async () => {
      const h = harness({ config });
      await expect(h.handler({})).rejects.toThrow(ConfigError);
      expect(h.audits).toEqual([]);
    });

    it('the fleet discover step (scheduled runs), before it lists a cluster', async () => {
      const f = fleet(config);
      await expect(f.handlers.discover({})).rejects.toThrow(ConfigError);
      await expect(f.handlers.discover({})).rejects.toThrow('suppressions[0].expires');
      expect(f.s3.objects.size).toBe(0);
    });

    it('the fleet audit-cluster step, before it collects', async () => {
      const f = fleet(config);
      const task: ClusterTask = {
        run: {
          runId: '2026-11-24T02-00-00Z-fleet',
          trigger: 'scheduled',
          dryRun: false,
          notify: 'drift',
          bucket: BUCKET,
        },
        cluster: { name: 'payments', region: 'eu-west-1' },
      };
      await expect(f.handlers.auditCluster(task)).rejects.toThrow('suppressions[0].expires');
      expect(f.audited).toEqual([]);
    });

    it('the CLI (exit 2, nothing audited)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'plan-'));
      const file = join(dir, 'auditor.config.json');
      writeFileSync(
        file,
        JSON.stringify({ clusters: [{ name: 'payments', region: 'eu-west-1' }], suppressions }),
      );
      const run = await runCli('audit', '--config', file);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/suppressions\[0\]\.expires/);
    });
  });
});
