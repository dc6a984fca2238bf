import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../lambda/config/config.js';
import { toArchived } from '../../lambda/deliver/archive.js';
import {
  diffAgainstBaseline,
  loadBaseline,
  renderJson,
  renderReport,
} from '../../lambda/report/index.js';
import { auditReport, clusterReport, fieldReportFindings, finding, RUN_ID } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const [dangling, rbac] = fieldReportFindings();

describe('renderReport', () => {
  const report = auditReport([clusterReport(fieldReportFindings())]);

  it.each([
    ['table', /^eks-datadog-auditor run /],
    ['json', /^\{\n {2}"runId"/],
    ['markdown', /^# eks-datadog-auditor report\n/],
  ] as const)('renders %s', (format, start) => {
    expect(renderReport(report, format)).toMatch(start);
  });

  it('passes drift and showPass through', () => {
    const drift = diffAgainstBaseline(report, auditReport([clusterReport([rbac!])]));
    expect(renderReport(report, 'table', { drift })).toContain('+ critical FAIL');
    expect(renderReport(report, 'markdown', { drift, showPass: true })).toContain(
      '<summary>Passed</summary>',
    );
    expect(JSON.parse(renderReport(report, 'json', { drift })).clusters[0].drift.new).toEqual([
      dangling!.id,
    ]);
  });
});

describe('loadBaseline', () => {
  it('reads a previous --format json report and diffs the current run against it', () => {
    const previous = auditReport([
      clusterReport([rbac!, finding({ checkId: 'gone', messageId: 'gone' })]),
    ]);
    const baseline = loadBaseline(file('prev.json', renderJson(previous)));
    expect(baseline.runId).toBe(RUN_ID);
    expect(baseline.clusters[0]!.findings[0]!.cluster).toBe('golang-cluster');

    const drift = diffAgainstBaseline(
      auditReport([clusterReport(fieldReportFindings())]),
      baseline,
    );
    expect(drift['golang-cluster']!.new.map((f) => f.id)).toEqual([dangling!.id]);
    expect(drift['golang-cluster']!.unchanged.map((f) => f.id)).toEqual([rbac!.id]);
    expect(drift['golang-cluster']!.resolved.map((f) => f.checkId)).toEqual(['gone']);
  });

  it('reads an archived cluster report from S3', () => {
    const archived = toArchived(
      clusterReport([rbac!]),
      { runId: 'r-1', trigger: 'scheduled' },
      undefined,
    );
    const baseline = loadBaseline(file('latest.json', JSON.stringify(archived)));
    expect(baseline.runId).toBe('r-1');
    expect(baseline.clusters.map((c) => c.name)).toEqual(['golang-cluster']);
  });

  it('treats a cluster missing from the baseline as a first run', () => {
    const drift = diffAgainstBaseline(
      auditReport([clusterReport(fieldReportFindings(), { name: 'other' })]),
      auditReport([clusterReport([rbac!])]),
    );
    expect(drift.other!.firstRun).toBe(true);
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.json'), /Cannot read baseline/],
    ['a file that is not JSON', () => file('bad.json', '{'), /is not valid JSON/],
    [
      'JSON that is not a report',
      () => file('other.json', '{"a":1}'),
      /is not an eks-datadog-auditor JSON report/,
    ],
  ])('rejects %s with a ConfigError naming the file', (_name, path, message) => {
    const p = path();
    expect(() => loadBaseline(p)).toThrow(ConfigError);
    expect(() => loadBaseline(p)).toThrow(message);
    expect(() => loadBaseline(p)).toThrow(p);
  });
});
