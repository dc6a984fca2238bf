import { PublishCommand, SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SEVERITIES } from '../../lambda/config/findings.js';
import { diffReports } from '../../lambda/report/diff.js';
import { renderEmail } from '../../lambda/report/email.js';
import {
  buildPublishInput,
  decidePublish,
  driftAttribute,
  MACHINE_PROTOCOLS,
  publishCluster,
  SNS_MAX_BYTES,
  type MachineMessage,
} from '../../lambda/deliver/publish.js';
import { jsonFinding } from '../../lambda/report/render-json.js';
import { clusterReport, fieldReportFindings, finding, RUN_ID } from './support.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:eks-datadog-auditor';
const ARCHIVE = `s3://audit-bucket/reports/golang-cluster/2026/11/24/${RUN_ID}.json`;
const CTX = {
  topicArn: TOPIC,
  runId: RUN_ID,
  trigger: 'scheduled' as const,
  archiveLocation: ARCHIVE,
  functionName: 'eks-datadog-auditor',
  region: 'eu-west-1',
};

const [dangling, rbac] = fieldReportFindings();
const resolvedSg = finding({
  checkId: 'fargate-sg-allows-5005',
  severity: 'high',
  resource: { kind: 'SecurityGroup', name: 'sg-0abc' },
  messageId: 'port-closed',
  message: 'Security group sg-0abc blocks TCP 5005 from the Fargate pods.',
});

function driftRun() {
  const current = clusterReport(fieldReportFindings());
  const previous = clusterReport([rbac!, resolvedSg]);
  return { current, drift: diffReports(current, previous) };
}

describe('decidePublish', () => {
  const current = clusterReport(fieldReportFindings());
  const lowOnly = finding({ checkId: 'minor', severity: 'low', messageId: 'minor' });
  it.each([
    { policy: 'never', previous: undefined, expected: false },
    { policy: 'always', previous: [rbac!, dangling!], expected: true },
    { policy: 'drift', previous: [rbac!], expected: true },
    { policy: 'drift', previous: [rbac!, dangling!], expected: false },
    { policy: 'drift', previous: [rbac!, dangling!, resolvedSg], expected: true },
  ] as const)(
    '$policy with previous failing $previous.length -> publish $expected',
    ({ policy, previous, expected }) => {
      const drift = diffReports(current, previous ? clusterReport([...previous]) : undefined);
      expect(decidePublish(policy, current, drift, 'high').publish).toBe(expected);
    },
  );

  it('ignores new and resolved findings below the minimum severity under drift', () => {
    const withLow = clusterReport([...fieldReportFindings(), lowOnly]);
    const drift = diffReports(withLow, clusterReport(fieldReportFindings()));
    expect(decidePublish('drift', withLow, drift, 'high')).toEqual({
      publish: false,
      reason: 'no new or resolved findings at or above high',
    });
    expect(decidePublish('drift', withLow, drift, 'low').publish).toBe(true);
  });

  it('publishes failing findings when drift is unknown rather than dropping them', () => {
    expect(decidePublish('drift', current, undefined, 'high').publish).toBe(true);
    const passing = clusterReport(fieldReportFindings().filter((f) => f.status === 'PASS'));
    expect(decidePublish('drift', passing, undefined, 'high').publish).toBe(false);
  });
});

describe('driftAttribute', () => {
  it('is new, resolved, none, or unknown without drift', () => {
    const { current, drift } = driftRun();
    expect(driftAttribute(drift)).toBe('new');
    expect(driftAttribute({ ...drift, new: [] })).toBe('resolved');
    expect(driftAttribute(diffReports(current, current))).toBe('none');
    expect(driftAttribute(undefined)).toBe('unknown');
  });
});

describe('publishCluster', () => {
  const sns = new SNSClient({ region: 'eu-west-1' });
  const snsMock = mockClient(sns);
  beforeEach(() => snsMock.reset());

  it('sends the exact Publish input for a drift run: subject, attributes, email and JSON forms', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const { current, drift } = driftRun();
    await expect(publishCluster(sns, current, drift, CTX)).resolves.toEqual({
      messageId: 'm-1',
      bytes: expect.any(Number),
    });

    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const input = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input).toEqual({
      TopicArn: TOPIC,
      Subject: '[eks-datadog-auditor] golang-cluster: 1 critical, 1 high (1 new, 1 resolved)',
      MessageStructure: 'json',
      MessageAttributes: {
        cluster: { DataType: 'String', StringValue: 'golang-cluster' },
        maxSeverity: { DataType: 'String', StringValue: 'critical' },
        drift: { DataType: 'String', StringValue: 'new' },
        trigger: { DataType: 'String', StringValue: 'scheduled' },
      },
      Message: expect.any(String),
    });

    const message = JSON.parse(input.Message!);
    expect(Object.keys(message)).toEqual(['default', 'email', ...MACHINE_PROTOCOLS]);
    expect(message.default).toBe(
      [
        '[eks-datadog-auditor] golang-cluster: 1 critical, 1 high (1 new, 1 resolved)',
        'FAIL: golang-cluster (eu-west-1) has 2 failing findings (1 critical, 1 high); 1 new, 1 resolved since the last run.',
        `Report: ${ARCHIVE}`,
      ].join('\n'),
    );
    expect(message.email).toBe(renderEmail(current, drift, { ...CTX, maxFindings: 3 }));
    for (const p of MACHINE_PROTOCOLS) expect(message[p]).toBe(message.sqs);

    const machine: MachineMessage = JSON.parse(message.sqs);
    expect(machine).toEqual({
      source: 'eks-datadog-auditor',
      schemaVersion: 1,
      runId: RUN_ID,
      trigger: 'scheduled',
      startedAt: current.startedAt,
      cluster: {
        name: 'golang-cluster',
        region: 'eu-west-1',
        status: 'FAIL',
        counts: { critical: 1, high: 1, medium: 0, low: 0, info: 0 },
        passed: 2,
      },
      drift: { firstRun: false, new: 1, resolved: 1, unchanged: 1, notEvaluated: 0 },
      findings: [
        { ...jsonFinding(dangling!), drift: 'new' },
        { ...jsonFinding(rbac!), drift: 'unchanged' },
        { ...jsonFinding(resolvedSg), drift: 'resolved' },
      ],
      errors: [],
      archive: ARCHIVE,
    });
  });

  it('marks on-demand runs in the trigger attribute', () => {
    const { current, drift } = driftRun();
    const input = buildPublishInput(current, drift, { ...CTX, trigger: 'on-demand' });
    expect(input.MessageAttributes!.trigger).toEqual({
      DataType: 'String',
      StringValue: 'on-demand',
    });
  });

  it('says maxSeverity none when nothing fails', () => {
    const passing = clusterReport(fieldReportFindings().filter((f) => f.status === 'PASS'));
    const input = buildPublishInput(passing, diffReports(passing, passing), CTX);
    expect(input.MessageAttributes!.maxSeverity!.StringValue).toBe('none');
    expect(input.MessageAttributes!.drift!.StringValue).toBe('none');
  });

  it('stays under 256 KiB for a 5,000-finding report, cutting whole findings and pointing to the archive', () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      finding({
        checkId: `check-${i % 7}`,
        severity: SEVERITIES[i % SEVERITIES.length],
        resource: {
          kind: 'Pod',
          namespace: `team-${i % 40}`,
          name: `app-${i}-${'x'.repeat(i % 30)}`,
        },
        messageId: `m-${i}`,
        message: `Pod team-${i % 40}/app-${i} mounts Secret go-secrets-${i}, which does not exist (é, 名前).`,
        remediation: `Set spec.containers[agent].env[DD_CLUSTER_AGENT_AUTH_TOKEN].valueFrom.secretKeyRef.name to golang-secrets in Deployment app-${i}.`,
      }),
    );
    const report = clusterReport(many);
    const drift = diffReports(report, undefined);
    const started = Date.now();
    const input = buildPublishInput(report, drift, CTX);
    const elapsed = Date.now() - started;

    const attrBytes = Object.entries(input.MessageAttributes!).reduce(
      (n, [k, v]) =>
        n +
        Buffer.byteLength(k) +
        Buffer.byteLength(v.DataType!) +
        Buffer.byteLength(v.StringValue!),
      0,
    );
    const total =
      Buffer.byteLength(input.Message!, 'utf8') + attrBytes + Buffer.byteLength(input.Subject!);
    expect(total).toBeLessThanOrEqual(SNS_MAX_BYTES);
    expect(total).toBeGreaterThan(SNS_MAX_BYTES * 0.9);

    const message = JSON.parse(input.Message!);
    const machine: MachineMessage = JSON.parse(message.sqs);
    const listed = machine.findings.length;
    expect(listed).toBeGreaterThan(10);
    expect(listed).toBeLessThan(5000);
    expect(machine.truncated).toEqual({
      omittedFindings: 5000 - listed,
      note: `${5000 - listed} more findings, see ${ARCHIVE}`,
    });
    // Whole findings only: each listed one is exactly the original.
    const byId = new Map(many.map((f) => [f.id, f]));
    for (const f of machine.findings) {
      const { drift: tag, ...rest } = f;
      expect(tag).toBe('new');
      expect(rest).toEqual(jsonFinding(byId.get(f.id)!));
    }
    expect(machine.cluster.counts).toEqual({
      critical: 1000,
      high: 1000,
      medium: 1000,
      low: 1000,
      info: 1000,
    });
    expect(message.email).toContain(
      `${5000 - listed} more findings not shown (message size limit), see the full report:\n  ${ARCHIVE}`,
    );
    expect(message.email).toContain('NEW FINDINGS (5000)');
    console.info(
      `5,000-finding alert: ${listed} findings listed, ${total} bytes, built in ${elapsed} ms`,
    );
  });

  it('fails naming the cluster and the topic when SNS rejects after retries', async () => {
    snsMock.on(PublishCommand).rejects(
      new SNSServiceException({
        name: 'AuthorizationError',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'User is not authorized to perform: SNS:Publish',
      }),
    );
    const { current, drift } = driftRun();
    await expect(publishCluster(sns, current, drift, CTX)).rejects.toThrow(
      /Publishing the alert for cluster golang-cluster to arn:aws:sns:eu-west-1:123456789012:eks-datadog-auditor failed after retries \(AuthorizationError/,
    );
  });
});
