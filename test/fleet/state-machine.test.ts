/**
 * The synthesized state machine, validated by asl-validator and executed by aws-local-stepfunctions
 * with its Task states bound in-process to the real fleet handlers (discover, audit one cluster,
 * deliver) over an in-memory S3 (aws-sdk-client-mock), mocked SNS and fixture snapshots.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { STATE } from '../../infra/fleet.js';
import {
  BUDGET_MESSAGE_ID,
  NO_REPORT_MESSAGE_ID,
  type ClusterTask,
  type DeliverClusterTask,
  type DeliverResult,
  type FinishInput,
} from '../../lambda/run/fleet/run.js';
import type { HandlerSummary } from '../../lambda/deliver/deliver.js';
import {
  aslValidator,
  auditErrors,
  BUCKET,
  clusters,
  definitionFor,
  lambdaContext,
  world,
  type Definition,
  type World,
} from './support.js';

async function execute(
  definition: Definition,
  w: World,
  input: unknown,
  opts: {
    auditTimeMs?: Record<string, number>;
    throttle?: Record<string, number>;
  } = {},
) {
  const attempts: Record<string, number> = {};
  const auditCluster = async (task: ClusterTask) => {
    const name = task.cluster.name;
    attempts[name] = (attempts[name] ?? 0) + 1;
    if (attempts[name]! <= (opts.throttle?.[name] ?? 0)) {
      // What the Lambda integration raises when the function's concurrency is used up.
      const err = new Error('Rate Exceeded.');
      err.name = 'Lambda.TooManyRequestsException';
      throw err;
    }
    return w.handlers.auditCluster(task, lambdaContext(opts.auditTimeMs?.[name] ?? 60_000));
  };
  let finishInput: FinishInput | undefined;
  const sm = new StateMachine(definition as never);
  const execution = sm.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: {
        [STATE.discover]: (event: unknown) =>
          w.handlers.discover(event, lambdaContext(60_000)) as never,
        [STATE.audit]: auditCluster as never,
        [STATE.deliverCluster]: (t: unknown) =>
          w.handlers.deliverCluster(t as DeliverClusterTask, lambdaContext(60_000)) as never,
        [STATE.deliver]: (i: unknown) => {
          finishInput = i as FinishInput;
          return w.handlers.finish(finishInput, lambdaContext(600_000)) as never;
        },
      },
      // Backoff is Step Functions' business; the test only counts the attempts.
      retryIntervalOverrides: {
        [STATE.audit]: 0,
        [STATE.discover]: 0,
        [STATE.deliverCluster]: 0,
        [STATE.deliver]: 0,
      },
    },
  });
  const result = (await execution.result) as unknown as DeliverResult;
  const summary = w.s3.json(result.summary.replace(`s3://${BUCKET}/`, '')) as HandlerSummary;
  return { result, summary, attempts, finishInput: finishInput! };
}

describe('fleet state machine (synthesized, run locally)', () => {
  const three = clusters(['golang-cluster', 'payments', 'batch']);
  let definition: Definition;
  beforeAll(() => {
    definition = definitionFor({ clusters: three, fleet: { maxConcurrency: 2 } }, 'fleet-3');
  });

  it('is valid Amazon States Language (asl-validator)', () => {
    const { isValid, errors } = aslValidator(definition);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it('chains discover -> choice -> inline or Distributed Map (S3 item reader) -> deliver', () => {
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(definition.StartAt).toBe(STATE.discover);
    expect(states[STATE.discover]!.Next).toBe(STATE.choose);
    expect(states[STATE.inlineMap]).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.clusters',
      MaxConcurrency: 2,
      Next: STATE.deliver,
    });
    expect(states[STATE.distributedMap]).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 2,
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: BUCKET, 'Key.$': '$.items.key' },
      },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } },
      Next: STATE.deliver,
    });
    const audit = (
      (states[STATE.inlineMap]!.ItemProcessor as Definition).States as Record<string, Definition>
    )[STATE.audit]!;
    expect(audit.Retry).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ErrorEquals: ['Lambda.TooManyRequestsException'] }),
        expect.objectContaining({
          ErrorEquals: expect.arrayContaining(['Lambda.ServiceException']),
        }),
      ]),
    );
    expect(audit.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATE.failed },
    ]);
  });

  it('three clusters, one failing and one out of time: the run delivers three reports', async () => {
    const w = world({ clusters: three, fleet: { maxConcurrency: 2 } }, { slow: { batch: 3000 } });
    // The audit function cannot write its report for payments: that invocation fails.
    w.s3.hooks.beforePut = (input) => {
      if (input.Key?.includes('/payments.json')) {
        const err = new Error('Access Denied');
        err.name = 'AccessDenied';
        throw err;
      }
    };
    const { result, summary } = await execute(
      definition,
      w,
      { clusters: ['golang-cluster', 'payments', 'batch'], notify: 'always' },
      { auditTimeMs: { batch: 300 } },
    );
    expect(result).toMatchObject({ ok: true, clusters: 3, published: 3 });
    const byName = Object.fromEntries(summary.clusters.map((c) => [c.name, c]));
    // The fixture snapshot has no AWS secret read, so a healthy audit still carries ERROR (info)
    // findings: what tells the three apart is whether the audit itself ran.
    expect(auditErrors(w, 'golang-cluster')).toEqual([]);
    expect(byName.payments!.status).toBe('ERROR');
    expect(byName.batch!.status).toBe('ERROR');
    // Each delivered cluster is archived, the failed and timed-out ones with their ERROR finding.
    const archived = (name: string) =>
      w.s3.json(`reports/${name}/latest.json`) as {
        findings: { messageId: string; message: string }[];
      };
    const payments = archived('payments').findings;
    expect(payments).toEqual([
      expect.objectContaining({
        messageId: NO_REPORT_MESSAGE_ID,
        message: expect.stringMatching(/its audit failed \(AccessDenied: Access Denied\)/),
      }),
    ]);
    expect(archived('batch').findings).toEqual([
      expect.objectContaining({
        messageId: BUDGET_MESSAGE_ID,
        message: expect.stringMatching(/time budget ran out during collection and checks/),
      }),
    ]);
    expect(archived('golang-cluster').findings.length).toBeGreaterThan(1);
    expect(w.published()).toBe(3);
  });

  it('retries a throttled audit with backoff, then delivers its report', async () => {
    const w = world({ clusters: three, fleet: { maxConcurrency: 2 } });
    const { result, attempts } = await execute(
      definition,
      w,
      {},
      {
        throttle: { payments: 2 },
      },
    );
    expect(attempts.payments).toBe(3);
    expect(attempts['golang-cluster']).toBe(1);
    expect(result).toMatchObject({ ok: true, clusters: 3 });
    for (const name of ['golang-cluster', 'payments', 'batch']) {
      expect(auditErrors(w, name)).toEqual([]);
    }
  });

  it('a cluster throttled past its retries becomes an ERROR finding; the rest still deliver', async () => {
    const w = world({ clusters: three, fleet: { maxConcurrency: 2 } });
    const { summary } = await execute(definition, w, {}, { throttle: { batch: 100 } });
    expect(summary.clusters.map((c) => c.name).sort()).toEqual([
      'batch',
      'golang-cluster',
      'payments',
    ]);
    expect(auditErrors(w, 'batch')).toEqual([
      expect.stringMatching(
        /its audit failed \(Lambda\.TooManyRequestsException: Rate Exceeded\.\)/,
      ),
    ]);
    expect(auditErrors(w, 'payments')).toEqual([]);
    expect(auditErrors(w, 'golang-cluster')).toEqual([]);
  });

  it('refuses an on-demand event naming an unknown cluster: the execution fails with InvalidEvent', async () => {
    const w = world({ clusters: three });
    await expect(execute(definition, w, { clusters: ['nope'] })).rejects.toMatchObject({
      cause: { name: 'InvalidEvent', message: expect.stringMatching(/"nope" is not configured/) },
    });
  });

  it('maps over 150 clusters (the inline Map at its largest) in one execution', async () => {
    const many = clusters(Array.from({ length: 150 }, (_, i) => `cluster-${i}`));
    const raw = { clusters: many, fleet: { maxConcurrency: 40, inlineMaxClusters: 150 } };
    const big = definitionFor(raw, 'fleet-150');
    const w = world(raw);
    const { result, summary, finishInput } = await execute(big, w, {});
    expect(result).toMatchObject({ ok: true, clusters: 150 });
    // The list and the 150 results held in state: well under Step Functions' 256 KB.
    expect(finishInput.results).toHaveLength(150);
    expect(Buffer.byteLength(JSON.stringify(finishInput))).toBeLessThan(128 * 1024);
    expect(new Set(summary.clusters.map((c) => c.name)).size).toBe(150);
    expect(summary.clusters.every((c) => c.archive?.startsWith(`s3://${BUCKET}/reports/`))).toBe(
      true,
    );
  }, 120_000);

  it('refuses an inline Map too large for state, in one line naming the limit and the fix', () => {
    const raw = { clusters: three, fleet: { inlineMaxClusters: 151 } };
    expect(() => definitionFor(raw)).toThrow(
      /^fleet\.inlineMaxClusters is 151: .* set it to 150 or less \(larger fleets take the Distributed Map/,
    );
  });
});
