/**
 * A Map iteration's delivery run again for the same run and cluster (Step Functions retries it
 * after a Lambda timeout or a lost response): each effect happens at most once, the retry diffs
 * against the same previous report as the first attempt, and an effect whose outcome the first
 * attempt did not record is a failure of the run, never silently skipped.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../../lambda/config/config.js';
import { budgetFrom } from '../../lambda/config/budget.js';
import {
  clusterReportKey,
  deliverClusterTask,
  runKey,
  type DeliverClusterTask,
  type FleetRun,
} from '../../lambda/run/fleet/run.js';
import { toArchived } from '../../lambda/deliver/archive.js';
import { safeJsonStringify } from '../../lambda/report/render-json.js';
import { recordingLogger, recordingMetrics } from '../handler/support.js';
import { fakeS3 } from '../report/fake-s3.js';
import { clusterReport, fieldReportFindings } from '../report/support.js';

const BUCKET = 'archive';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:t';
const config = parseConfig(
  {
    clusters: [{ name: 'golang-cluster', region: 'eu-west-1' }],
    topicArn: TOPIC,
    archiveBucket: BUCKET,
  },
  'test',
);
const run: FleetRun = {
  runId: '2026-11-25T02-00-00Z-run2',
  trigger: 'scheduled',
  dryRun: false,
  notify: 'always',
  bucket: BUCKET,
};
const cluster = { name: 'golang-cluster', region: 'eu-west-1' };

function setup() {
  const s3 = fakeS3();
  const sns = new SNSClient({ region: 'eu-west-1' });
  const snsMock = mockClient(sns);
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  const metrics = recordingMetrics();
  // Last night's report: one failing finding that is fixed tonight.
  const findings = fieldReportFindings('golang-cluster');
  const failing = findings.filter((f) => f.status === 'FAIL');
  const previous = clusterReport(findings, { name: 'golang-cluster', region: 'eu-west-1' });
  s3.put(
    'reports/golang-cluster/latest.json',
    safeJsonStringify(
      toArchived(previous, { runId: '2026-11-24T02-00-00Z-run1', trigger: 'scheduled' }, undefined),
    ),
  );
  const tonight = clusterReport(
    findings.filter((f) => f.id !== failing[0]!.id),
    { name: 'golang-cluster', region: 'eu-west-1', startedAt: '2026-11-25T02:00:00.000Z' },
  );
  const key = clusterReportKey(run, cluster, config);
  s3.put(key, safeJsonStringify(tonight));
  const task: DeliverClusterTask = {
    step: 'deliver-cluster',
    run,
    cluster,
    audit: { ok: true, cluster, key, status: tonight.status, counts: {} },
  };
  const deliver = () =>
    deliverClusterTask(
      { s3: s3.s3, sns, logger: recordingLogger(), metrics, newRunId: () => run.runId },
      config,
      task,
      budgetFrom(undefined, 0),
    );
  return { s3, snsMock, metrics, deliver, resolvedId: failing[0]!.id };
}

const datedPuts = (s3: ReturnType<typeof fakeS3>) =>
  s3.mock
    .commandCalls(PutObjectCommand)
    .filter((c) => /^reports\/golang-cluster\/\d{4}\/.*\.json$/.test(c.args[0].input.Key!)).length;

describe('delivery marks: a retried iteration', () => {
  it('after a crash between the archive and the end: nothing is archived, published or counted twice, and the drift is the first attempt’s', async () => {
    const w = setup();
    const first = await w.deliver();
    expect(first).toMatchObject({ ok: true, failures: [] });
    // The crash: the whole-delivery mark never got written.
    w.s3.objects.delete(runKey(run.runId, 'delivered/golang-cluster/done.json'));
    const second = await w.deliver();
    expect(second).toMatchObject({ ok: true, failures: [] });
    expect(w.snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(datedPuts(w.s3)).toBe(1);
    expect(w.metrics.clusters).toHaveLength(1);
    // latest.json now holds tonight's report; the retry still diffs against last night's.
    if (!second.ok || !first.ok) throw new Error('not delivered');
    expect(second.summary).toEqual({
      ...first.summary,
      publishReason: `${first.summary.publishReason} (published by an earlier attempt)`,
    });
    expect(second.summary.resolved).toBe(1);
  });

  it('after a crash inside the publish: the retry does not publish again and fails the run for it', async () => {
    const w = setup();
    // The first attempt dies while publishing (claimed, never recorded).
    // Waited for until the publish is under way (no guess at how long getting there takes).
    let entered!: () => void;
    const publishing = new Promise<void>((resolve) => (entered = resolve));
    w.snsMock.on(PublishCommand).callsFake(() => {
      entered();
      return new Promise(() => undefined);
    });
    const hung = w.deliver();
    await publishing;
    w.snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    const retry = await w.deliver();
    expect(retry).toMatchObject({
      ok: true,
      failures: [expect.stringMatching(/claimed the publish and did not finish; not sent again/)],
    });
    expect(w.snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(datedPuts(w.s3)).toBe(1);
    void hung;
  });

  it('a retry after the delivery finished returns the recorded result without touching anything', async () => {
    const w = setup();
    const first = await w.deliver();
    const puts = w.s3.mock.commandCalls(PutObjectCommand).length;
    expect(await w.deliver()).toEqual(first);
    expect(w.s3.mock.commandCalls(PutObjectCommand).length).toBe(puts);
    expect(w.snsMock.commandCalls(PublishCommand)).toHaveLength(1);
  });
});
