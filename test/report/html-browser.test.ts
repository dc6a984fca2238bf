/**
 * The HTML report in a real browser: Debian's Chromium driven by playwright-core. The page is
 * served from a localhost server this test starts (a secure context, so the clipboard API is the
 * one people get), every request the page makes is recorded and anything but the page itself is
 * refused, and every console message of type error (CSP violations included) fails the test.
 *
 * No skip when Chromium is missing: CI installs it (.ci/run), and a silently skipped browser test
 * would let a broken page through.
 *
 * `DOCS_SCREENSHOT=1 npm test -- test/report/html-browser.test.ts` refreshes docs/report-html.png.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { diffReports } from '../../lambda/report/diff.js';
import { findingAnchor, renderHtml } from '../../lambda/report/render-html.js';
import type { AuditReport, Drift } from '../../lambda/report/types.js';
import { findCanaries } from '../reliability/canary-needles.js';
import { runDemoAudit } from '../../lambda/run/demo/demo.js';
import { mutedFinding, RESOLVED } from './formats-support.js';
import { HOSTILE, finding } from './support.js';

jest.setTimeout(180_000);

// Callbacks passed to page.$$eval / waitForFunction / evaluate run in the browser; the project
// compiles without the DOM library, so the little they touch is declared here.
interface BrowserElement {
  hidden: boolean;
  offsetParent: unknown;
  id: string;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): BrowserElement | null };
declare const navigator: { clipboard: { readText(): Promise<string> } };

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: Server;
let pageUrl: string;
let html: string;
let report: AuditReport;
let drift: Record<string, Drift>;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const requests: string[] = [];
const refused: string[] = [];
const consoleErrors: string[] = [];
const dialogs: string[] = [];

/**
 * The field-report audit (its fixture secrets are all canaries) plus what the fixture cannot
 * produce yet: a MUTED finding, a hostile object name, and drift against an earlier run.
 */
async function buildReport(): Promise<void> {
  const audited = await runDemoAudit({ fixture: 'field-report' });
  const cluster = audited.clusters[0]!;
  const extra = [
    { ...mutedFinding(), cluster: cluster.name },
    finding({
      cluster: cluster.name,
      checkId: 'token-not-plaintext',
      severity: 'medium',
      resource: { kind: 'Pod', namespace: 'hostile', name: HOSTILE.html },
      messageId: 'hostile',
      message: `Pod ${HOSTILE.html} sets a literal key ${HOSTILE.bidi}`,
      remediation: `Fix ${HOSTILE.html}:\n    name: "</code></pre><script>alert(3)</script>"`,
    }),
  ];
  const current = { ...cluster, findings: [...cluster.findings, ...extra] };
  const failing = current.findings.filter((f) => f.status === 'FAIL');
  // The previous run already had the first failure and one that is fixed now.
  const previous = { ...cluster, findings: [failing[0]!, { ...RESOLVED, cluster: cluster.name }] };
  report = { ...audited, clusters: [current] };
  drift = { [cluster.name]: diffReports(current, previous) };
  html = renderHtml(report, drift);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does) or set CHROMIUM_PATH. This test does not skip.`,
    );
  }
  await buildReport();
  server = createServer((req, res) => {
    if (req.url === '/report.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/report.html`;
  userDataDir = mkdtempSync(join(tmpdir(), 'report-html-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: new URL(pageUrl).origin,
  });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    requests.push(url);
    if (url === pageUrl) await route.continue();
    else {
      refused.push(url);
      await route.abort();
    }
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(pageUrl, { waitUntil: 'load' });
});

afterAll(async () => {
  await context?.close();
  await new Promise((resolve) => server?.close(resolve));
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

const visibleRows = (p: Page) =>
  p.$$eval('.finding', (rows) =>
    rows
      .map((r) => r as unknown as BrowserElement)
      .filter((r) => !r.hidden && r.offsetParent !== null)
      .map((r) => ({
        id: r.id,
        severity: r.getAttribute('data-severity'),
        status: r.getAttribute('data-status'),
        check: r.getAttribute('data-check'),
        namespace: r.getAttribute('data-namespace'),
        drift: r.getAttribute('data-drift'),
      })),
  );

async function setFilters(values: Record<string, string>): Promise<void> {
  for (const key of ['severity', 'status', 'check', 'namespace']) {
    await page.selectOption(`#filter-${key}`, values[key] ?? '*');
  }
}

describe('HTML report in headless Chromium', () => {
  it('loads with no console error, no dialog and no request beyond the page itself', async () => {
    await page.reload({ waitUntil: 'load' });
    expect(consoleErrors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(refused).toEqual([]);
    expect(new Set(requests)).toEqual(new Set([pageUrl]));
    expect(await page.title()).toContain('eks-datadog-auditor report');
  });

  it('ran its script under the CSP (the counter is filled in) and shows every failing result by default', async () => {
    const cluster = report.clusters[0]!;
    const notPassed = cluster.findings.filter((f) => f.status !== 'PASS').length;
    const rows = await visibleRows(page);
    expect(rows.filter((r) => r.status !== 'RESOLVED')).toHaveLength(notPassed);
    expect(rows.some((r) => r.status === 'PASS')).toBe(false);
    expect(await page.textContent('#shown')).toMatch(/^\d+ of \d+ results shown$/);
  });

  it('filters by severity, status, check and namespace, and changes the visible rows', async () => {
    const findings = report.clusters[0]!.findings;
    await setFilters({ severity: 'critical' });
    let rows = await visibleRows(page);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.severity === 'critical')).toBe(true);
    expect(rows).toHaveLength(
      findings.filter((f) => f.severity === 'critical').length +
        drift[report.clusters[0]!.name]!.resolved.filter((f) => f.severity === 'critical').length,
    );

    await setFilters({ status: 'PASS' });
    rows = await visibleRows(page);
    expect(rows).toHaveLength(findings.filter((f) => f.status === 'PASS').length);

    await setFilters({ status: 'MUTED' });
    expect((await visibleRows(page)).map((r) => r.id)).toEqual([findingAnchor(mutedFinding().id)]);

    await setFilters({ check: 'rbac-agent-contract', status: 'FAIL' });
    rows = await visibleRows(page);
    expect(rows.map((r) => r.check)).toEqual(['rbac-agent-contract']);

    await setFilters({ namespace: 'golang' });
    rows = await visibleRows(page);
    expect(rows.length).toBe(findings.filter((f) => f.resource.namespace === 'golang').length);
    expect(rows.every((r) => r.namespace === 'golang')).toBe(true);

    await setFilters({ status: 'RESOLVED' });
    expect(await visibleRows(page)).toEqual([
      expect.objectContaining({ drift: 'resolved', check: 'fargate-profile-health' }),
    ]);
    await setFilters({ status: 'open' });
  });

  it('shows drift badges: the carried-over failure unchanged, the others new, the fixed one resolved', async () => {
    const d = drift[report.clusters[0]!.name]!;
    const rows = await visibleRows(page);
    const driftOf = (id: string) => rows.find((r) => r.id === findingAnchor(id))?.drift;
    expect(d.unchanged).toHaveLength(1);
    expect(driftOf(d.unchanged[0]!.id)).toBe('unchanged');
    for (const f of d.new) expect(driftOf(f.id)).toBe('new');
    expect(await page.locator('.badge.drift-resolved').count()).toBe(1);
  });

  it('has an anchor per finding id, and opening one shows that finding even if filters hid it', async () => {
    for (const f of report.clusters[0]!.findings) {
      expect(await page.locator(`[id="${findingAnchor(f.id)}"]`).count()).toBe(1);
    }
    const pass = report.clusters[0]!.findings.find((f) => f.status === 'PASS')!;
    await page.goto(`${pageUrl}#${findingAnchor(pass.id)}`);
    await page.reload({ waitUntil: 'load' });
    expect(await page.locator(`[id="${findingAnchor(pass.id)}"]`).isVisible()).toBe(true);
    await page.goto(pageUrl);
  });

  it('copies a fix to the clipboard with its copy button', async () => {
    const failing = report.clusters[0]!.findings.find(
      (f) => f.checkId === 'token-ref-resolves' && f.status === 'FAIL',
    )!;
    const row = page.locator(`[id="${findingAnchor(failing.id)}"]`);
    const button = row.locator('button.copy').first();
    const source = await button.getAttribute('data-copy');
    const expected = await page.locator(`[id="${source}"]`).textContent();
    expect(expected!.length).toBeGreaterThan(10);
    await button.click();
    await page.waitForFunction(
      (b) => document.querySelector(`button[data-copy="${b}"]`)?.getAttribute('data-copied'),
      source,
    );
    expect(await button.getAttribute('data-copied')).toBe('yes');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expected);
    expect(failing.remediation.replace(/\s+/g, ' ')).toContain(
      expected!.trim().split('\n')[0]!.trim(),
    );
  });

  it('renders hostile names as text: no script ran, the name reads back exactly', async () => {
    expect(dialogs).toEqual([]);
    const names = await page.$$eval('.finding .res', (els) => els.map((e) => e.textContent));
    expect(names).toContain(`hostile/Pod/${HOSTILE.html}`);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
  });

  it('contains no secret canary, in the source or in the rendered text', async () => {
    expect(findCanaries(html)).toEqual([]);
    expect(findCanaries(await page.content())).toEqual([]);
    expect(findCanaries(await page.innerText('body'))).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('renders the page for the README screenshot', async () => {
    await setFilters({ status: 'open' });
    const shot = await page.screenshot({ fullPage: false });
    expect(shot.length).toBeGreaterThan(10_000);
    if (process.env.DOCS_SCREENSHOT) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(new URL('../../docs/report-html.png', import.meta.url), shot);
    }
  });
});
