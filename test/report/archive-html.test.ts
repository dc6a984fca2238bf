import { PutObjectCommand } from '@aws-sdk/client-s3';
import 'aws-sdk-client-mock-jest';
import { ReportArchive } from '../../lambda/deliver/archive.js';
import { archiveHtml, htmlKey } from '../../lambda/deliver/archive-html.js';
import { diffReports } from '../../lambda/report/diff.js';
import { findingAnchor } from '../../lambda/report/render-html.js';
import { BUCKET, harness } from '../handler/support.js';
import { accessDenied, fakeS3 } from './fake-s3.js';
import { clusterReport, fieldReportFindings, RUN_ID } from './support.js';

const JSON_KEY = `reports/golang-cluster/2026/11/24/${RUN_ID}.json`;

describe('HTML report in the archive', () => {
  it('names the page after the dated JSON report it sits beside', () => {
    expect(htmlKey(JSON_KEY)).toBe(`reports/golang-cluster/2026/11/24/${RUN_ID}.html`);
  });

  it('writes the page once, as text/html, never over an existing one', async () => {
    const bucket = fakeS3();
    const cluster = clusterReport(fieldReportFindings());
    const result = await archiveHtml(
      new ReportArchive(bucket.s3, BUCKET),
      { key: JSON_KEY },
      cluster,
      { runId: RUN_ID, trigger: 'scheduled' },
      diffReports(cluster, undefined),
    );
    expect(result).toEqual({ location: `s3://${BUCKET}/${htmlKey(JSON_KEY)}` });
    expect(bucket.mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: htmlKey(JSON_KEY),
      ContentType: 'text/html; charset=utf-8',
      IfNoneMatch: '*',
    });
    const page = bucket.objects.get(htmlKey(JSON_KEY))!.body;
    expect(page).toMatch(/^<!DOCTYPE html>/);
    for (const f of cluster.findings) expect(page).toContain(`id="${findingAnchor(f.id)}"`);
    expect(page).toContain('badge drift-new');
  });

  it('turns a failed write into a warning naming the cluster, the key and the fix', async () => {
    const bucket = fakeS3();
    bucket.mock.on(PutObjectCommand).rejects(accessDenied());
    const result = await archiveHtml(
      new ReportArchive(bucket.s3, BUCKET),
      { key: JSON_KEY },
      clusterReport(fieldReportFindings()),
      { runId: RUN_ID, trigger: 'scheduled' },
      undefined,
    );
    expect(result.location).toBeUndefined();
    expect(result.warning).toMatch(
      /Could not write the HTML report of cluster golang-cluster to s3:\/\/audit-bucket\/reports\/golang-cluster\/2026\/11\/24\/.*\.html \(AccessDenied: Access Denied\).*s3:PutObject/,
    );
  });

  it('the Lambda writes report.html beside each archived JSON, with the run drift', async () => {
    const h = harness();
    await h.handler({});
    const run = '2026-11-24T02-00-00Z-aaaaaa';
    for (const cluster of ['golang-cluster', 'payments']) {
      const key = `reports/${cluster}/2026/11/24/${run}`;
      expect(h.bucket.objects.has(`${key}.json`)).toBe(true);
      const page = h.bucket.objects.get(`${key}.html`)!.body;
      expect(page).toContain('<meta http-equiv="Content-Security-Policy"');
      expect(page).toContain(cluster);
    }
    expect(h.bucket.objects.get(`reports/golang-cluster/2026/11/24/${run}.html`)!.body).toContain(
      'No previous report: every failing finding is new.',
    );
  });

  it('a Lambda run whose page cannot be written still archives, publishes and reports a warning', async () => {
    const h = harness();
    h.bucket.hooks.beforePut = (input) => {
      if (input.Key!.endsWith('.html')) throw accessDenied();
    };
    const result = (await h.handler({})) as { warnings: string[]; clusters: { archive: string }[] };
    expect(result.clusters.map((c) => c.archive)).toEqual([
      expect.stringMatching(/golang-cluster\/.*\.json$/),
      expect.stringMatching(/payments\/.*\.json$/),
    ]);
    expect(result.warnings.filter((w) => /HTML report/.test(w))).toHaveLength(2);
  });
});
