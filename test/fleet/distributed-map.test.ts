/**
 * The Distributed Map branch executed end to end with the real handlers: discover writes the list
 * to S3; the Map reads it as its ItemReader would, runs one child execution per cluster (audit,
 * then deliver that cluster) and writes the children's results as its ResultWriter would; the
 * finish step folds those files into the run.
 *
 * aws-local-stepfunctions has no Distributed Map (no ItemReader, child executions or
 * ResultWriter): test/support/distributed-map.ts stands in for those three parts, and only those;
 * each child execution's states (Retry, Catch, Pass, the two Lambda tasks) run in the
 * interpreter, over the synthesized definition.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StateMachine } from 'aws-local-stepfunctions';
import { MAP_RESULTS_PREFIX, STATE } from '../../infra/fleet.js';
import type { HandlerSummary } from '../../lambda/deliver/deliver.js';
import {
  runKey,
  type ClusterTask,
  type DeliverClusterTask,
  type DeliverResult,
  type FinishInput,
} from '../../lambda/run/fleet/run.js';
import { distributedMapAdapter } from '../support/distributed-map.js';
import {
  auditErrors,
  BUCKET,
  clusters,
  definitionFor,
  lambdaContext,
  world,
  type World,
} from './support.js';

const NAMES = ['golang-cluster', 'payments', 'batch', 'search', 'ledger'];
/** inlineMaxClusters below the fleet: the Choice takes the Distributed Map. */
const RAW = { clusters: clusters(NAMES), fleet: { maxConcurrency: 2, inlineMaxClusters: 2 } };

async function executeDistributed(
  w: World,
  input: unknown,
  opts: {
    /** Attempts of deliver-cluster per cluster that time out after doing their work. */
    deliverTimeouts?: Record<string, number>;
    auditFails?: string[];
  } = {},
) {
  const attempts: Record<string, number> = {};
  const deliverCluster = async (t: unknown) => {
    const task = t as DeliverClusterTask;
    const name = task.cluster.name;
    attempts[name] = (attempts[name] ?? 0) + 1;
    const result = await w.handlers.deliverCluster(task, lambdaContext(60_000));
    if (attempts[name]! <= (opts.deliverTimeouts?.[name] ?? 0)) {
      // The invocation did its work, then its response was lost (Lambda timed out).
      const err = new Error('Task timed out after 900.00 seconds');
      err.name = 'Sandbox.Timedout';
      throw err;
    }
    return result;
  };
  const auditCluster = async (t: unknown) => {
    const task = t as ClusterTask;
    if (opts.auditFails?.includes(task.cluster.name)) {
      const err = new Error('Rate Exceeded.');
      err.name = 'Lambda.TooManyRequestsException';
      throw err;
    }
    return w.handlers.auditCluster(task, lambdaContext(60_000));
  };
  const adapter = distributedMapAdapter(definitionFor(RAW), STATE.distributedMap, {
    s3: w.s3.s3,
    childHandlers: {
      [STATE.auditFromS3]: auditCluster,
      [STATE.deliverClusterFromS3]: deliverCluster,
    },
    retryIntervalOverrides: { [STATE.auditFromS3]: 0, [STATE.deliverClusterFromS3]: 0 },
  });
  let finishInput: FinishInput | undefined;
  const execution = new StateMachine(adapter.definition as never).run(input as never, {
    overrides: {
      taskResourceLocalHandlers: {
        [STATE.discover]: (event: unknown) =>
          w.handlers.discover(event, lambdaContext(60_000)) as never,
        [STATE.distributedMap]: adapter.handler as never,
        [STATE.deliver]: (i: unknown) => {
          finishInput = i as FinishInput;
          return w.handlers.finish(finishInput, lambdaContext(600_000)) as never;
        },
      },
      retryIntervalOverrides: { [STATE.discover]: 0, [STATE.deliver]: 0 },
    },
  });
  const result = (await execution.result) as unknown as DeliverResult;
  const summary = w.s3.json(result.summary.replace(`s3://${BUCKET}/`, '')) as HandlerSummary;
  return { result, summary, attempts, runs: adapter.runs, finishInput: finishInput! };
}

/** Puts of one key (the in-memory S3 keeps every call). */
function putsOf(w: World, match: (key: string) => boolean): number {
  return w.s3.mock.commandCalls(PutObjectCommand).filter((c) => match(c.args[0].input.Key!)).length;
}

describe('fleet state machine: the Distributed Map branch, executed', () => {
  it('reads the list from S3, runs a child execution per cluster and finishes from the ResultWriter files', async () => {
    const w = world(RAW);
    const { result, summary, runs, finishInput } = await executeDistributed(w, {
      notify: 'always',
    });
    // One Map Run over the list discover wrote, never more than MaxConcurrency children at once.
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ items: 5, succeeded: 5, failed: 0 });
    expect(runs[0]!.maxInFlight).toBeLessThanOrEqual(2);
    const listed = w.s3.json(runKey(result.runId, 'clusters.json')) as { name: string }[];
    expect(listed.map((c) => c.name)).toEqual(NAMES);
    // The finish step got a pointer, not the results: its input stays small.
    expect(finishInput.results).toBeUndefined();
    expect(finishInput.resultWriter!.ResultWriterDetails).toEqual({
      Bucket: BUCKET,
      Key: expect.stringMatching(new RegExp(`^${MAP_RESULTS_PREFIX}/[^/]+/manifest\\.json$`)),
    });
    expect(Buffer.byteLength(JSON.stringify(finishInput))).toBeLessThan(4096);
    const manifest = w.s3.json(finishInput.resultWriter!.ResultWriterDetails.Key) as {
      ResultFiles: { SUCCEEDED: { Key: string }[] };
    };
    const children = w.s3.json(manifest.ResultFiles.SUCCEEDED[0]!.Key) as { Output: string }[];
    expect(children).toHaveLength(5);
    for (const child of children) {
      // Each child's result is one cluster's small summary, not its report.
      expect(Buffer.byteLength(child.Output)).toBeLessThan(2048);
    }

    expect(result).toMatchObject({ ok: true, clusters: 5, published: 5 });
    expect(summary.clusters.map((c) => c.name).sort()).toEqual([...NAMES].sort());
    for (const name of NAMES) {
      expect(auditErrors(w, name)).toEqual([]);
      expect(w.s3.objects.has(`reports/${name}/latest.json`)).toBe(true);
    }
    expect(w.published()).toBe(5);
    // Every cluster's delivery recorded its metrics, each once.
    expect(w.metrics.clusters.map((c) => c.name).sort()).toEqual([...NAMES].sort());
  }, 60_000);

  it('a retried delivery (its response lost after the work) neither publishes nor archives twice', async () => {
    const w = world(RAW);
    const { result, attempts } = await executeDistributed(
      w,
      { notify: 'always' },
      { deliverTimeouts: { payments: 1 } },
    );
    expect(attempts.payments).toBe(2);
    expect(result).toMatchObject({ ok: true, clusters: 5, published: 5 });
    expect(w.published()).toBe(5);
    expect(putsOf(w, (k) => /^reports\/payments\/\d{4}\/.*\.json$/.test(k))).toBe(1);
    expect(putsOf(w, (k) => k === 'reports/payments/latest.json')).toBe(1);
    expect(w.metrics.clusters.filter((c) => c.name === 'payments')).toHaveLength(1);
  }, 60_000);

  it('a cluster whose audit fails is still delivered in its own iteration, as an ERROR finding', async () => {
    const w = world(RAW);
    const { summary } = await executeDistributed(w, {}, { auditFails: ['ledger'] });
    expect(summary.clusters.find((c) => c.name === 'ledger')).toMatchObject({ status: 'ERROR' });
    expect(auditErrors(w, 'ledger')).toEqual([
      expect.stringMatching(/its audit failed \(Lambda\.TooManyRequestsException/),
    ]);
    // The run could not audit every cluster: no AuditsSucceeded.
    expect(w.metrics.succeeded).toBe(0);
  }, 60_000);
});
