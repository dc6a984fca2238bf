/**
 * SNS alerts: one Publish per cluster when the notify policy says so. `MessageStructure: 'json'`
 * gives email subscribers the plain-text report and machine subscribers (SQS, Lambda, HTTP/S) a
 * JSON document; `default` (a short text) serves every other protocol. The whole request stays
 * under the 256 KiB SNS limit by listing fewer findings (whole findings only, never a split one)
 * and pointing at the archived report for the rest.
 */
import { PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import { atLeast, type Severity } from '../config/findings.js';
import type { CollectionFailure } from '../snapshot/snapshot.js';
import {
  cutSections,
  emailSections,
  renderEmail,
  renderSubject,
  sectionsSize,
  verdict,
  type EmailContext,
  type EmailSections,
} from '../report/email.js';
import { jsonFinding, safeJsonStringify, type JsonFinding } from '../report/render-json.js';
import { singleLine } from '../checks/sanitize.js';
import { failingCounts, isFailing, maxFailingSeverity, passedCount } from '../report/summary.js';
import type { AuditReport, ClusterReport, Drift } from '../report/types.js';

/** SNS counts message body and attributes against 256 KiB (262,144 bytes). */
export const SNS_MAX_BYTES = 262_144;
/** Room for what we do not measure exactly (request framing, attribute encoding). */
const SAFETY_BYTES = 1_024;
const MAX_ERROR_CHARS = 2_000;

/**
 * Protocol keys SNS reads from a `MessageStructure: 'json'` message. `default` is required and
 * used by every protocol without its own key (SMS, mobile push, email-json, Firehose).
 */
export const MACHINE_PROTOCOLS = ['sqs', 'lambda', 'http', 'https'] as const;

export type NotifyPolicy = 'always' | 'drift' | 'never';

export interface PublishDecision {
  publish: boolean;
  reason: string;
}

/**
 * `always`: every cluster, every run (the digest). `never`: nothing. `drift`: when the audit is
 * incomplete (every run until it clears), or when a finding at or above `minSeverity` is new or
 * resolved; when drift is unknown (previous report unreadable)
 * anything failing at or above `minSeverity` is published rather than silently dropped.
 */
export function decidePublish(
  policy: NotifyPolicy,
  report: ClusterReport,
  drift: Drift | undefined,
  minSeverity: Severity,
): PublishDecision {
  if (policy === 'never') return { publish: false, reason: 'notify policy is never' };
  if (policy === 'always') return { publish: true, reason: 'notify policy is always' };
  // An incomplete audit is news every run until it clears: a silent night would read as healthy.
  if (report.status === 'ERROR') {
    return { publish: true, reason: 'audit incomplete (repeated every run until it clears)' };
  }
  const relevant = (sev: Severity) => atLeast(sev, minSeverity);
  if (!drift) {
    const failing = report.findings.some((f) => isFailing(f) && relevant(f.severity));
    return failing
      ? { publish: true, reason: `drift unknown and findings at or above ${minSeverity} fail` }
      : { publish: false, reason: `drift unknown and nothing at or above ${minSeverity} fails` };
  }
  const added = drift.new.filter((f) => relevant(f.severity)).length;
  const resolved = drift.resolved.filter((f) => relevant(f.severity)).length;
  if (added || resolved) {
    return {
      publish: true,
      reason: `${added} new and ${resolved} resolved at or above ${minSeverity}`,
    };
  }
  return { publish: false, reason: `no new or resolved findings at or above ${minSeverity}` };
}

/** `new` when anything is new, else `resolved` when anything got fixed, else `none`; `unknown` without drift. */
export function driftAttribute(drift: Drift | undefined): 'new' | 'resolved' | 'none' | 'unknown' {
  if (!drift) return 'unknown';
  if (drift.new.length > 0) return 'new';
  if (drift.resolved.length > 0) return 'resolved';
  return 'none';
}

export interface MachineFinding extends JsonFinding {
  drift: 'new' | 'unchanged' | 'resolved' | 'failing';
}

/** The JSON document SQS, Lambda and HTTP/S subscribers receive. */
export interface MachineMessage {
  source: 'eks-datadog-auditor';
  schemaVersion: 1;
  runId: string;
  trigger: AuditReport['trigger'];
  startedAt: string;
  cluster: {
    name: string;
    region?: string;
    status: ClusterReport['status'];
    /** Failing findings (FAIL or ERROR) per severity: all of them, listed or not. */
    counts: Record<Severity, number>;
    passed: number;
  };
  drift: {
    firstRun: boolean;
    new: number;
    resolved: number;
    unchanged: number;
    notEvaluated: number;
  } | null;
  /** New, then still failing, then resolved; cut to fit the size limit (see `truncated`). */
  findings: MachineFinding[];
  errors: CollectionFailure[];
  archive: string | null;
  truncated?: { omittedFindings: number; note: string };
}

export interface PublishContext extends EmailContext {
  topicArn: string;
  runId: string;
  trigger: AuditReport['trigger'];
}

function machineMessage(
  report: ClusterReport,
  drift: Drift | undefined,
  ctx: PublishContext,
  shown: EmailSections,
  omitted: number,
): MachineMessage {
  const tag = (d: MachineFinding['drift']) => (f: Parameters<typeof jsonFinding>[0]) => ({
    ...jsonFinding(f),
    drift: d,
  });
  return {
    source: 'eks-datadog-auditor',
    schemaVersion: 1,
    runId: ctx.runId,
    trigger: ctx.trigger,
    startedAt: report.startedAt,
    cluster: {
      name: report.name,
      ...(report.region ? { region: report.region } : {}),
      status: report.status,
      counts: failingCounts(report.findings),
      passed: passedCount(report),
    },
    drift: drift
      ? {
          firstRun: drift.firstRun,
          new: drift.new.length,
          resolved: drift.resolved.length,
          unchanged: drift.unchanged.length,
          notEvaluated: drift.notEvaluated?.length ?? 0,
        }
      : null,
    findings: [
      ...shown.new.map(tag('new')),
      ...shown.stillFailing.map(tag(drift ? 'unchanged' : 'failing')),
      ...shown.resolved.map(tag('resolved')),
    ],
    // An API server can return an arbitrarily long error body; the archive keeps it whole.
    errors: report.errors.map((e) =>
      e.message.length > MAX_ERROR_CHARS
        ? { ...e, message: `${e.message.slice(0, MAX_ERROR_CHARS)}... (cut)` }
        : e,
    ),
    archive: ctx.archiveLocation ?? null,
    ...(omitted > 0
      ? {
          truncated: {
            omittedFindings: omitted,
            note: `${omitted} more findings, see ${ctx.archiveLocation ?? 'the archived report'}`,
          },
        }
      : {}),
  };
}

function attributes(report: ClusterReport, drift: Drift | undefined, trigger: string) {
  const str = (value: string) => ({ DataType: 'String', StringValue: value });
  return {
    cluster: str(report.name),
    maxSeverity: str(maxFailingSeverity(report.findings) ?? 'none'),
    drift: str(driftAttribute(drift)),
    trigger: str(trigger === 'scheduled' ? 'scheduled' : 'on-demand'),
  };
}

function utf8(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export class PublishError extends Error {
  override name = 'PublishError';
}

/**
 * The largest k in [0, total) whose rendering fits `budget` bytes (-1 when none does), for a size
 * that grows with k and is `totalBytes` at `total`. Each render of a large report is a few large
 * strings that only a full collection frees, so the search starts where the sizes of none and all
 * put it, gallops from there to a fit and a miss, then bisects between them: about half the
 * renders of a gallop from zero.
 */
export function largestFitting(
  total: number,
  totalBytes: number,
  size: (k: number) => number,
  budget: number,
): number {
  const noneBytes = size(0);
  if (noneBytes > budget) return -1;
  if (total <= 1) return 0;
  const fits = (k: number) => size(k) <= budget;
  let best = 0;
  let miss = total;
  const perUnit = Math.max(1e-9, (totalBytes - noneBytes) / total);
  const guess = Math.min(total - 1, Math.max(1, Math.floor((budget - noneBytes) / perUnit)));
  let step = Math.max(1, Math.ceil(total / 64));
  if (fits(guess)) {
    best = guess;
    for (let k = guess + step; k < total; k = best + step) {
      if (!fits(k)) {
        miss = k;
        break;
      }
      best = k;
      step *= 2;
    }
  } else {
    miss = guess;
    for (let k = guess - step; k > 0; k = miss - step) {
      if (fits(k)) {
        best = k;
        break;
      }
      miss = k;
      step *= 2;
    }
  }
  let lo = best + 1;
  let hi = miss - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * The exact PublishCommand input for one cluster, cut to fit {@link SNS_MAX_BYTES} (message plus
 * attributes plus subject, measured in UTF-8 bytes).
 */
export function buildPublishInput(
  report: ClusterReport,
  drift: Drift | undefined,
  ctx: PublishContext,
  maxBytes = SNS_MAX_BYTES,
): PublishCommandInput {
  const Subject = renderSubject(report, drift);
  const MessageAttributes = attributes(report, drift, ctx.trigger);
  const overhead =
    utf8(Subject) +
    Object.entries(MessageAttributes).reduce(
      (n, [k, v]) => n + utf8(k) + utf8(v.DataType) + utf8(v.StringValue),
      0,
    );
  const budget = maxBytes - overhead - SAFETY_BYTES;
  const all = emailSections(report, drift);
  const total = sectionsSize(all);
  const short = [
    singleLine(Subject),
    verdict(report, drift),
    ctx.archiveLocation ? `Report: ${singleLine(ctx.archiveLocation)}` : '',
  ]
    .filter(Boolean)
    .join('\n');

  const build = (k: number): string => {
    const shown = k >= total ? all : cutSections(all, k);
    const omitted = total - sectionsSize(shown);
    const machine = safeJsonStringify(machineMessage(report, drift, ctx, shown, omitted));
    const message: Record<string, string> = {
      default: short,
      email: renderEmail(report, drift, { ...ctx, maxFindings: k }),
    };
    for (const p of MACHINE_PROTOCOLS) message[p] = machine;
    return safeJsonStringify(message);
  };

  let Message = build(total);
  const totalBytes = utf8(Message);
  if (totalBytes > budget) {
    const best = largestFitting(total, totalBytes, (k) => utf8(build(k)), budget);
    if (best < 0) {
      throw new PublishError(
        `The alert for cluster ${report.name} does not fit in ${maxBytes} bytes even without findings (${report.errors.length} collection errors); see ${ctx.archiveLocation ?? 'the logs'}.`,
      );
    }
    Message = build(best);
  }
  return {
    TopicArn: ctx.topicArn,
    Subject,
    Message,
    MessageStructure: 'json',
    MessageAttributes,
  };
}

/** Publishes one cluster's alert; SDK retries apply, then the error propagates (named). */
export async function publishCluster(
  sns: SNSClient,
  report: ClusterReport,
  drift: Drift | undefined,
  ctx: PublishContext,
): Promise<{ messageId?: string; bytes: number }> {
  const input = buildPublishInput(report, drift, ctx);
  try {
    const res = await sns.send(new PublishCommand(input));
    return { ...(res.MessageId ? { messageId: res.MessageId } : {}), bytes: utf8(input.Message!) };
  } catch (err) {
    const e = err as Error;
    throw new PublishError(
      `Publishing the alert for cluster ${report.name} to ${ctx.topicArn} failed after retries (${e?.name ?? 'Error'}: ${e?.message ?? String(err)}): check the topic exists and the auditor role may sns:Publish to it (and kms:GenerateDataKey if the topic is encrypted).`,
    );
  }
}
