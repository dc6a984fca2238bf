/**
 * `report.html` beside each archived JSON report: the same dated key with `.html`, so whoever
 * opens the archive finds the page next to the evidence. Written after the JSON (the record that
 * drift depends on); a failed page is a warning for the run, never a failed archive.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ArchiveResult, ReportArchive } from './archive.js';
import { s3Uri } from './archive.js';
import { renderHtml, type HtmlOptions } from '../report/render-html.js';
import type { AuditReport, ClusterReport, Drift } from '../report/types.js';

/**
 * PASS rows listed per cluster in the archived page: the page is for people; the JSON beside it is
 * the complete record, and the Lambda's memory holds both (see HtmlOptions.maxPassRows).
 */
export const ARCHIVE_HTML_MAX_PASS_ROWS = 500;

export interface HtmlArchiveResult {
  /** `s3://bucket/key` of the page, when it was written. */
  location?: string;
  /** Why the page is missing: the run goes on, this goes into the run's warnings. */
  warning?: string;
}

/** `reports/<cluster>/<yyyy>/<mm>/<dd>/<runId>.json` -> the same key ending in `.html`. */
export function htmlKey(jsonKey: string): string {
  return jsonKey.replace(/\.json$/, '') + '.html';
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}

export async function archiveHtml(
  archive: ReportArchive,
  archived: Pick<ArchiveResult, 'key'>,
  cluster: ClusterReport,
  run: { runId: string; trigger: AuditReport['trigger'] },
  drift: Drift | undefined,
  opts: HtmlOptions = {},
): Promise<HtmlArchiveResult> {
  const key = htmlKey(archived.key);
  const report: AuditReport = {
    runId: run.runId,
    startedAt: cluster.startedAt,
    finishedAt: cluster.finishedAt,
    trigger: run.trigger,
    clusters: [cluster],
  };
  try {
    const body = Buffer.from(
      renderHtml(report, drift ? { [cluster.name]: drift } : undefined, {
        maxPassRows: ARCHIVE_HTML_MAX_PASS_ROWS,
        ...opts,
      }),
      'utf8',
    );
    await archive.s3.send(
      new PutObjectCommand({
        Bucket: archive.bucket,
        Key: key,
        Body: body,
        ContentType: 'text/html; charset=utf-8',
        // Like the dated JSON it sits beside: evidence, never overwritten.
        IfNoneMatch: '*',
      }),
    );
    return { location: s3Uri(archive.bucket, key) };
  } catch (err) {
    return {
      warning: `Could not write the HTML report of cluster ${cluster.name} to ${s3Uri(archive.bucket, key)} (${describe(err)}); the JSON report is archived at ${s3Uri(archive.bucket, archived.key)}. Check that the auditor role may s3:PutObject under reports/.`,
    };
  }
}
