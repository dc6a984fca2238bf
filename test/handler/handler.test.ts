import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand, SNSServiceException } from '@aws-sdk/client-sns';
import 'aws-sdk-client-mock-jest';
import { ConfigError } from '../../lambda/config/config.js';
import type { Check } from '../../lambda/checks/check.js';
import { auditWith, createHandler } from '../../lambda/run/direct.js';
import { loadConfigFromEnv } from '../../lambda/config/source.js';
import { parseEvent, type HandlerError } from '../../lambda/run/events.js';
import { type HandlerSummary } from '../../lambda/deliver/deliver.js';
import { latestKey } from '../../lambda/deliver/archive.js';
import { accessDenied } from '../report/fake-s3.js';
import { fieldReportFindings, finding } from '../report/support.js';
import { snapshotFromManifests } from '../support/snapshot-builder.js';
import { BUCKET, harness, testConfig, TOPIC } from './support.js';

const RUN1 = '2026-11-24T02-00-00Z-aaaaaa';
const RUN2 = '2026-11-25T02-00-00Z-bbbbbb';

const ok = (r: unknown) => r as HandlerSummary;
const err = (r: unknown) => r as HandlerError;

describe('parseEvent', () => {
  it.each([
    ['nothing', undefined],
    ['an empty object', {}],
    [
      'an EventBridge scheduled event',
      { version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} },
    ],
    [
      'an EventBridge Scheduler envelope',
      { source: 'aws.scheduler', time: '2026-11-24T02:00:00Z' },
    ],
  ])('treats %s as a scheduled run over all clusters', (_name, event) => {
    expect(parseEvent(event)).toEqual({ ok: true, trigger: 'scheduled', event: {} });
  });

  it('accepts an on-demand event', () => {
    expect(parseEvent({ clusters: ['a'], notify: 'never', dryRun: true })).toEqual({
      ok: true,
      trigger: 'on-demand',
      event: { clusters: ['a'], notify: 'never', dryRun: true },
    });
  });

  it.each([
    [
      { clusters: 'golang-cluster' },
      ['clusters: must be a list of cluster names, e.g. ["golang-cluster"]'],
    ],
    [
      { clusters: [] },
      ['clusters: list at least one cluster name, or leave "clusters" out to audit all of them'],
    ],
    [{ clusters: ['ok', 7] }, ['clusters[1]: must be a cluster name (a string)']],
    [{ notify: 'sometimes' }, ['notify: must be one of "always", "drift", "never"']],
    [{ dryRun: 'yes' }, ['dryRun: must be true or false']],
    [{ dryrun: true }, ['dryrun: unknown field; allowed fields are clusters, notify, dryRun']],
    ['audit', ['(event): must be a JSON object such as the example, not string']],
    [[1], ['(event): must be a JSON object such as the example, not an array']],
  ])('rejects %j with %j', (event, issues) => {
    expect(parseEvent(event)).toEqual({ ok: false, issues });
  });

  it('lists every bad field at once', () => {
    const parsed = parseEvent({ notify: 'loud', dryRun: 1, extra: 'x', more: 2 });
    expect(parsed.ok).toBe(false);
    expect((parsed as { issues: string[] }).issues.sort()).toEqual(
      [
        'dryRun: must be true or false',
        'extra: unknown field; allowed fields are clusters, notify, dryRun',
        'more: unknown field; allowed fields are clusters, notify, dryRun',
        'notify: must be one of "always", "drift", "never"',
      ].sort(),
    );
  });
});

describe('handler: invalid requests', () => {
  it('returns the validation errors and a valid example, and audits, archives and publishes nothing', async () => {
    const h = harness();
    const result = await h.handler({ clusters: ['golang-cluster'], notify: 'loud' });
    expect(result).toEqual({
      ok: false,
      error: 'Invalid event',
      issues: ['notify: must be one of "always", "drift", "never"'],
      example: { clusters: ['golang-cluster'], notify: 'always', dryRun: true },
    });
    expect(h.audits).toEqual([]);
    expect(h.snsMock).not.toHaveReceivedCommand(PublishCommand);
    expect(h.bucket.mock.calls()).toHaveLength(0);
  });

  it('rejects an extra field by name', async () => {
    const h = harness();
    const result = err(await h.handler({ clusters: ['golang-cluster'], dryrun: true }));
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([
      'dryrun: unknown field; allowed fields are clusters, notify, dryRun',
    ]);
    expect(h.snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it('names an unknown cluster and the configured ones', async () => {
    const h = harness();
    const result = await h.handler({ clusters: ['golang-cluster', 'golang-clutser'] });
    expect(result).toEqual({
      ok: false,
      error: 'Unknown cluster',
      issues: [
        'clusters[1]: "golang-clutser" is not configured; configured clusters: golang-cluster, payments',
      ],
      example: { clusters: ['golang-cluster'], notify: 'always', dryRun: true },
    });
    expect(h.audits).toEqual([]);
    expect(h.snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it('shows a hostile cluster name inert in the error', async () => {
    const h = harness();
    const result = err(await h.handler({ clusters: ['x\n\u001b[31mred'] }));
    expect(result.issues[0]).toContain('"x\\n\\x1b[31mred" is not configured');
  });
});

describe('handler: scheduled runs', () => {
  it('audits every cluster, archives each, publishes the first run under drift, and returns a compact summary', async () => {
    const h = harness();
    const result = ok(await h.handler({}));
    expect(h.audits).toEqual([
      { clusters: ['golang-cluster', 'payments'], trigger: 'scheduled', runId: RUN1 },
    ]);
    expect(result).toEqual({
      ok: true,
      runId: RUN1,
      trigger: 'scheduled',
      dryRun: false,
      notify: 'drift',
      clusters: [
        {
          name: 'golang-cluster',
          region: 'eu-west-1',
          status: 'FAIL',
          counts: { critical: 1, high: 1, medium: 0, low: 0, info: 0 },
          passed: 2,
          new: 2,
          resolved: 0,
          archive: `s3://${BUCKET}/reports/golang-cluster/2026/11/24/${RUN1}.json`,
          latest: 'updated',
          published: true,
          publishReason: '2 new and 0 resolved at or above high',
        },
        {
          name: 'payments',
          region: 'eu-west-1',
          status: 'PASS',
          counts: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
          passed: 2,
          new: 0,
          resolved: 0,
          archive: `s3://${BUCKET}/reports/payments/2026/11/24/${RUN1}.json`,
          latest: 'updated',
          published: false,
          publishReason: 'no new or resolved findings at or above high',
        },
      ],
      archivePrefix: `s3://${BUCKET}/reports/`,
      published: 1,
      warnings: [],
    });
    expect(h.snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(h.bucket.json(latestKey('golang-cluster')).runId).toBe(RUN1);
    expect(h.metrics.clusters.map((c) => c.name)).toEqual(['golang-cluster', 'payments']);
    expect(h.metrics.flushes).toBe(1);
    expect(h.metrics.succeeded).toBe(1);
  });

  it('publishes a drift run with the subject, attributes and both message forms', async () => {
    const h = harness();
    await h.handler({});
    // Next night: the dangling ref is fixed, the RBAC gap remains, a new medium and a new critical appear.
    const [dangling, rbac, ...passes] = fieldReportFindings('golang-cluster');
    h.findings['golang-cluster'] = [
      { ...dangling!, status: 'PASS', remediation: '' },
      rbac!,
      finding({
        checkId: 'fargate-sg-allows-5005',
        severity: 'critical',
        resource: { kind: 'SecurityGroup', name: 'sg-0abc' },
        messageId: 'port-closed',
        message: 'Security group sg-0abc blocks TCP 5005.',
      }),
      ...passes,
    ];
    h.snsMock.resetHistory();
    const result = ok(await h.handler({}));
    expect(result.clusters[0]).toMatchObject({ new: 1, resolved: 1, published: true });

    expect(h.snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const input = h.snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TopicArn: TOPIC,
      Subject: '[eks-datadog-auditor] golang-cluster: 1 critical, 1 high (1 new, 1 resolved)',
      MessageStructure: 'json',
      MessageAttributes: {
        cluster: { DataType: 'String', StringValue: 'golang-cluster' },
        maxSeverity: { DataType: 'String', StringValue: 'critical' },
        drift: { DataType: 'String', StringValue: 'new' },
        trigger: { DataType: 'String', StringValue: 'scheduled' },
      },
    });
    const message = JSON.parse(input.Message!);
    expect(message.email).toMatch(/^FAIL: golang-cluster \(eu-west-1\) has 2 failing findings/);
    expect(message.email).toContain('NEW FINDINGS (1)\n');
    expect(message.email).toContain('STILL FAILING (1)\n');
    expect(message.email).toContain('RESOLVED SINCE THE LAST RUN (1)\n');
    expect(message.email).toContain(
      `s3://${BUCKET}/reports/golang-cluster/2026/11/25/${RUN2}.json`,
    );
    expect(message.email).toContain('aws lambda invoke --function-name eks-datadog-auditor');
    const machine = JSON.parse(message.lambda);
    expect(machine.findings.map((f: { drift: string }) => f.drift)).toEqual([
      'new',
      'unchanged',
      'resolved',
    ]);
    expect(machine.archive).toBe(`s3://${BUCKET}/reports/golang-cluster/2026/11/25/${RUN2}.json`);
  });

  it('publishes nothing under drift when nothing changed, but still archives the run', async () => {
    const h = harness();
    await h.handler({});
    h.snsMock.resetHistory();
    const result = ok(await h.handler({}));
    expect(h.snsMock).not.toHaveReceivedCommand(PublishCommand);
    expect(result.published).toBe(0);
    expect(result.clusters.map((c) => c.publishReason)).toEqual([
      'no new or resolved findings at or above high',
      'no new or resolved findings at or above high',
    ]);
    expect(h.bucket.objects.has(`reports/golang-cluster/2026/11/25/${RUN2}.json`)).toBe(true);
    expect(h.bucket.json(latestKey('golang-cluster')).runId).toBe(RUN2);
  });

  it('fails the invocation when publishing fails, after the archive was written, and still handles the other clusters', async () => {
    const h = harness({
      findings: {
        'golang-cluster': fieldReportFindings('golang-cluster'),
        payments: fieldReportFindings('payments'),
      },
    });
    const order: string[] = [];
    h.bucket.hooks.beforePut = (input) => order.push(`put ${input.Key}`);
    h.snsMock
      .on(PublishCommand)
      .callsFake((input: { MessageAttributes: { cluster: { StringValue: string } } }) => {
        order.push(`publish ${input.MessageAttributes.cluster.StringValue}`);
        throw new SNSServiceException({
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
          message: 'Internal failure',
        });
      });
    await expect(h.handler({})).rejects.toThrow(
      /Run 2026-11-24T02-00-00Z-aaaaaa: cluster golang-cluster: Publishing the alert for cluster golang-cluster .* failed after retries \(InternalError.*; cluster payments: Publishing/,
    );
    expect(order).toEqual([
      `put reports/golang-cluster/2026/11/24/${RUN1}.json`,
      'put reports/golang-cluster/latest.json',
      `put reports/golang-cluster/2026/11/24/${RUN1}.html`,
      'publish golang-cluster',
      `put reports/payments/2026/11/24/${RUN1}.json`,
      'put reports/payments/latest.json',
      `put reports/payments/2026/11/24/${RUN1}.html`,
      'publish payments',
    ]);
    expect(h.logger.records).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'publish failed' }),
    );
    expect(h.metrics.flushes).toBe(1);
    // A run that could not deliver is not a success: the 26-hour alarm must see it.
    expect(h.metrics.succeeded).toBe(0);
  });

  it('records a newer run that won latest.json in the summary instead of overwriting it', async () => {
    const h = harness();
    h.bucket.hooks.beforePut = (input) => {
      if (input.Key === latestKey('golang-cluster') && !h.bucket.objects.has(input.Key)) {
        h.bucket.put(
          input.Key,
          JSON.stringify({
            archiveSchema: 1,
            name: 'golang-cluster',
            runId: '2026-11-24T03-00-00Z-ffffff',
            startedAt: '2026-11-24T03:00:00.000Z',
            findings: [],
          }),
        );
      }
    };
    const result = ok(await h.handler({}));
    expect(result.clusters[0]!.latest).toBe('newer-run-kept');
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /latest.json of cluster golang-cluster already holds newer run 2026-11-24T03-00-00Z-ffffff/,
      ),
    ]);
    expect(h.bucket.json(latestKey('golang-cluster')).runId).toBe('2026-11-24T03-00-00Z-ffffff');
  });

  it('still alerts when the previous report cannot be read, then fails the invocation', async () => {
    const h = harness();
    h.bucket.mock.on(GetObjectCommand).rejects(accessDenied());
    await expect(h.handler({})).rejects.toThrow(
      /Could not read the previous report .*s3:GetObject/,
    );
    const input = h.snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.MessageAttributes!.drift!.StringValue).toBe('unknown');
    expect(JSON.parse(input.Message!).email).toContain(
      'Drift unknown: Could not read the previous report',
    );
    expect(h.bucket.objects.has(`reports/golang-cluster/2026/11/24/${RUN1}.json`)).toBe(true);
    expect(h.bucket.objects.has(latestKey('golang-cluster'))).toBe(false);
  });

  it('skips the archive with a warning when no bucket is configured', async () => {
    const h = harness({ config: testConfig({ archiveBucket: undefined }) });
    const result = ok(await h.handler({}));
    expect(result.archivePrefix).toBeNull();
    expect(result.clusters[0]!.archive).toBeNull();
    expect(result.warnings[0]).toMatch(/No archiveBucket configured/);
    expect(h.bucket.mock.calls()).toHaveLength(0);
    expect(h.snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});

describe('handler: on-demand runs', () => {
  it('audits only the named clusters and marks the alert on-demand', async () => {
    const h = harness();
    const result = ok(await h.handler({ clusters: ['golang-cluster'], notify: 'always' }));
    expect(result.trigger).toBe('on-demand');
    expect(h.audits[0]!.clusters).toEqual(['golang-cluster']);
    expect(h.snsMock).toHaveReceivedCommandWith(PublishCommand, {
      MessageAttributes: expect.objectContaining({
        trigger: { DataType: 'String', StringValue: 'on-demand' },
      }),
    });
  });

  it('names the invoked function in the re-run instructions', async () => {
    const h = harness();
    await h.handler({ clusters: ['golang-cluster'] }, { functionName: 'auditor-prod' });
    const email = JSON.parse(
      h.snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Message!,
    ).email;
    expect(email).toContain('aws lambda invoke --function-name auditor-prod \\');
    expect(email).toContain('Lambda console: function auditor-prod, Test tab');
  });

  it('publishes every cluster with notify=always, even unchanged and passing ones', async () => {
    const h = harness();
    await h.handler({});
    h.snsMock.resetHistory();
    const result = ok(await h.handler({ notify: 'always' }));
    expect(result.published).toBe(2);
    const subjects = h.snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
    expect(subjects).toEqual([
      '[eks-datadog-auditor] golang-cluster: 1 critical, 1 high (no change)',
      '[eks-datadog-auditor] payments: all passed (no change)',
    ]);
  });

  it('publishes nothing with notify=never but still archives', async () => {
    const h = harness();
    const result = ok(await h.handler({ notify: 'never' }));
    expect(result.published).toBe(0);
    expect(h.snsMock).not.toHaveReceivedCommand(PublishCommand);
    expect(h.bucket.mock).toHaveReceivedCommand(PutObjectCommand);
  });

  it('dry run: reads the previous report, writes and publishes nothing, and returns the full report', async () => {
    const h = harness();
    await h.handler({});
    h.snsMock.resetHistory();
    h.bucket.mock.resetHistory();
    const result = ok(await h.handler({ dryRun: true, notify: 'always' }));
    expect(h.snsMock).not.toHaveReceivedCommand(PublishCommand);
    expect(h.bucket.mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(h.bucket.mock).toHaveReceivedCommand(GetObjectCommand);
    expect(result.dryRun).toBe(true);
    expect(result.published).toBe(0);
    expect(result.clusters.every((c) => c.archive === null && c.publishReason === 'dry run')).toBe(
      true,
    );
    const cluster = result.report!.clusters[0]!;
    expect(cluster.name).toBe('golang-cluster');
    expect(cluster.findings.filter((f) => f.status === 'PASS')).toHaveLength(2);
    expect(cluster.drift).toMatchObject({ firstRun: false, new: [], resolved: [] });
    expect(h.metrics.clusters).toHaveLength(2);
    // Only the first, real run counts for the no-successful-audit alarm.
    expect(h.metrics.succeeded).toBe(1);
  });
});

describe('handler: with the shared audit', () => {
  it('turns a cluster that cannot be collected into AUDIT INCOMPLETE while the others complete', async () => {
    const h = harness();
    const check: Check = {
      id: 'always-fails',
      area: 'test',
      title: 'Always fails',
      severity: 'high',
      resourceType: 'Pod',
      risk: 'none',
      remediation: 'none',
      requires: [],
      run: () => [
        {
          status: 'FAIL',
          resource: { kind: 'Pod', namespace: 'golang', name: 'golang-app' },
          messageId: 'broken',
          message: 'Pod golang/golang-app is broken.',
          remediation: 'Fix it.',
        },
      ],
    };
    const handler = createHandler({
      ...h.deps,
      audit: auditWith({
        collect: async (cluster) => {
          if (cluster.name === 'payments') throw new Error('eks:DescribeCluster AccessDenied');
          return snapshotFromManifests([], { cluster: cluster.name });
        },
        checks: [check],
        now: () => new Date('2026-11-24T02:00:00.000Z'),
      }),
    });
    const result = ok(await handler({}));
    expect(result.runId).toBe(RUN1);
    expect(result.clusters.map((c) => [c.name, c.status, c.published])).toEqual([
      ['golang-cluster', 'FAIL', true],
      ['payments', 'ERROR', true],
    ]);
    const subjects = h.snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
    expect(subjects[1]).toBe(
      '[eks-datadog-auditor] payments: AUDIT INCOMPLETE, 1 critical (first run)',
    );
    const email = JSON.parse(
      h.snsMock.commandCalls(PublishCommand)[1]!.args[0].input.Message!,
    ).email;
    expect(email).toMatch(/^AUDIT INCOMPLETE: payments \(eu-west-1\) could not be fully audited/);
    expect(email.replace(/\s+/g, ' ')).toContain('eks:DescribeCluster AccessDenied');
    // Listed once in the AUDIT INCOMPLETE section, not once bare and once inside the finding.
    expect(email.split('NEW FINDINGS')[0]!.replace(/\s+/g, ' ').split('AccessDenied').length).toBe(
      2,
    );
    expect(
      h.logger.records.filter((r) => r.message === 'cluster audit failed')[0]?.keys.runId,
    ).toBe(RUN1);
  });
});

describe('handler: logs', () => {
  it('carries the run and request ids on every line and the cluster on per-cluster lines, and never a finding text', async () => {
    const canary = 'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c';
    const h = harness({
      findings: {
        'golang-cluster': [
          finding({ message: `leaked ${canary}`, remediation: `set token ${canary}` }),
        ],
        payments: [],
      },
    });
    await h.handler({}, { awsRequestId: 'req-1', functionName: 'auditor-prod' });
    const afterValidation = h.logger.records;
    expect(afterValidation.length).toBeGreaterThan(3);
    for (const r of afterValidation)
      expect(r.keys).toMatchObject({ runId: RUN1, requestId: 'req-1' });
    const perCluster = afterValidation.filter((r) => r.message === 'cluster reported');
    expect(perCluster.map((r) => r.keys.cluster)).toEqual(['golang-cluster', 'payments']);
    expect(JSON.stringify(h.logger.records)).not.toContain(canary);
  });
});

describe('loadConfigFromEnv', () => {
  it('parses AUDITOR_CONFIG with the shared schema', () => {
    const config = loadConfigFromEnv({
      AUDITOR_CONFIG: JSON.stringify({ clusters: [{ name: 'a' }] }),
    });
    expect(config.notify).toBe('drift');
    expect(config.clusters).toEqual([{ name: 'a' }]);
  });

  it.each([
    [{}, /AUDITOR_CONFIG is not set/],
    [{ AUDITOR_CONFIG: '{nope' }, /not valid JSON/],
    [{ AUDITOR_CONFIG: '{"clusters":[]}' }, /clusters: list at least one cluster/],
  ])('throws a ConfigError for %j', (env, message) => {
    expect(() => loadConfigFromEnv(env)).toThrow(ConfigError);
    expect(() => loadConfigFromEnv(env)).toThrow(message);
  });
});
