/**
 * Security Hub delivery: one run's FAIL and MUTED findings imported with BatchImportFindings, and
 * the findings fixed since the previous run re-imported as ARCHIVED (Compliance PASSED).
 *
 * BatchImportFindings takes at most 100 findings and 6 MB per call and answers per finding:
 * FailedFindings lists the ones it refused. Those are retried a bounded number of times (throttling
 * and internal errors pass on a later try; a malformed finding fails every time) and then
 * reported in the outcome, never thrown: the caller decides what a partial import means for the
 * run.
 */
import {
  BatchImportFindingsCommand,
  type AwsSecurityFinding,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import type { AuditorConfig } from '../config/config.js';
import { errorFields } from './observability.js';
import { asffFindings, type AsffContext } from '../report/render-asff.js';
import { singleLine } from '../checks/sanitize.js';
import type { AuditReport, Drift } from '../report/types.js';

/** BatchImportFindings accepts at most this many findings per call. */
export const SECURITY_HUB_MAX_BATCH = 100;
/** And at most 6 MB per call; kept below it for the request's framing. */
export const SECURITY_HUB_MAX_BATCH_BYTES = 5_500_000;
/** Tries per finding: the first import and two retries of the ones Security Hub refused. */
export const SECURITY_HUB_MAX_ATTEMPTS = 3;

export interface SecurityHubFailure {
  /** The ASFF Id (`<account>/<region>/<cluster>/<finding id>`). */
  id: string;
  errorCode: string;
  errorMessage: string;
}

export interface SecurityHubOutcome {
  /** Product ARN the findings went to. */
  productArn: string;
  /** ACTIVE findings (FAIL and MUTED) Security Hub accepted. */
  imported: number;
  /** Fixed findings Security Hub accepted as ARCHIVED. */
  archived: number;
  /** BatchImportFindings calls, retries included. */
  calls: number;
  /** Findings still refused after every try (empty when all went in). */
  failed: SecurityHubFailure[];
}

export interface SecurityHubDeliveryLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface SecurityHubClients {
  securityHub: SecurityHubClient;
}

export interface SecurityHubDeliveryOptions {
  /** The account and Security Hub region (the function's). */
  asff: AsffContext;
  logger?: SecurityHubDeliveryLogger;
  /** Pause before a retry round (tests pass a no-op). Default: 200 ms, then 400 ms. */
  sleep?: (ms: number) => Promise<void>;
}

/** Splits into calls of at most 100 findings and about 5.5 MB. */
export function batches(findings: readonly AwsSecurityFinding[]): AwsSecurityFinding[][] {
  const out: AwsSecurityFinding[][] = [];
  let current: AwsSecurityFinding[] = [];
  let bytes = 0;
  for (const f of findings) {
    const size = Buffer.byteLength(JSON.stringify(f), 'utf8');
    if (
      current.length > 0 &&
      (current.length >= SECURITY_HUB_MAX_BATCH || bytes + size > SECURITY_HUB_MAX_BATCH_BYTES)
    ) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(f);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Imports the run's findings (every cluster of `report`) and archives the resolved ones of
 * `drift`. Does nothing unless `config.securityHub.enabled`; returns undefined then.
 */
export async function deliverToSecurityHub(
  report: AuditReport,
  drift: Record<string, Drift>,
  config: Pick<AuditorConfig, 'securityHub'>,
  clients: SecurityHubClients,
  opts: SecurityHubDeliveryOptions,
): Promise<SecurityHubOutcome | undefined> {
  if (!config.securityHub?.enabled) return undefined;
  const findings = asffFindings(report, opts.asff, drift);
  return importFindings(clients.securityHub, findings, opts);
}

/** BatchImportFindings in batches, retrying refused findings; see the module comment. */
export async function importFindings(
  client: SecurityHubClient,
  findings: readonly AwsSecurityFinding[],
  opts: SecurityHubDeliveryOptions,
): Promise<SecurityHubOutcome> {
  const sleep = opts.sleep ?? defaultSleep;
  const productArn = findings[0]?.ProductArn ?? '';
  const outcome: SecurityHubOutcome = {
    productArn,
    imported: 0,
    archived: 0,
    calls: 0,
    failed: [],
  };
  let pending: AwsSecurityFinding[] = [...findings];
  let lastFailure = new Map<string, SecurityHubFailure>();

  for (let attempt = 1; attempt <= SECURITY_HUB_MAX_ATTEMPTS && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(200 * 2 ** (attempt - 2));
    const refused: AwsSecurityFinding[] = [];
    lastFailure = new Map();
    for (const batch of batches(pending)) {
      outcome.calls += 1;
      let failedIds: Map<string, SecurityHubFailure>;
      try {
        const res = await client.send(new BatchImportFindingsCommand({ Findings: batch }));
        failedIds = new Map(
          (res.FailedFindings ?? []).map((f) => [
            f.Id ?? '',
            {
              id: singleLine(f.Id ?? ''),
              errorCode: singleLine(f.ErrorCode ?? 'Unknown'),
              errorMessage: singleLine(f.ErrorMessage ?? ''),
            },
          ]),
        );
      } catch (err) {
        // The SDK already retried what it could (throttling, 5xx): the whole batch is refused.
        const e = errorFields(err);
        failedIds = new Map(
          batch.map((f) => [
            f.Id!,
            {
              id: f.Id!,
              errorCode: singleLine(e.errorName ?? 'Error'),
              errorMessage: singleLine(e.errorMessage ?? ''),
            },
          ]),
        );
      }
      for (const f of batch) {
        const failure = failedIds.get(f.Id!);
        if (failure) {
          refused.push(f);
          lastFailure.set(f.Id!, failure);
        } else if (f.RecordState === 'ARCHIVED') {
          outcome.archived += 1;
        } else {
          outcome.imported += 1;
        }
      }
    }
    pending = refused;
  }
  outcome.failed = pending.map(
    (f) =>
      lastFailure.get(f.Id!) ?? {
        id: f.Id!,
        errorCode: 'Unknown',
        errorMessage: 'refused by Security Hub',
      },
  );
  const log = {
    productArn,
    imported: outcome.imported,
    archived: outcome.archived,
    calls: outcome.calls,
    failed: outcome.failed.length,
  };
  if (outcome.failed.length > 0) {
    opts.logger?.error('Security Hub refused findings after retries', {
      ...log,
      failures: outcome.failed.slice(0, 20),
    });
  } else {
    opts.logger?.info('findings imported into Security Hub', log);
  }
  return outcome;
}

/** One line for the run summary's warnings when some findings did not reach Security Hub. */
export function describeSecurityHubFailure(outcome: SecurityHubOutcome): string | undefined {
  if (outcome.failed.length === 0) return undefined;
  const codes = [...new Set(outcome.failed.map((f) => f.errorCode))].join(', ');
  return `Security Hub refused ${outcome.failed.length} finding(s) after ${SECURITY_HUB_MAX_ATTEMPTS} tries (${codes}), first ${outcome.failed[0]!.id}: check that Security Hub is enabled in ${outcome.productArn.split(':')[3] ?? 'this region'} and the function may call securityhub:BatchImportFindings on ${outcome.productArn}.`;
}

/** The account of a Lambda function ARN (`arn:aws:lambda:<region>:<account>:function:<name>`). */
export function accountOfArn(arn: string | undefined): string | undefined {
  const account = arn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}
