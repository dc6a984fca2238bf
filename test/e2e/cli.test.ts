/**
 * The CLI end to end: the real audit through the real Kubernetes client against the local test
 * API server (the demo harness), AWS through aws-sdk-client-mock.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { FIXTURES_DIR, loadManifests } from '../support/snapshot-builder.js';
import { runCli as cli } from './support.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const CANARIES = [
  'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c',
  'CANARY-dd-cluster-agent-token-OLD-0b1c2d3e4f5a6b7c',
  'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b',
  'CANARY-dd-app-key-9a8b7c6d5e4f3a2b1c0d',
];

function encodings(value: string): string[] {
  const b = Buffer.from(value);
  return [
    value,
    b.toString('base64'),
    b.toString('base64url'),
    b.toString('hex'),
    encodeURIComponent(value),
  ];
}

describe('eks-datadog-auditor audit --demo', () => {
  let json: Run;
  let table: Run;
  beforeAll(async () => {
    json = await cli('audit', '--demo', '--format', 'json');
    table = await cli('audit', '--demo');
  });

  it('prints exactly one JSON document of the documented shape on stdout', () => {
    const doc = JSON.parse(json.stdout);
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['runId', 'startedAt', 'clusters']));
    expect(doc.clusters).toHaveLength(1);
    const [c] = doc.clusters;
    expect(c).toMatchObject({
      name: 'field-report',
      status: expect.stringMatching(/^(PASS|FAIL|ERROR)$/),
    });
    expect(Array.isArray(c.errors)).toBe(true);
    for (const f of c.findings) {
      expect(Object.keys(f)).toEqual(
        expect.arrayContaining([
          'id',
          'checkId',
          'severity',
          'status',
          'resource',
          'message',
          'remediation',
        ]),
      );
      expect(['PASS', 'FAIL', 'ERROR']).toContain(f.status);
      expect(['critical', 'high', 'medium', 'low', 'info']).toContain(f.severity);
      expect(typeof f.resource.kind).toBe('string');
      expect(typeof f.resource.name).toBe('string');
    }
  });

  it("finds the field report's dangling golang/go-secrets reference and exits 1", () => {
    const doc = JSON.parse(json.stdout);
    const dangling = doc.clusters[0].findings.filter(
      (f: { checkId: string; status: string }) =>
        f.checkId === 'token-ref-resolves' && f.status === 'FAIL',
    );
    expect(dangling).toHaveLength(1);
    expect(dangling[0].resource.namespace).toBe('golang');
    expect(dangling[0].message).toContain('"go-secrets"');
    expect(dangling[0].message).toContain('golang-secrets');
    expect(json.code).toBe(1);
  });

  it('prints a table on stdout and progress only on stderr', () => {
    expect(table.stdout).toContain('go-secrets');
    expect(table.stderr).toContain('demo:');
    expect(table.stdout).not.toContain('demo:');
  });

  it('never prints a secret value, raw or encoded, on stdout or stderr', () => {
    const out = json.stdout + json.stderr + table.stdout + table.stderr;
    for (const canary of CANARIES) for (const e of encodings(canary)) expect(out).not.toContain(e);
  });

  it('reports no failures for the healthy fixture and exits 0', async () => {
    const run = await cli('audit', '--demo', '--fixture', 'healthy', '--format', 'json');
    const failing = JSON.parse(run.stdout).clusters[0].findings.filter(
      (f: { status: string }) => f.status !== 'PASS',
    );
    expect(failing).toEqual([]);
    expect(run.code).toBe(0);
  });

  it('fails a cluster with no Datadog at all and exits 1 under the default --fail-on high', async () => {
    const run = await cli('audit', '--demo', '--fixture', 'no-datadog', '--format', 'json');
    const cluster = JSON.parse(run.stdout).clusters[0];
    const failing = cluster.findings.filter((f: { status: string }) => f.status !== 'PASS');
    expect(failing).toEqual([
      expect.objectContaining({
        checkId: 'datadog-setup-found',
        severity: 'high',
        status: 'FAIL',
        resource: { kind: 'Cluster', namespace: null, name: 'no-datadog' },
      }),
    ]);
    expect(failing[0].remediation).toContain('clusters[].clusterAgent.namespace');
    expect(cluster.setup).toEqual({
      kinds: [],
      summary: 'no Cluster Agent; no Datadog agent setup found',
    });
    expect(run.code).toBe(1);
  });
});

describe('eks-datadog-auditor audit --kubeconfig --no-aws', () => {
  it('audits the Kubernetes side through a kubeconfig context without touching AWS', async () => {
    const server = await startTestApiServer({
      manifests: loadManifests(join(FIXTURES_DIR, 'field-report')),
    });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'auditor-'));
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, server.kubeconfig({ context: 'field-report' }));
      const run = await cli(
        'audit',
        '--kubeconfig',
        kubeconfig,
        '--context',
        'field-report',
        '--no-aws',
        '--cluster',
        'golang-cluster',
        '--format',
        'json',
      );
      const doc = JSON.parse(run.stdout);
      const c = doc.clusters[0];
      expect(c.errors).toEqual([]);
      expect(
        c.findings
          .filter((f: { status: string }) => f.status === 'FAIL')
          .map((f: { checkId: string }) => f.checkId)
          .sort(),
      ).toEqual(['rbac-agent-contract', 'token-ref-resolves']);
      // Checks that need AWS data say so, as info "not evaluated": skipped by choice, nothing
      // failed to read, so the audit is complete (FAIL on its findings), not ERROR.
      const skipped = c.findings.filter((f: { message: string }) =>
        f.message.startsWith('Not evaluated'),
      );
      expect(skipped.length).toBeGreaterThanOrEqual(7);
      for (const f of skipped) expect(f).toMatchObject({ status: 'ERROR', severity: 'info' });
      expect(skipped[0].message).toContain('--no-aws');
      expect(c.status).toBe('FAIL');
      expect(run.code).toBe(1);
      expect(server.requests.length).toBeGreaterThan(10);
    } finally {
      await server.close();
    }
  });

  it('names the kubeconfig and the context when the context does not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditor-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n',
    );
    const run = await cli(
      'audit',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'nope',
      '--no-aws',
      '--cluster',
      'c1',
      '--format',
      'json',
    );
    const c = JSON.parse(run.stdout).clusters[0];
    expect(c.status).toBe('ERROR');
    expect(c.findings[0].message).toContain('nope');
    expect(c.findings[0].message).toContain(kubeconfig);
  });
});

describe('eks-datadog-auditor usage', () => {
  it.each([
    [['audit', '--bogus'], /audit: Unknown option '--bogus'/],
    [['audit', '--format', 'xml', '--demo'], /--format must be one of table, json, markdown/],
    [
      ['audit', '--fail-on', 'urgent', '--demo'],
      /--fail-on must be one of critical, high, medium, low, never/,
    ],
    [['audit'], /name a cluster with --cluster NAME/],
    [['audit', '--no-aws', '--cluster', 'a'], /--no-aws needs --kubeconfig or --context/],
    [['token'], /--cluster NAME is required/],
    [['launch'], /unknown command "launch"/],
  ])('rejects %j with one clear line and exit code 2', async (argv, message) => {
    const run = await cli(...argv);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([['audit'], ['token'], ['print-rbac']])('prints help for %s', async (command) => {
    const run = await cli(command, '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: eks-datadog-auditor ${command}`);
  });

  it('names each bad field of flags it turns into config, one line per field', async () => {
    const run = await cli('audit', '--cluster', 'bad name!', '--region', 'eu-west-1');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Invalid auditor configuration in command-line flags');
    expect(run.stderr).toContain('  - clusters.0.name: must be an EKS cluster name');
  });

  it('names the config file and the bad field when the config is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditor-'));
    const file = join(dir, 'auditor.config.json');
    writeFileSync(file, JSON.stringify({ clusters: [{ name: 'a', region: 'nowhere' }] }));
    const run = await cli('audit', '--config', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(file);
    expect(run.stderr).toContain('clusters.0.region');
  });

  it('rejects a config file that is not JSON, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditor-'));
    const file = join(dir, 'auditor.config.json');
    writeFileSync(file, 'clusters:\n  - name: a\n');
    const run = await cli('audit', '--config', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is not valid JSON/);
  });

  it('reads the same auditor.config.json as the CDK stack, deploy section included', async () => {
    const example = new URL('../../auditor.config.example.json', import.meta.url).pathname;
    const run = await cli('audit', '--config', example, '--cluster', 'nonexistent-cluster');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Cluster "nonexistent-cluster" is not in');
    expect(run.stderr).not.toContain('deploy');
  });

  it('rejects a --cluster that the config file does not list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditor-'));
    const file = join(dir, 'auditor.config.json');
    writeFileSync(
      file,
      JSON.stringify({ region: 'eu-west-1', clusters: [{ name: 'a' }, { name: 'b' }] }),
    );
    const run = await cli('audit', '--config', file, '--cluster', 'c');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Cluster "c" is not in');
    expect(run.stderr).toContain('configured: a, b');
  });
});
