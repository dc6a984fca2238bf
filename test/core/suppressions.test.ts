import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKS } from '../../lambda/checks/index.js';
import { runChecks } from '../../lambda/checks/runner.js';
import { exitCodeFor, main, type CliIo } from '../../lambda/run/cli.js';
import { assertSuppressions, ConfigError, parseConfig } from '../../lambda/config/config.js';
import type { Finding } from '../../lambda/config/findings.js';
import { diffReports } from '../../lambda/report/diff.js';
import { renderEmail, renderReport } from '../../lambda/report/index.js';
import { failingCounts } from '../../lambda/report/summary.js';
import { clusterStatus, type AuditReport, type ClusterReport } from '../../lambda/report/types.js';
import { SUPPRESS_ANNOTATION, type SuppressionRule } from '../../lambda/config/suppressions.js';
import { applySuppressions, parseSuppressAnnotation } from '../../lambda/checks/suppressions.js';
import { fixtureAws } from '../support/aws-snapshot.js';
import { FIXTURES_DIR, loadManifests, snapshotFromManifests } from '../support/snapshot-builder.js';

const NOW = new Date('2026-11-24T02:00:00Z');
const CHECK_IDS = CHECKS.map((c) => c.id);

function finding(over: Partial<Finding> & Pick<Finding, 'id'>): Finding {
  return {
    checkId: 'token-ref-resolves',
    cluster: 'golang-cluster',
    severity: 'critical',
    status: 'FAIL',
    resource: { kind: 'Deployment', namespace: 'golang', name: 'golang-app' },
    messageId: 'missing-secret:x',
    message: 'broken',
    remediation: 'fix it',
    ...over,
  };
}

const dangling = finding({ id: 'a' });
const rbac = finding({
  id: 'b',
  checkId: 'rbac-agent-contract',
  severity: 'high',
  resource: { kind: 'ServiceAccount', namespace: 'golang', name: 'golang-app' },
});
const other = finding({
  id: 'c',
  resource: { kind: 'Deployment', namespace: 'payments', name: 'api' },
});
const passing = finding({ id: 'd', status: 'PASS', remediation: '' });

const rule = (over: Partial<SuppressionRule>): SuppressionRule => ({
  check: 'token-ref-resolves',
  reason: 'moving to ESO, OPS-1234',
  expires: '2027-01-31',
  ...over,
});

const statuses = (fs: Finding[]) => fs.map((f) => `${f.id}:${f.status}`);

describe('applySuppressions (config)', () => {
  it.each([
    {
      name: 'a rule naming the check mutes every matching FAIL, keeps severity and records why',
      rules: [rule({ owner: 'platform' })],
      expected: ['a:MUTED', 'b:FAIL', 'c:MUTED', 'd:PASS'],
    },
    {
      name: 'namespace and kind narrow the match',
      rules: [rule({ namespace: 'golang', kind: 'Deployment' })],
      expected: ['a:MUTED', 'b:FAIL', 'c:FAIL', 'd:PASS'],
    },
    {
      name: 'name is a glob',
      rules: [rule({ name: 'golang-*' })],
      expected: ['a:MUTED', 'b:FAIL', 'c:FAIL', 'd:PASS'],
    },
    {
      name: 'check may be a glob too',
      rules: [rule({ check: 'rbac-*', name: 'golang-?pp' })],
      expected: ['a:FAIL', 'b:MUTED', 'c:FAIL', 'd:PASS'],
    },
    {
      name: 'a rule for another cluster does nothing here',
      rules: [rule({ cluster: 'payments-*' })],
      expected: ['a:FAIL', 'b:FAIL', 'c:FAIL', 'd:PASS'],
    },
    {
      name: 'an expired rule (expiry before the run date) no longer mutes',
      rules: [rule({ expires: '2026-11-23' })],
      expected: ['a:FAIL', 'b:FAIL', 'c:FAIL', 'd:PASS', 'audit-suppressions:FAIL'],
    },
    {
      name: 'a rule expiring on the run date still mutes that day',
      rules: [rule({ expires: '2026-11-24', namespace: 'golang' })],
      expected: ['a:MUTED', 'b:FAIL', 'c:FAIL', 'd:PASS'],
    },
    {
      name: 'a rule that matched nothing is reported stale',
      rules: [rule({ name: 'nothing-*' })],
      expected: ['a:FAIL', 'b:FAIL', 'c:FAIL', 'd:PASS', 'audit-suppressions:FAIL'],
    },
  ])('$name', ({ rules, expected }) => {
    const out = applySuppressions([dangling, rbac, other, passing], {
      cluster: 'golang-cluster',
      rules,
      now: NOW,
    });
    expect(
      out.map((f) =>
        f.checkId === 'audit-suppressions' ? `${f.checkId}:${f.status}` : `${f.id}:${f.status}`,
      ),
    ).toEqual(expected);
    for (const f of out.filter((f) => f.status === 'MUTED')) {
      expect(f.severity).toBe(f.id === 'b' ? 'high' : 'critical');
      expect(f.suppression).toMatchObject({ reason: 'moving to ESO, OPS-1234', source: 'config' });
    }
  });

  it('names the expired suppression and its reason in an info finding', () => {
    const out = applySuppressions([dangling], {
      cluster: 'golang-cluster',
      rules: [rule({ expires: '2026-10-01', owner: 'platform' })],
      now: NOW,
    });
    const info = out.find((f) => f.checkId === 'audit-suppressions')!;
    expect(info).toMatchObject({
      severity: 'info',
      status: 'FAIL',
      messageId: expect.stringMatching(/^expired:/),
    });
    expect(info.message).toContain('check=token-ref-resolves');
    expect(info.message).toContain('expired on 2026-10-01');
    expect(info.message).toContain('owner platform');
    expect(info.message).toContain('moving to ESO, OPS-1234');
  });

  it('names the stale suppression in an info finding with a stable id', () => {
    const run = () =>
      applySuppressions([dangling], {
        cluster: 'golang-cluster',
        rules: [rule({ namespace: 'gone' })],
        now: NOW,
      }).find((f) => f.checkId === 'audit-suppressions')!;
    expect(run().message).toContain('check=token-ref-resolves namespace=gone');
    expect(run().message).toContain('stale');
    expect(run().id).toBe(run().id);
  });

  it('does not call a suppression stale when its check could not run', () => {
    const notRun = finding({
      id: 'e',
      status: 'ERROR',
      resource: { kind: 'Check', name: 'token-ref-resolves' },
      messageId: 'not-evaluated',
    });
    const out = applySuppressions([notRun], {
      cluster: 'golang-cluster',
      rules: [rule({})],
      now: NOW,
    });
    expect(statuses(out)).toEqual(['e:ERROR']);
  });

  it('never mutes an ERROR: the auditor could not look', () => {
    const error = finding({ id: 'e', status: 'ERROR' });
    const out = applySuppressions([error, dangling], {
      cluster: 'golang-cluster',
      rules: [rule({})],
      now: NOW,
    });
    expect(statuses(out)).toEqual(['e:ERROR', 'a:MUTED']);
  });
});

describe('suppression annotations', () => {
  it.each([
    {
      name: 'one suppression with owner',
      value: 'token-ref-resolves; reason=waiting for ESO; expires=2027-01-31; owner=team-go',
      rules: [
        {
          check: 'token-ref-resolves',
          reason: 'waiting for ESO',
          expires: '2027-01-31',
          owner: 'team-go',
        },
      ],
      problems: 0,
    },
    {
      name: 'one per line',
      value: 'a-check; reason=x; expires=2027-01-31\nb-*; reason=y; expires=2027-02-01',
      rules: [
        { check: 'a-check', reason: 'x', expires: '2027-01-31' },
        { check: 'b-*', reason: 'y', expires: '2027-02-01' },
      ],
      problems: 0,
    },
    { name: 'no reason', value: 'a-check; expires=2027-01-31', rules: [], problems: 1 },
    { name: 'no expiry', value: 'a-check; reason=x', rules: [], problems: 1 },
    { name: 'not a date', value: 'a-check; reason=x; expires=next year', rules: [], problems: 1 },
    {
      name: 'impossible date',
      value: 'a-check; reason=x; expires=2027-02-30',
      rules: [],
      problems: 1,
    },
    {
      name: 'more than a year ahead',
      value: 'a-check; reason=x; expires=2028-01-01',
      rules: [],
      problems: 1,
    },
    {
      name: 'unknown field',
      value: 'a-check; reason=x; expires=2027-01-31; until=x',
      rules: [],
      problems: 1,
    },
  ])('parses $name', ({ value, rules, problems }) => {
    const parsed = parseSuppressAnnotation(value, NOW);
    expect(parsed.rules).toEqual(rules);
    expect(parsed.problems).toHaveLength(problems);
  });

  const docs = loadManifests(`${FIXTURES_DIR}/field-report`);
  const annotate = (value: string) =>
    docs.map((d) =>
      d?.kind === 'Deployment' && d.metadata?.name === 'golang-app'
        ? {
            ...d,
            metadata: {
              ...d.metadata,
              annotations: { ...d.metadata.annotations, [SUPPRESS_ANNOTATION]: value },
            },
          }
        : d,
    );
  const audit = (manifests: unknown[]) => {
    const snapshot = snapshotFromManifests(manifests, {
      cluster: 'field-report',
      aws: fixtureAws('field-report'),
    });
    return applySuppressions(runChecks(snapshot, CHECKS), {
      cluster: 'field-report',
      rules: [],
      snapshot,
      now: NOW,
    });
  };

  it('mutes the Deployment finding of its pods when the annotation sits on the Deployment', () => {
    const out = audit(
      annotate('token-ref-resolves; reason=go-secrets is being renamed; expires=2026-12-31'),
    );
    const muted = out.filter((f) => f.status === 'MUTED');
    expect(muted.map((f) => `${f.checkId} ${f.resource.kind}/${f.resource.name}`)).toEqual([
      'token-ref-resolves Deployment/golang-app',
    ]);
    expect(muted[0]!.suppression).toEqual({
      reason: 'go-secrets is being renamed',
      expires: '2026-12-31',
      source: 'annotation',
    });
    expect(out.filter((f) => f.checkId === 'audit-suppressions')).toEqual([]);
  });

  it('reports an invalid annotation on the object and mutes nothing', () => {
    const out = audit(annotate('token-ref-resolves; reason=forever; expires=2030-01-01'));
    expect(out.filter((f) => f.status === 'MUTED')).toEqual([]);
    const bad = out.filter((f) => f.checkId === 'audit-suppressions');
    expect(bad.map((f) => [f.severity, f.messageId, f.resource.kind, f.resource.name])).toEqual([
      ['low', 'invalid-annotation', 'Deployment', 'golang-app'],
    ]);
    expect(bad[0]!.message).toContain('more than a year');
  });

  it('reports an expired and a stale annotation', () => {
    const out = audit(
      annotate(
        'token-ref-resolves; reason=old; expires=2026-01-31\nrbac-agent-contract; reason=not here; expires=2027-01-31',
      ),
    );
    expect(out.filter((f) => f.status === 'MUTED')).toEqual([]);
    expect(
      out.filter((f) => f.checkId === 'audit-suppressions').map((f) => f.messageId.split(':')[0]),
    ).toEqual(['expired', 'stale']);
  });
});

describe('bad suppressions are refused', () => {
  it.each([
    {
      name: 'no reason',
      entry: { check: 'token-ref-resolves', expires: '2027-01-31' },
      error: 'suppressions.0.reason',
    },
    {
      name: 'empty reason',
      entry: { check: 'token-ref-resolves', reason: ' ', expires: '2027-01-31' },
      error: 'say why',
    },
    {
      name: 'no expiry',
      entry: { check: 'token-ref-resolves', reason: 'x' },
      error: 'suppressions.0.expires',
    },
    {
      name: 'bad date',
      entry: { check: 'token-ref-resolves', reason: 'x', expires: '31/01/2027' },
      error: 'YYYY-MM-DD',
    },
    {
      name: 'unknown field',
      entry: { check: 'token-ref-resolves', reason: 'x', expires: '2027-01-31', until: 'x' },
      error: 'until',
    },
  ])('by the schema: $name', ({ entry, error }) => {
    expect(() =>
      parseConfig({ clusters: [{ name: 'c' }], suppressions: [entry] }, 'test.json'),
    ).toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining(error) }),
    );
  });

  it.each([
    {
      name: 'an expiry more than a year after the run date',
      entry: { expires: '2027-11-26' },
      error: 'more than a year',
    },
    {
      name: 'a check pattern that names no check',
      entry: { check: 'token-ref-reslove' },
      error: 'matches no check id',
    },
  ])('before the run: $name', ({ entry, error }) => {
    const config = parseConfig(
      { clusters: [{ name: 'c' }], suppressions: [{ ...rule({}), ...entry }] },
      'test.json',
    );
    expect(() =>
      assertSuppressions(config, { now: NOW, checkIds: CHECK_IDS, origin: 'test.json' }),
    ).toThrow(ConfigError);
    expect(() =>
      assertSuppressions(config, { now: NOW, checkIds: CHECK_IDS, origin: 'test.json' }),
    ).toThrow(error);
  });

  it('exits 2 from the CLI before touching a cluster', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'suppress-'));
    const file = join(dir, 'auditor.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [{ name: 'golang-cluster', region: 'eu-west-1' }],
        suppressions: [{ check: 'token-ref-resolves', reason: 'x', expires: '2029-01-01' }],
      }),
    );
    let stderr = '';
    let collected = false;
    const io: CliIo = {
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      env: {},
      now: () => NOW,
      collect: {
        awsClients: () => {
          collected = true;
          throw new Error('must not be reached');
        },
      },
    };
    expect(await main(['audit', '--config', file], io)).toBe(2);
    expect(stderr).toContain('suppressions[0].expires');
    expect(collected).toBe(false);
  });
});

function report(findings: Finding[]): ClusterReport {
  return {
    name: 'golang-cluster',
    region: 'eu-west-1',
    status: clusterStatus(findings, []),
    startedAt: NOW.toISOString(),
    finishedAt: NOW.toISOString(),
    findings,
    errors: [],
    stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
  };
}

describe('MUTED findings', () => {
  const muted = applySuppressions([dangling, rbac], {
    cluster: 'golang-cluster',
    rules: [rule({ owner: 'platform' })],
    now: NOW,
  });
  const cluster = report(muted);
  const audit: AuditReport = {
    runId: 'r1',
    startedAt: NOW.toISOString(),
    finishedAt: NOW.toISOString(),
    trigger: 'cli',
    clusters: [cluster],
  };
  const drift = { 'golang-cluster': diffReports(cluster, report([dangling, rbac])) };

  it.each([
    ['table', () => renderReport(audit, 'table', { drift })],
    ['markdown', () => renderReport(audit, 'markdown', { drift })],
    ['email', () => renderEmail(cluster, drift['golang-cluster'])],
  ])('appear in their own section of the %s output, with reason and expiry', (_name, render) => {
    const text = render();
    expect(text).toMatch(/MUTED|Muted: accepted risks/);
    expect(text.replace(/\s+/g, ' ')).toContain(
      'until 2027-01-31, owner platform (config suppressions): moving to ESO, OPS-1234',
    );
  });

  it('appear in the JSON output with their suppression and a muted count', () => {
    const json = JSON.parse(renderReport(audit, 'json', { drift }));
    const c = json.clusters[0];
    expect(c.muted).toBe(1);
    expect(c.counts.critical).toBe(0);
    expect(c.findings.find((f: { status: string }) => f.status === 'MUTED')).toMatchObject({
      id: 'a',
      severity: 'critical',
      suppression: {
        reason: 'moving to ESO, OPS-1234',
        expires: '2027-01-31',
        owner: 'platform',
        source: 'config',
      },
    });
    expect(c.drift).toMatchObject({ new: [], resolved: [], muted: ['a'] });
  });

  it('are cut from the email last when the message size budget is tight', () => {
    const text = renderEmail(cluster, drift['golang-cluster'], { maxFindings: 1 });
    expect(text).toContain('MUTED: ACCEPTED RISKS (1)');
    expect(text).not.toContain('owner platform');
    expect(text).toContain('1 more finding not shown');
  });

  it('say how many are muted in the email first lines', () => {
    const text = renderEmail(cluster, drift['golang-cluster']);
    expect(text.split('\n').slice(0, 4).join(' ')).toContain(
      'Since the last run: 0 new, 0 resolved, 1 still failing, 1 muted.',
    );
  });

  it('are not counted by --fail-on, the criticals metric or the cluster status', () => {
    expect(exitCodeFor(audit, 'critical')).toBe(0);
    expect(exitCodeFor(audit, 'high')).toBe(1);
    expect(failingCounts(cluster.findings).critical).toBe(0);
    const onlyMuted = report(muted.filter((f) => f.status === 'MUTED'));
    expect(onlyMuted.status).toBe('PASS');
    expect(exitCodeFor({ ...audit, clusters: [onlyMuted] }, 'low')).toBe(0);
  });

  it('are neither new nor resolved: muting is not fixing, and expiry brings the finding back as new', () => {
    const d = drift['golang-cluster'];
    expect(d.resolved).toEqual([]);
    expect(d.new).toEqual([]);
    const expired = diffReports(report([dangling, rbac]), cluster);
    expect(expired.new.map((f) => f.id)).toEqual(['a']);
  });
});
