/**
 * The fleet's audit-cluster step reads the cluster's previous copy record from its archived
 * latest.json before collecting, and the checks see it as snapshot.previousRun.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { Check } from '../../lambda/checks/check.js';
import { parseConfig } from '../../lambda/config/config.js';
import { createFleetHandlers } from '../../lambda/run/fleet/handlers.js';
import { recordingLogger, recordingMetrics } from '../handler/support.js';
import { fakeS3 } from '../report/fake-s3.js';
import { snapshotFromManifests } from '../support/snapshot-builder.js';

const BUCKET = 'audit-bucket';

/** Reports what the previous run's record said, so the test can see what the checks saw. */
const sees: Check = {
  id: 'sees-previous-run',
  area: 'token',
  title: 'test',
  severity: 'info',
  resourceType: 'Cluster',
  risk: '',
  remediation: '',
  requires: [],
  run: (s) => [
    {
      status: 'PASS',
      resource: { kind: 'Cluster', name: s.cluster.name },
      messageId: 'seen',
      message: s.previousRun
        ? `previous ${s.previousRun.collectedAt} ${s.previousRun.copies.length}`
        : 'none',
      remediation: '',
    },
  ],
};

function setup() {
  const config = parseConfig(
    {
      region: 'eu-west-1',
      clusters: [{ name: 'golang-cluster', region: 'eu-west-1' }],
      archiveBucket: BUCKET,
    },
    'test',
  );
  const s3 = fakeS3();
  const sns = new SNSClient({ region: 'eu-west-1' });
  mockClient(sns).on(PublishCommand).resolves({ MessageId: 'm' });
  const handlers = createFleetHandlers({
    loadConfig: () => config,
    s3: s3.s3,
    sns,
    logger: recordingLogger(),
    metrics: recordingMetrics(),
    newRunId: () => '2026-12-02T02-00-00Z-run1',
    marginMs: 0,
    audit: {
      checks: [sees],
      now: () => new Date('2026-12-02T02:00:00.000Z'),
      collect: async (cluster) => snapshotFromManifests([], { cluster: cluster.name }),
    },
  });
  const task = {
    run: {
      runId: '2026-12-02T02-00-00Z-run1',
      trigger: 'scheduled' as const,
      dryRun: false,
      notify: 'new-findings' as never,
      bucket: BUCKET,
    },
    cluster: { name: 'golang-cluster', region: 'eu-west-1' },
  };
  const seen = async () => {
    const result = await handlers.auditCluster(task, { getRemainingTimeInMillis: () => 60_000 });
    if (!result.ok) throw new Error('audit-cluster failed');
    const report = s3.json(result.key) as { findings: { message: string }[] };
    return report.findings[0]!.message;
  };
  return { s3, seen };
}

const record = {
  collectedAt: '2026-12-01T02:00:00.000Z',
  copies: [
    {
      namespace: 'golang',
      secret: 'golang-secrets',
      key: 'token',
      fingerprint: '0123456789abcdef0123456789abcdef',
    },
  ],
};

describe('audit-cluster and the previous copy record', () => {
  it('hands the archived record of the same cluster to the checks', async () => {
    const { s3, seen } = setup();
    s3.put(
      'reports/golang-cluster/latest.json',
      JSON.stringify({
        name: 'golang-cluster',
        region: 'eu-west-1',
        runId: 'r0',
        startedAt: '2026-12-01T02:00:00.000Z',
        findings: [],
        copyRecord: record,
      }),
    );
    expect(await seen()).toBe('previous 2026-12-01T02:00:00.000Z 1');
  });

  it('uses none on a first run', async () => {
    expect(await setup().seen()).toBe('none');
  });

  it("ignores another region's report under the same key", async () => {
    const { s3, seen } = setup();
    s3.put(
      'reports/golang-cluster/latest.json',
      JSON.stringify({
        name: 'golang-cluster',
        region: 'us-east-1',
        runId: 'r0',
        startedAt: '2026-12-01T02:00:00.000Z',
        findings: [],
        copyRecord: record,
      }),
    );
    expect(await seen()).toBe('none');
  });
});
