import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { CHECKS } from '../../lambda/checks/index.js';
import { SEVERITIES, type Severity } from '../../lambda/config/findings.js';
import { checkHelpUri, TOOL_VERSION } from '../../lambda/report/links.js';
import { renderSarif, sarifLevel, toSarif } from '../../lambda/report/render-sarif.js';
import { runDemoAudit } from '../../lambda/run/demo/demo.js';
import { everyKindReport, mutedFinding } from './formats-support.js';
import { auditReport, clusterReport, CLUSTER, hostileFindings } from './support.js';

// ajv-formats is CommonJS with a default export; under native ESM it arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** The OASIS SARIF 2.1.0 schema (see test/data/README.md for its source). */
const schema = JSON.parse(
  readFileSync(new URL('../data/sarif-schema-2.1.0.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

function validator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}
const validate = validator();

function schemaErrors(log: unknown): string[] {
  return validate(log)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

interface Result {
  ruleId: string;
  ruleIndex: number;
  kind: string;
  level: string;
  message: { text: string };
  partialFingerprints: Record<string, string>;
  baselineState?: string;
  suppressions?: {
    kind: string;
    state: string;
    justification: string;
    properties: Record<string, unknown>;
  }[];
  locations: { logicalLocations: { name: string; kind: string; fullyQualifiedName: string }[] }[];
  properties: { findingId: string; status: string };
}
interface Run {
  tool: { driver: { name: string; version: string; informationUri: string; rules: Rule[] } };
  invocations: { executionSuccessful: boolean; toolExecutionNotifications?: unknown[] }[];
  results: Result[];
}
interface Rule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string };
  helpUri: string;
  defaultConfiguration: { level: string };
}

const runs = (text: string) => (JSON.parse(text) as { runs: Run[] }).runs;

describe('SARIF 2.1.0 report', () => {
  it('the schema validator rejects a log that breaks the schema (so a pass below means something)', () => {
    const { report } = everyKindReport();
    const log = JSON.parse(renderSarif(report)) as { runs: { results: { level: string }[] }[] };
    log.runs[0]!.results[0]!.level = 'critical';
    expect(schemaErrors(log).join('\n')).toMatch(/level/);
    expect(schemaErrors({ version: '2.1.0' }).length).toBeGreaterThan(0);
  });

  it('validates against the official schema with every status, drift state and hostile names', () => {
    const { report, drift } = everyKindReport();
    const hostile = auditReport([clusterReport(hostileFindings(), { name: 'hostile' })]);
    expect(schemaErrors(JSON.parse(renderSarif(report, drift)))).toEqual([]);
    expect(schemaErrors(JSON.parse(renderSarif(report)))).toEqual([]);
    expect(schemaErrors(JSON.parse(renderSarif(hostile)))).toEqual([]);
  });

  it.each(['field-report', 'healthy', 'token-stale', 'mixed-ec2-fargate'])(
    'validates against the official schema for the audit of fixture %s',
    async (fixture) => {
      const report = await runDemoAudit({ fixture });
      const text = renderSarif(report);
      expect(schemaErrors(JSON.parse(text))).toEqual([]);
      const results = runs(text)[0]!.results;
      expect(results).toHaveLength(report.clusters[0]!.findings.length);
    },
  );

  it.each<[Severity, string]>([
    ['critical', 'error'],
    ['high', 'error'],
    ['medium', 'warning'],
    ['low', 'note'],
    ['info', 'note'],
  ])('maps severity %s to level %s', (severity, level) => {
    expect(sarifLevel(severity)).toBe(level);
  });

  it('writes one rule per registered check with its title, risk, fix, README link and default level', () => {
    const rules = runs(renderSarif(everyKindReport().report))[0]!.tool.driver.rules;
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const check of CHECKS) {
      const rule = rules.find((r) => r.id === check.id)!;
      expect(rule).toMatchObject({
        shortDescription: { text: check.title },
        fullDescription: { text: check.risk },
        helpUri: checkHelpUri(check.id),
        defaultConfiguration: { level: sarifLevel(check.severity) },
      });
      expect(rule.name).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(rule.help.text).toContain(check.remediation);
      // The link lands on the check's row of the README table.
      expect(readme).toContain(`<a id="${rule.helpUri.split('#')[1]}"></a>\`${check.id}\``);
    }
    // Check ids outside the registry (collection failures) get a rule too, so every ruleIndex resolves.
    expect(rules.map((r) => r.id)).toContain('audit-collection');
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it('gives every result a level from its severity only when it failed, and a resolvable rule index', () => {
    const { report, drift } = everyKindReport();
    const [run] = runs(renderSarif(report, drift));
    const rules = run!.tool.driver.rules;
    const byStatus = (status: string) => run!.results.filter((r) => r.properties.status === status);
    for (const r of run!.results) expect(rules[r.ruleIndex]!.id).toBe(r.ruleId);
    // SARIF 3.27.9: a level other than "none" requires kind "fail".
    for (const r of run!.results) if (r.level !== 'none') expect(r.kind).toBe('fail');
    expect(byStatus('FAIL').map((r) => [r.kind, r.level])).toEqual([
      ['fail', 'error'],
      ['fail', 'error'],
    ]);
    expect(byStatus('PASS').every((r) => r.kind === 'pass' && r.level === 'none')).toBe(true);
    expect(byStatus('ERROR').every((r) => r.kind === 'open' && r.level === 'none')).toBe(true);
    for (const s of SEVERITIES) expect(['error', 'warning', 'note']).toContain(sarifLevel(s));
  });

  it('marks an incomplete audit as an unsuccessful invocation with an error notification per gap', () => {
    const { report } = everyKindReport();
    const [run] = runs(renderSarif(report));
    expect(run!.invocations[0]!.executionSuccessful).toBe(false);
    // One collection failure, two ERROR findings (not evaluated, audit-collection).
    expect(run!.invocations[0]!.toolExecutionNotifications).toHaveLength(3);
    const healthy = auditReport([clusterReport([])]);
    expect(runs(renderSarif(healthy))[0]!.invocations[0]!.executionSuccessful).toBe(true);
  });

  it('reports a MUTED finding as a failed result with an external, accepted suppression and its reason', () => {
    const { report } = everyKindReport();
    const muted = mutedFinding();
    const result = runs(renderSarif(report))[0]!.results.find(
      (r) => r.properties.findingId === muted.id,
    )!;
    expect(result).toMatchObject({
      kind: 'fail',
      level: 'error',
      suppressions: [
        {
          kind: 'external',
          state: 'accepted',
          justification: 'Legacy app retired in Q1 <2027>',
          properties: { expires: '2027-03-31', owner: 'platform-team', source: 'config' },
        },
      ],
    });
    const others = runs(renderSarif(report))[0]!.results.filter(
      (r) => r.properties.findingId !== muted.id,
    );
    expect(others.every((r) => r.suppressions === undefined)).toBe(true);
  });

  it('locates each result logically (cluster, namespace, object) and fingerprints it by finding id', () => {
    const { report } = everyKindReport();
    const [run] = runs(renderSarif(report));
    const finding = report.clusters[0]!.findings[0]!;
    const result = run!.results.find((r) => r.partialFingerprints['findingId/v1'] === finding.id)!;
    expect(result.locations[0]!.logicalLocations).toEqual([
      expect.objectContaining({ name: CLUSTER, fullyQualifiedName: CLUSTER, kind: 'module' }),
      expect.objectContaining({ name: 'golang', fullyQualifiedName: `${CLUSTER}/golang` }),
      expect.objectContaining({
        name: 'golang-app',
        kind: 'resource',
        fullyQualifiedName: `${CLUSTER}/golang/Pod/golang-app`,
      }),
    ]);
    const clusterScoped = run!.results.find((r) =>
      r.locations[0]!.logicalLocations.some((l) =>
        l.fullyQualifiedName.endsWith('ClusterRole/datadog-agent'),
      ),
    )!;
    expect(clusterScoped.locations[0]!.logicalLocations.map((l) => l.fullyQualifiedName)).toEqual([
      CLUSTER,
      `${CLUSTER}/ClusterRole/datadog-agent`,
    ]);
    const ids = run!.results.map((r) => r.partialFingerprints['findingId/v1']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sets baselineState from drift: new and unchanged failures, nothing on a first run', () => {
    const { report, drift } = everyKindReport();
    const [run] = runs(renderSarif(report, drift));
    const d = drift[CLUSTER]!;
    const state = (id: string) =>
      run!.results.find((r) => r.properties.findingId === id)!.baselineState;
    for (const f of d.new) expect(state(f.id)).toBe('new');
    for (const f of d.unchanged) expect(state(f.id)).toBe('unchanged');
    expect(d.new.length).toBeGreaterThan(0);
    expect(d.unchanged.length).toBeGreaterThan(0);
    expect(runs(renderSarif(report))[0]!.results.every((r) => !r.baselineState)).toBe(true);
  });

  it('names the tool with its version (equal to package.json) and an absolute information URI', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(TOOL_VERSION).toBe(pkg.version);
    const driver = runs(renderSarif(everyKindReport().report))[0]!.tool.driver;
    expect(driver).toMatchObject({ name: 'eks-datadog-auditor', version: pkg.version });
    expect(driver.informationUri).toMatch(/^https:\/\//);
    const custom = toSarif(everyKindReport().report, undefined, {
      docsUrl: 'https://git.example.com/platform/auditor/README.md',
    });
    expect(JSON.stringify(custom)).toContain(
      'https://git.example.com/platform/auditor/README.md#check-token-source',
    );
  });

  it('escapes invisible and control characters from hostile names while keeping the data', () => {
    const hostile = auditReport([clusterReport(hostileFindings(), { name: 'hostile' })]);
    const text = renderSarif(hostile);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    const names = runs(text)[0]!.results.map((r) => r.locations[0]!.logicalLocations.at(-1)!.name);
    expect(names).toContain('admin\u202egnp.exe');
  });
});
