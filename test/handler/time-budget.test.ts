/**
 * The single-process handler (a direct invocation auditing several clusters) reads the time left
 * from the Lambda context, stops auditing a margin plus a delivery reserve before the deadline,
 * and delivers what was done; clusters left over become ERROR findings saying where the budget
 * ran out. The clock is injected: collections move it forward instead of sleeping.
 */
import { join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { BUDGET_MESSAGE_ID } from '../../lambda/run/audit.js';
import { CHECKS } from '../../lambda/checks/index.js';
import type { ClusterConfig } from '../../lambda/config/config.js';
import { DEFAULT_DELIVER_RESERVE_MS, DEFAULT_MARGIN_MS } from '../../lambda/config/budget.js';
import { auditWith, createHandler } from '../../lambda/run/direct.js';
import { type HandlerSummary } from '../../lambda/deliver/deliver.js';
import { fakeS3 } from '../report/fake-s3.js';
import { fixtureAws } from '../support/aws-snapshot.js';
import { FIXTURES_DIR, loadManifests, snapshotFromManifests } from '../support/snapshot-builder.js';
import { recordingLogger, recordingMetrics, testConfig } from './support.js';

const HEALTHY = loadManifests(join(FIXTURES_DIR, 'healthy'));
const HEALTHY_AWS = fixtureAws('healthy');
const NAMES = ['alpha', 'bravo', 'charlie', 'delta'];
/** What the audit may use of an invocation: the time left minus the margin and the reserve. */
const KEPT_BACK_MS = DEFAULT_MARGIN_MS + DEFAULT_DELIVER_RESERVE_MS;

/**
 * A handler over the real audit (collect -> checks) and delivery; `collectMs[name]` is how far a
 * cluster's collection moves the clock (`'hang'`: it moves the clock 30 s and never returns).
 */
function world(collectMs: Record<string, number | 'hang'>) {
  let nowMs = Date.parse('2026-12-02T02:00:00Z');
  const clock = { now: () => new Date(nowMs) };
  const s3 = fakeS3();
  const sns = new SNSClient({ region: 'eu-west-1' });
  const snsMock = mockClient(sns);
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  const logger = recordingLogger();
  const collected: string[] = [];
  const config = testConfig({
    clusters: NAMES.map((name) => ({ name, region: 'eu-west-1' })),
    clusterConcurrency: 1,
    notify: 'always',
  });
  const handler = createHandler({
    loadConfig: () => config,
    audit: auditWith({
      checks: CHECKS,
      now: clock.now,
      collect: async (cluster: ClusterConfig) => {
        collected.push(cluster.name);
        const took = collectMs[cluster.name] ?? 1_000;
        if (took === 'hang') {
          nowMs += 30_000;
          return new Promise<never>(() => {});
        }
        nowMs += took;
        return snapshotFromManifests(HEALTHY, { cluster: cluster.name, aws: HEALTHY_AWS });
      },
    }),
    s3: s3.s3,
    sns,
    logger,
    metrics: recordingMetrics(),
    newRunId: () => '2026-12-02T02-00-00Z-budget',
    now: clock.now,
    functionName: 'eks-datadog-auditor',
    region: 'eu-west-1',
  });
  /** A Lambda context with `ms` left at the start of the invocation, on the injected clock. */
  const context = (ms: number) => {
    const deadline = nowMs + ms;
    return {
      functionName: 'eks-datadog-auditor',
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => deadline - nowMs,
    };
  };
  const budgetFindings = (name: string) =>
    (
      s3.json(`reports/${name}/latest.json`) as {
        findings: { messageId?: string; severity: string; message: string }[];
      }
    ).findings.filter((f) => f.messageId === BUDGET_MESSAGE_ID);
  return {
    handler,
    context,
    collected,
    logger,
    budgetFindings,
    published: () => snsMock.commandCalls(PublishCommand).length,
    bucket: s3,
  };
}

describe('single-process handler: time budget from the Lambda context', () => {
  it('audits every cluster when the invocation has time enough', async () => {
    const w = world({ alpha: 20_000, bravo: 20_000, charlie: 20_000, delta: 20_000 });
    const result = (await w.handler({}, w.context(900_000))) as HandlerSummary;
    expect(result.ok).toBe(true);
    expect(w.collected).toEqual(NAMES);
    for (const name of NAMES) expect(w.budgetFindings(name)).toEqual([]);
    expect(w.published()).toBe(4);
  });

  it('without a Lambda context (CLI, direct calls) the budget never runs out', async () => {
    const w = world({ alpha: 3_600_000, bravo: 3_600_000, charlie: 3_600_000, delta: 1 });
    const result = (await w.handler({}, { functionName: 'cli' })) as HandlerSummary;
    expect(result.clusters.map((c) => c.name)).toEqual(NAMES);
    for (const name of NAMES) expect(w.budgetFindings(name)).toEqual([]);
  });

  it('starts no cluster once the audit budget is spent; those become ERROR findings saying how far the run got, and the run still delivers', async () => {
    // 45 s for the audit: alpha, bravo and charlie (20 s each) start within it, delta does not.
    const w = world({ alpha: 20_000, bravo: 20_000, charlie: 20_000, delta: 20_000 });
    const result = (await w.handler({}, w.context(KEPT_BACK_MS + 45_000))) as HandlerSummary;
    expect(w.collected).toEqual(['alpha', 'bravo', 'charlie']);
    expect(result.ok).toBe(true);
    expect(result.clusters.map((c) => [c.name, c.archive !== undefined])).toEqual(
      NAMES.map((name) => [name, true]),
    );
    expect(result.clusters.find((c) => c.name === 'delta')!.status).toBe('ERROR');
    for (const name of ['alpha', 'bravo', 'charlie']) expect(w.budgetFindings(name)).toEqual([]);
    expect(w.budgetFindings('delta')).toEqual([
      expect.objectContaining({
        severity: 'high',
        message:
          'Cluster delta (eu-west-1) was not audited: the time budget ran out before its audit started (3 of 4 clusters audited in the 45 s available), so no check ran on it.',
      }),
    ]);
    expect(w.published()).toBe(4);
    expect(w.logger.records).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'time budget exhausted; clusters left unaudited',
        extra: { audited: 3, unaudited: 1, availableMs: 45_000 },
      }),
    );
  });

  it('stops waiting for a cluster whose collection outlasts the budget, and reports it as cut off', async () => {
    // bravo's API server never answers: its collection holds past the audit budget.
    const w = world({ alpha: 20_000, bravo: 'hang' });
    const result = (await w.handler({}, w.context(KEPT_BACK_MS + 45_000))) as HandlerSummary;
    expect(w.collected).toEqual(['alpha', 'bravo']);
    expect(result.ok).toBe(true);
    expect(w.budgetFindings('alpha')).toEqual([]);
    expect(w.budgetFindings('bravo')).toEqual([
      expect.objectContaining({
        message:
          'Cluster bravo (eu-west-1) was not fully audited: the time budget ran out during collection and checks, with 1 of 4 clusters audited (25 s available), so no check ran on it.',
      }),
    ]);
    for (const name of ['charlie', 'delta']) {
      expect(w.budgetFindings(name)).toEqual([
        expect.objectContaining({
          message: expect.stringContaining(
            'the time budget ran out before its audit started (1 of 4 clusters audited in the 45 s available)',
          ),
        }),
      ]);
    }
    expect(w.published()).toBe(4);
  });

  it('an invocation with no time left past the margin audits nothing and fails, naming the undelivered clusters', async () => {
    const w = world({});
    await expect(w.handler({}, w.context(DEFAULT_MARGIN_MS))).rejects.toMatchObject({
      name: 'DeliveryError',
      message: expect.stringMatching(
        /cluster alpha: not delivered: the deliver time budget ran out after 0 of 4 clusters/,
      ),
    });
    expect(w.collected).toEqual([]);
    expect(w.published()).toBe(0);
    expect(w.bucket.objects.size).toBe(0);
  });
});
