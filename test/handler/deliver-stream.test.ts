import { SNSClient } from '@aws-sdk/client-sns';
import {
  DELIVERY_STEPS,
  deliverReports,
  type ClusterReportSource,
  type DeliveryStep,
} from '../../lambda/deliver/deliver.js';
import type { ClusterReport } from '../../lambda/report/types.js';
import { fakeS3 } from '../report/fake-s3.js';
import { clusterReport, fieldReportFindings, finding, RUN_ID, STARTED } from '../report/support.js';
import { recordingLogger, recordingMetrics, testConfig } from './support.js';

const NAMES = ['c1', 'c2', 'c3', 'c4'];

function report(name: string, startedAt: string): ClusterReport {
  return clusterReport(
    [
      ...fieldReportFindings(name),
      finding({ cluster: name, checkId: 'fargate-sidecar-mode', status: 'PASS' }),
    ],
    { name, startedAt },
  );
}

describe('deliverReports', () => {
  it('loads each cluster report in its turn, after the previous one went through every step', async () => {
    const events: string[] = [];
    const sources: ClusterReportSource[] = NAMES.map((name, i) => ({
      name,
      async load() {
        events.push(`load ${name}`);
        return report(name, `2026-11-24T02:0${i}:00.000Z`);
      },
    }));
    const last: DeliveryStep = {
      name: 'record',
      failure: 'never',
      run: (_ctx, d) => void events.push(`delivered ${d.cluster.name}`),
    };
    const { s3 } = fakeS3();
    const summary = await deliverReports(
      {
        s3,
        sns: new SNSClient({ region: 'eu-west-1' }),
        logger: recordingLogger(),
        metrics: recordingMetrics(),
      },
      testConfig({ clusters: NAMES.map((name) => ({ name, region: 'eu-west-1' })) }),
      { runId: RUN_ID, startedAt: STARTED, finishedAt: STARTED, trigger: 'scheduled' },
      sources,
      { runId: RUN_ID, trigger: 'scheduled', dryRun: false, notify: 'never' },
      [...DELIVERY_STEPS, last],
    );
    expect(events).toEqual(NAMES.flatMap((n) => [`load ${n}`, `delivered ${n}`]));
    const passes = (n: string) => report(n, STARTED).findings.filter((f) => f.status === 'PASS');
    expect(summary.clusters.map((c) => [c.name, c.passed])).toEqual(
      NAMES.map((n) => [n, passes(n).length]),
    );
  });

  it('reports a cluster whose report cannot be read as a failure of the run and delivers the rest', async () => {
    const { s3 } = fakeS3();
    const sources: ClusterReportSource[] = [
      { name: 'c1', load: async () => report('c1', STARTED) },
      {
        name: 'c2',
        load: async () => {
          throw new Error('NoSuchKey: runs/x/c2.json');
        },
      },
      { name: 'c3', load: async () => report('c3', STARTED) },
    ];
    await expect(
      deliverReports(
        {
          s3,
          sns: new SNSClient({ region: 'eu-west-1' }),
          logger: recordingLogger(),
          metrics: recordingMetrics(),
        },
        testConfig({ clusters: ['c1', 'c2', 'c3'].map((name) => ({ name })) }),
        { runId: RUN_ID, startedAt: STARTED, finishedAt: STARTED, trigger: 'scheduled' },
        sources,
        { runId: RUN_ID, trigger: 'scheduled', dryRun: false, notify: 'never' },
      ),
    ).rejects.toThrow(/cluster c2: report unreadable: NoSuchKey/);
  });
});
