/**
 * The events a run starts from (scheduled envelope or on-demand console event) and the cluster
 * selection they make. Shared by the single-process handler, the fleet's discover step and the
 * CLI, so every entry point accepts the same event shape.
 */
import { z } from 'zod';
import { notifyPolicySchema, type AuditorConfig, type ClusterConfig } from '../config/config.js';
import { singleLine } from '../checks/sanitize.js';

/** The parts of the Lambda context the handler reads (no @types/aws-lambda dependency). */
export interface LambdaContextLike {
  functionName?: string;
  awsRequestId?: string;
  /** Its account owns the Security Hub findings. */
  invokedFunctionArn?: string;
  /** Lambda's time left in this invocation; absent outside Lambda (CLI, tests). */
  getRemainingTimeInMillis?(): number;
}

export const ON_DEMAND_FIELDS = ['clusters', 'notify', 'dryRun'] as const;

export const onDemandEventSchema = z
  .object({
    clusters: z
      .array(z.string({ error: 'must be a cluster name (a string)' }), {
        error: 'must be a list of cluster names, e.g. ["golang-cluster"]',
      })
      .min(1, 'list at least one cluster name, or leave "clusters" out to audit all of them')
      .optional(),
    notify: notifyPolicySchema.optional(),
    dryRun: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .strict();

export type OnDemandEvent = z.infer<typeof onDemandEventSchema>;

export type ParsedEvent =
  | { ok: true; trigger: 'scheduled'; event: OnDemandEvent }
  | { ok: true; trigger: 'on-demand'; event: OnDemandEvent }
  | { ok: false; issues: string[] };

/** EventBridge (rules and Scheduler) scheduled-event envelopes, whatever their detail. */
function isScheduledEnvelope(event: Record<string, unknown>): boolean {
  return (
    event['detail-type'] === 'Scheduled Event' ||
    event.source === 'aws.events' ||
    event.source === 'aws.scheduler'
  );
}

function issueLines(error: z.ZodError): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const path = issue.path.length
      ? issue.path
          .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`))
          .join('')
      : '(event)';
    if (issue.code === 'unrecognized_keys') {
      for (const key of (issue as { keys: string[] }).keys) {
        const at = issue.path.length ? `${path}.${key}` : key;
        lines.push(
          `${singleLine(at)}: unknown field; allowed fields are ${ON_DEMAND_FIELDS.join(', ')}`,
        );
      }
    } else if (issue.path[0] === 'notify' && issue.code === 'invalid_value') {
      lines.push(`${path}: must be one of "always", "drift", "never"`);
    } else {
      lines.push(`${singleLine(path)}: ${singleLine(issue.message)}`);
    }
  }
  return lines;
}

/**
 * `undefined`, `{}` and EventBridge scheduled envelopes are scheduled runs over all clusters (an
 * envelope carrying on-demand fields is an on-demand run with them, see parseEnvelope);
 * anything else must be an on-demand event, validated strictly (an unknown field is an error, so
 * a typo such as `dryrun` cannot silently alert everyone).
 */
export function parseEvent(event: unknown): ParsedEvent {
  if (event === undefined || event === null) return { ok: true, trigger: 'scheduled', event: {} };
  if (typeof event !== 'object' || Array.isArray(event)) {
    return {
      ok: false,
      issues: [
        `(event): must be a JSON object such as the example, not ${Array.isArray(event) ? 'an array' : typeof event}`,
      ],
    };
  }
  const record = event as Record<string, unknown>;
  if (Object.keys(record).length === 0) return { ok: true, trigger: 'scheduled', event: {} };
  if (isScheduledEnvelope(record)) return parseEnvelope(record);
  const parsed = onDemandEventSchema.safeParse(record);
  if (!parsed.success) return { ok: false, issues: issueLines(parsed.error) };
  return { ok: true, trigger: 'on-demand', event: parsed.data };
}

/**
 * A scheduled envelope that carries on-demand fields (at the top level or in `detail`, as an
 * EventBridge rule's input would) is an on-demand run with those fields, validated like any
 * on-demand event; never a full publishing run that drops them (a `dryRun: true` ignored would
 * alert everyone). Fields in both places are refused as ambiguous.
 */
function parseEnvelope(record: Record<string, unknown>): ParsedEvent {
  const pick = (o: unknown): Record<string, unknown> => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return {};
    const src = o as Record<string, unknown>;
    return Object.fromEntries(
      ON_DEMAND_FIELDS.filter((k) => k in src).map((k) => [k, src[k]] as const),
    );
  };
  const top = pick(record);
  const detail = pick(record.detail);
  const topKeys = Object.keys(top);
  const detailKeys = Object.keys(detail);
  if (topKeys.length === 0 && detailKeys.length === 0) {
    return { ok: true, trigger: 'scheduled', event: {} };
  }
  if (topKeys.length > 0 && detailKeys.length > 0) {
    return {
      ok: false,
      issues: [
        `(event): a scheduled envelope with on-demand fields both at the top level (${topKeys.join(', ')}) and in detail (${detailKeys.join(', ')}) is ambiguous; put them in one place, or send a plain on-demand event such as the example`,
      ],
    };
  }
  const parsed = onDemandEventSchema.safeParse(topKeys.length > 0 ? top : detail);
  if (!parsed.success) {
    return {
      ok: false,
      issues: issueLines(parsed.error).map(
        (line) => `${line} (in a scheduled envelope, on-demand fields make it an on-demand run)`,
      ),
    };
  }
  return { ok: true, trigger: 'on-demand', event: parsed.data };
}

export function exampleEvent(config?: AuditorConfig): Required<OnDemandEvent> {
  return {
    clusters: [config?.clusters[0]?.name ?? 'my-cluster'],
    notify: 'always',
    dryRun: true,
  };
}

/** An event the handler refuses: what was wrong and an event that would work. */
export interface HandlerError {
  ok: false;
  error: string;
  issues: string[];
  example: Required<OnDemandEvent>;
}

/** The clusters an on-demand event names (all of them without `clusters`); unknown names are issues. */
export function selectClusters(
  config: AuditorConfig,
  names: string[] | undefined,
): { ok: true; clusters: ClusterConfig[] } | { ok: false; issues: string[] } {
  if (!names) return { ok: true, clusters: config.clusters };
  const configured = config.clusters.map((c) => c.name);
  const issues = names.flatMap((name, i) =>
    configured.includes(name)
      ? []
      : [
          `clusters[${i}]: "${singleLine(name)}" is not configured; configured clusters: ${configured.join(', ')}`,
        ],
  );
  if (issues.length) return { ok: false, issues };
  const wanted = new Set(names);
  return { ok: true, clusters: config.clusters.filter((c) => wanted.has(c.name)) };
}
