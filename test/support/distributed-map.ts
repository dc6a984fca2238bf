/**
 * Runs a Distributed Map state locally. aws-local-stepfunctions executes inline Maps but has no
 * Distributed Map: no ItemReader, no child executions, no ResultWriter. This adapter, used by the
 * fleet's Distributed Map test and the fleet benchmark, stands in for exactly those three parts
 * and nothing else:
 *
 * - the Map state is replaced by a Task of the same name (same ResultPath and Next), bound to a
 *   local handler that does what the Map Run does:
 * - ItemReader (`arn:aws:states:::s3:getObject`, `ReaderConfig.InputType: JSON`): reads the JSON
 *   array at `Parameters.Bucket` / `Parameters.Key` (JSONPath `Key.$` resolved against the state's
 *   input) through the S3 client the handlers use;
 * - ItemSelector: `$$.Map.Item.Value` / `$$.Map.Item.Index` and `$.…` paths of the state input;
 * - one child execution per item, each a real aws-local-stepfunctions execution of the
 *   ItemProcessor's states (its Retry, Catch and Pass states run in the interpreter), at most
 *   `MaxConcurrency` at once; `ToleratedFailurePercentage` fails the Map with
 *   `States.ExceedToleratedFailureThreshold` as Step Functions does;
 * - ResultWriter (`arn:aws:states:::s3:putObject`, no WriterConfig: Transformation NONE, JSON):
 *   `<Prefix>/<map run id>/SUCCEEDED_0.json` and `FAILED_0.json` (child executions with their
 *   Input and Output as JSON strings, Status, Error and Cause) and `manifest.json`, and returns
 *   `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }` as the Map's output (AWS Step Functions
 *   developer guide, "ResultWriter (Map)").
 *
 * aws-local-stepfunctions also times a Task out after 60 s when it has no TimeoutSeconds, where
 * the States Language's default is 99999999 s (a Lambda task then ends with the function's own
 * timeout): {@link withAslTaskTimeouts} gives such Tasks the longest timeout Node's setTimeout
 * holds (24 days), for the children and the parent.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StateMachine } from 'aws-local-stepfunctions';

type Json = Record<string, unknown>;
type Handler = (input: unknown) => Promise<unknown>;

export interface DistributedMapAdapterOptions {
  s3: S3Client;
  /** Local handlers of the ItemProcessor's Task states, by state name. */
  childHandlers: Record<string, Handler>;
  retryIntervalOverrides?: Record<string, number>;
}

export interface MapRunRecord {
  items: number;
  /** Most child executions seen running at once. */
  maxInFlight: number;
  succeeded: number;
  failed: number;
  manifestKey: string;
}

/**
 * No Task timeout where the definition sets none (ASL's default is 99999999 s; Node's timers
 * hold at most 2^31 - 1 ms, so 2,000,000 s stands in for it).
 */
export const NO_TASK_TIMEOUT_S = 2_000_000;

/** {@link NO_TASK_TIMEOUT_S} written out on every Task that has no TimeoutSeconds. */
export function withAslTaskTimeouts<T extends Json>(definition: T): T {
  const states = Object.fromEntries(
    Object.entries(definition.States as Record<string, Json>).map(([name, state]) => {
      let s = state;
      if (s.Type === 'Task' && s.TimeoutSeconds === undefined && !s.TimeoutSecondsPath) {
        s = { ...s, TimeoutSeconds: NO_TASK_TIMEOUT_S };
      }
      if (s.ItemProcessor)
        s = { ...s, ItemProcessor: withAslTaskTimeouts(s.ItemProcessor as Json) };
      return [name, s];
    }),
  );
  return { ...definition, States: states };
}

/** `$.a.b` of `value` (only the plain dotted paths the synthesized definitions use). */
function at(value: unknown, path: string): unknown {
  if (path === '$') return value;
  if (!path.startsWith('$.')) throw new Error(`adapter: unsupported JSONPath ${path}`);
  let v: unknown = value;
  for (const part of path.slice(2).split('.')) v = (v as Json | undefined)?.[part];
  return v;
}

function select(selector: Json | undefined, input: unknown, item: unknown, index: number): unknown {
  if (!selector) return item;
  const out: Json = {};
  for (const [k, v] of Object.entries(selector)) {
    if (!k.endsWith('.$')) {
      out[k] = v;
      continue;
    }
    const path = String(v);
    const name = k.slice(0, -2);
    if (path === '$$.Map.Item.Value') out[name] = item;
    else if (path.startsWith('$$.Map.Item.Value.')) out[name] = at(item, `$${path.slice(17)}`);
    else if (path === '$$.Map.Item.Index') out[name] = index;
    else out[name] = at(input, path);
  }
  return out;
}

/**
 * The definition with the Distributed Map state `name` replaced by a local Task, and the handler
 * to bind to that name; `runs` records each Map Run.
 */
export function distributedMapAdapter(
  definition: Json,
  name: string,
  opts: DistributedMapAdapterOptions,
): { definition: Json; handler: Handler; runs: MapRunRecord[] } {
  const states = definition.States as Record<string, Json>;
  const map = states[name];
  const processor = map?.ItemProcessor as Json | undefined;
  if ((processor?.ProcessorConfig as Json | undefined)?.Mode !== 'DISTRIBUTED') {
    throw new Error(`adapter: state "${name}" is not a Distributed Map`);
  }
  const reader = map!.ItemReader as Json;
  const writer = map!.ResultWriter as Json | undefined;
  if (reader.Resource !== 'arn:aws:states:::s3:getObject') {
    throw new Error(`adapter: ItemReader ${String(reader.Resource)} is not supported`);
  }
  if ((reader.ReaderConfig as Json | undefined)?.InputType !== 'JSON') {
    throw new Error('adapter: only a JSON item list is supported');
  }
  if (writer && (writer.Resource !== 'arn:aws:states:::s3:putObject' || writer.WriterConfig)) {
    throw new Error('adapter: only ResultWriter s3:putObject without WriterConfig is supported');
  }
  const child = withAslTaskTimeouts({
    StartAt: processor!.StartAt,
    States: processor!.States as Json,
  });
  const runs: MapRunRecord[] = [];

  const handler: Handler = async (input) => {
    const params = reader.Parameters as Json;
    const bucket = (params.Bucket ?? at(input, String(params['Bucket.$']))) as string;
    const key = (params.Key ?? at(input, String(params['Key.$']))) as string;
    const res = await opts.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const items = JSON.parse((await res.Body!.transformToString('utf8')) || '[]') as unknown[];
    if (!Array.isArray(items)) throw new Error('States.ItemReaderFailed: the list is not an array');

    const mapRunId = randomUUID();
    const mapRunArn = `arn:aws:states:eu-west-1:123456789012:mapRun:local/${name}:${mapRunId}`;
    const limit = Number(map!.MaxConcurrency ?? 0) || items.length || 1;
    const entries: { status: 'SUCCEEDED' | 'FAILED'; entry: Json }[] = [];
    let next = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const runOne = async (index: number) => {
      const itemInput = select(map!.ItemSelector as Json | undefined, input, items[index], index);
      const startDate = new Date().toISOString();
      const execName = `${mapRunId.slice(0, 8)}-${index}`;
      const base = {
        ExecutionArn: `arn:aws:states:eu-west-1:123456789012:execution:local/${name}:${execName}`,
        Input: JSON.stringify(itemInput),
        InputDetails: { Included: true },
        Name: execName,
        StartDate: startDate,
      };
      try {
        const execution = new StateMachine(child as never).run(itemInput as never, {
          overrides: {
            taskResourceLocalHandlers: opts.childHandlers as never,
            ...(opts.retryIntervalOverrides
              ? { retryIntervalOverrides: opts.retryIntervalOverrides }
              : {}),
          },
        });
        const output = await execution.result;
        entries.push({
          status: 'SUCCEEDED',
          entry: {
            ...base,
            Output: JSON.stringify(output),
            OutputDetails: { Included: true },
            Status: 'SUCCEEDED',
            StopDate: new Date().toISOString(),
          },
        });
      } catch (err) {
        const cause = ((err as Error).cause ?? err) as Error;
        entries.push({
          status: 'FAILED',
          entry: {
            ...base,
            Error: cause.name,
            Cause: cause.message,
            Status: 'FAILED',
            StopDate: new Date().toISOString(),
          },
        });
      }
    };
    const worker = async () => {
      while (next < items.length) {
        const index = next++;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await runOne(index);
        } finally {
          inFlight -= 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));

    const failed = entries.filter((e) => e.status === 'FAILED').length;
    const tolerated = Number(map!.ToleratedFailurePercentage ?? 0);
    const record: MapRunRecord = {
      items: items.length,
      maxInFlight,
      succeeded: entries.length - failed,
      failed,
      manifestKey: '',
    };
    runs.push(record);
    if (items.length > 0 && (failed / items.length) * 100 > tolerated) {
      const err = new Error(
        `The Map Run failed: ${failed} of ${items.length} child executions failed (tolerated ${tolerated}%)`,
      );
      err.name = 'States.ExceedToleratedFailureThreshold';
      throw err;
    }
    if (!writer) return entries.map((e) => JSON.parse(String(e.entry.Output ?? 'null')));

    const wp = writer.Parameters as Json;
    const prefix = `${String(wp.Prefix ?? '').replace(/\/$/, '')}/${mapRunId}`;
    const put = async (k: string, body: unknown) => {
      const text = JSON.stringify(body);
      await opts.s3.send(new PutObjectCommand({ Bucket: String(wp.Bucket), Key: k, Body: text }));
      return { Key: k, Size: Buffer.byteLength(text) };
    };
    const files: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string; Size: number }[]> = {
      SUCCEEDED: [],
      FAILED: [],
      PENDING: [],
    };
    for (const status of ['SUCCEEDED', 'FAILED'] as const) {
      const these = entries.filter((e) => e.status === status).map((e) => e.entry);
      if (these.length) files[status].push(await put(`${prefix}/${status}_0.json`, these));
    }
    const manifestKey = `${prefix}/manifest.json`;
    await put(manifestKey, {
      DestinationBucket: wp.Bucket,
      MapRunArn: mapRunArn,
      ResultFiles: files,
    });
    record.manifestKey = manifestKey;
    return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: wp.Bucket, Key: manifestKey } };
  };

  const task: Json = {
    Type: 'Task',
    Resource: `arn:aws:lambda:eu-west-1:123456789012:function:LocalDistributedMap`,
    // A Map Run has no timeout of its own.
    TimeoutSeconds: NO_TASK_TIMEOUT_S,
    ...(map!.ResultPath !== undefined ? { ResultPath: map!.ResultPath } : {}),
    ...(map!.Next ? { Next: map!.Next } : { End: true }),
  };
  return {
    definition: { ...definition, States: { ...states, [name]: task } },
    handler,
    runs,
  };
}
