/**
 * The package as a user gets it: `npm pack` (whose prepack builds dist/), the tarball installed
 * with `--omit=dev` into an empty folder, then the installed bin through npx. The demo must run
 * from what a production install has: no tsx, no aws-sdk-client-mock, no test/ sources.
 *
 * The project needs Node >= 22.19 while the machine's node may be older: npm scripts put the
 * `node` devDependency's Node 22 first on PATH, and this test does the same explicitly for every
 * child, then checks what a user on an older Node sees.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { renderAuditorRbac } from '../../lambda/collect/kube/rbac-manifest.js';

const ROOT = process.cwd();
const NODE22 = join(ROOT, 'node_modules', 'node', 'bin', 'node');
const PATH = [dirname(NODE22), process.env.PATH ?? ''].join(delimiter);
const ENV = { ...process.env, PATH, npm_config_update_notifier: 'false', NO_COLOR: '1' };
const LONG = 600_000;

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', maxBuffer: 64 << 20 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

describe('the packed package, installed without devDependencies', () => {
  let work: string;
  let app: string;
  let files: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'auditor-pack-'));
    app = join(work, 'app');
    const packed = JSON.parse(
      ok(run('npm', ['pack', '--json', '--pack-destination', work], ROOT), 'npm pack'),
    ) as { filename: string; files: { path: string }[] }[];
    files = packed[0]!.files.map((f) => f.path);
    execFileSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    ok(
      run(
        'npm',
        [
          'install',
          '--omit=dev',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          join(work, packed[0]!.filename),
        ],
        app,
      ),
      'npm install',
    );
  }, LONG);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships compiled JavaScript, its types and the demo fixtures, and no TypeScript sources or tests', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/eks-datadog-auditor.js',
        'dist/lambda/run/cli.js',
        'dist/lambda/run/cli.d.ts',
        'dist/lambda/run/demo/demo.js',
        'dist/lambda/run/demo/kube-api-server.js',
        'dist/fixtures/field-report/aws.json',
        'package.json',
      ]),
    );
    expect(files.filter((f) => f.startsWith('test/') || /(?<!\.d)\.ts$/.test(f))).toEqual([]);
  });

  it('installs without the devDependencies the demo used to need', () => {
    const modules = join(app, 'node_modules');
    expect(
      existsSync(join(modules, 'eks-datadog-auditor', 'dist', 'lambda', 'run', 'cli.js')),
    ).toBe(true);
    for (const dev of ['tsx', 'aws-sdk-client-mock', 'typescript', 'jest', 'node']) {
      expect([dev, existsSync(join(modules, dev))]).toEqual([dev, false]);
    }
  });

  it('npx eks-datadog-auditor audit --demo finds the field report bugs and exits 1', () => {
    const r = run('npx', ['--no', 'eks-datadog-auditor', 'audit', '--demo'], app);
    expect(r.stderr).toContain('demo: serving fixture "field-report"');
    expect(r.stdout).toMatch(/go-secrets/);
    expect(r.stdout).toMatch(/endpoints/);
    expect(r.stdout).toContain('Summary: 1 cluster (1 FAIL); failing: 1 critical, 1 high');
    expect(r.status).toBe(1);
  });

  it('the installed demo serves other fixtures and prints JSON with no secret value in it', () => {
    const r = run(
      'npx',
      [
        '--no',
        'eks-datadog-auditor',
        'audit',
        '--demo',
        '--fixture',
        'healthy',
        '--format',
        'json',
      ],
      app,
    );
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { clusters: { name: string; status: string }[] };
    expect(report.clusters.map((c) => [c.name, c.status])).toEqual([['healthy', 'PASS']]);
    const fixtureSecrets = readFileSync(
      join(ROOT, 'test', 'fixtures', 'healthy', '22-datadog-secrets.yaml'),
      'utf8',
    ).match(/CANARY-[A-Za-z0-9-]+/g);
    expect(fixtureSecrets?.length).toBeGreaterThan(0);
    for (const canary of fixtureSecrets ?? []) expect(r.stdout + r.stderr).not.toContain(canary);
  });

  it('npx eks-datadog-auditor print-rbac prints the manifest the sources render', () => {
    const r = run('npx', ['--no', 'eks-datadog-auditor', 'print-rbac'], app);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(renderAuditorRbac().trim());
    expect(r.stdout).toContain('kind: ClusterRole');
  });

  it('exports its modules with types to importers', () => {
    const pkg = join(app, 'node_modules', 'eks-datadog-auditor');
    const r = run(
      NODE22,
      [
        '--input-type=module',
        '-e',
        "const r = await import('eks-datadog-auditor/report'); const c = await import('eks-datadog-auditor/config'); const m = await import('eks-datadog-auditor'); console.log(typeof r.renderReport, typeof c.parseConfig, typeof m.main)",
      ],
      app,
    );
    expect(ok(r, 'import').trim()).toBe('function function function');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
      exports: Record<string, { types?: string } | string>;
    };
    for (const entry of Object.values(manifest.exports)) {
      if (typeof entry === 'object' && entry.types) {
        expect([entry.types, existsSync(join(pkg, entry.types))]).toEqual([entry.types, true]);
      }
    }
  });

  // A Node older than 22.19 on the machine (this project's CI images have Node 20 as `node`).
  const older = spawnSync(
    'sh',
    ['-c', 'command -v -a node; ls /usr/bin/node /usr/local/bin/node'],
    {
      encoding: 'utf8',
    },
  )
    .stdout.split('\n')
    .filter(Boolean)
    .find((bin) => {
      const v = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
      const [major = 0, minor = 0] = v.split('.').map(Number);
      return v !== '' && (major < 22 || (major === 22 && minor < 19));
    });

  (older ? it : it.skip)(
    'under a Node older than 22.19 the bin exits 2 and says which Node it needs and how to get it',
    () => {
      const bin = join(app, 'node_modules', 'eks-datadog-auditor', 'bin', 'eks-datadog-auditor.js');
      const r = spawnSync(older!, [bin, 'audit', '--demo'], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('eks-datadog-auditor needs Node.js >= 22.19');
      expect(r.stderr).toContain('Install Node.js 22');
      expect(r.stdout).toBe('');
    },
  );
});
