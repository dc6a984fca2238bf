/**
 * The previous run's copy record of one cluster, read back from its archived latest.json for the
 * next audit (see lambda/snapshot/copies/record.ts). Only the record is kept: the rest of the
 * report is dropped before collection starts. A record of another cluster (two clusters of one
 * name in different regions may share a key when the configuration does not list both) or an
 * unreadable report gives none: the checks then use their other rules.
 */
import type { CopyRecordSet } from '../snapshot/snapshot.js';
import type { LatestRead, ReportArchive } from './archive.js';
import { asCopyRecordSet } from '../snapshot/copies/record.js';

export function copyRecordOf(
  latest: LatestRead | undefined,
  cluster: { name: string; region?: string },
): CopyRecordSet | undefined {
  const report = latest?.report;
  if (!report || report.name !== cluster.name) return undefined;
  if ((report.region ?? '') !== (cluster.region ?? '')) return undefined;
  return asCopyRecordSet(report.copyRecord);
}

export async function readPreviousCopyRecord(
  archive: ReportArchive,
  segment: string,
  cluster: { name: string; region?: string },
): Promise<CopyRecordSet | undefined> {
  try {
    // Only the record is wanted: no finding is kept while the report is parsed.
    return copyRecordOf(await archive.readLatest(segment, { keepFinding: () => false }), cluster);
  } catch {
    // Drift reports the unreadable report; here it only means no record.
    return undefined;
  }
}
