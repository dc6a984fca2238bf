/**
 * What must never be in the code that runs: TLS verification switched off (in any of its
 * spellings), and retry or paging loops without a bound. A static scan of lambda/ (and of infra/,
 * which sets the function's environment), plus the behaviour behind it: a kubeconfig asking to
 * skip verification is refused, and every AWS client has a bounded number of attempts.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAwsClients } from '../../lambda/collect/aws/clients.js';
import { AWS_MAX_ATTEMPTS } from '../../lambda/config/config.js';
import { ConfigError } from '../../lambda/config/config.js';
import { loadKubeConfig } from '../../lambda/collect/kube/client.js';
import { DEFAULT_MAX_PAGES, DEFAULT_RETRY } from '../../lambda/collect/kube/list.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The code with comments blanked out (so a comment saying what we never do is not a hit). */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, (m, p: string) => p + ' '.repeat(m.length - p.length));
}

const LAMBDA = sources(join(ROOT, 'lambda'));
const INFRA = sources(join(ROOT, 'infra'));

function hits(files: string[], pattern: RegExp): string[] {
  return files.flatMap((f) =>
    code(f)
      .split('\n')
      .flatMap((line, i) =>
        pattern.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [],
      ),
  );
}

const INSECURE: [string, RegExp][] = [
  ['rejectUnauthorized: false', /rejectUnauthorized\s*:\s*(false|0|!1)/],
  ['NODE_TLS_REJECT_UNAUTHORIZED', /NODE_TLS_REJECT_UNAUTHORIZED/],
  ['insecure-skip-tls-verify', /insecure-skip-tls-verify|insecureSkipTlsVerify/i],
  ['skipTLSVerify: true', /skipTLSVerify\s*:\s*(true|1|!0)/],
  ['checkServerIdentity overridden', /checkServerIdentity\s*[:=]/],
  [
    'a custom https.Agent or a global undici dispatcher',
    /new\s+(https\.)?Agent\s*\(|setGlobalDispatcher/,
  ],
];
const LOOP = /while\s*\(\s*(true|1|!0)\s*\)|for\s*\([^;)]*;\s*;|\bdo\s*\{|setInterval\s*\(/;

describe('no insecure code in lambda/', () => {
  it('scans the code that runs', () => {
    expect(LAMBDA.length).toBeGreaterThan(30);
  });

  it('would catch each of them (the patterns are tested, not just trusted)', () => {
    const samples: [RegExp, string][] = [
      [INSECURE[0]![1], 'const agent = { rejectUnauthorized: false };'],
      [INSECURE[1]![1], "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';"],
      [INSECURE[2]![1], '  insecure-skip-tls-verify: true'],
      [INSECURE[3]![1], 'clusters: [{ skipTLSVerify: true }]'],
      [LOOP, 'while (true) {'],
      [LOOP, 'for (;;) {'],
      [LOOP, 'do {'],
    ];
    for (const [pattern, line] of samples) expect(pattern.test(line)).toBe(true);
  });

  it.each(INSECURE)('contains no %s', (_name, pattern) => {
    expect(hits([...LAMBDA, ...INFRA], pattern)).toEqual([]);
  });

  it('has no loop without a bound: no while (true), for (;;), do-while or timers that repeat', () => {
    expect(hits(LAMBDA, LOOP)).toEqual([]);
  });

  it('bounds every while loop by its condition (a comparison, or a collection that shrinks)', () => {
    const unbounded = hits(LAMBDA, /\bwhile\s*\(/).filter((line) => {
      const cond = line.slice(line.indexOf('while'));
      return !/[<>]=?|\.length\b|\.pop\(\)|\.shift\(\)/.test(cond);
    });
    expect(unbounded).toEqual([]);
  });

  it('bounds the retries: Kubernetes retries and pages, and every AWS client, have fixed budgets', () => {
    expect(DEFAULT_RETRY.transientRetries).toBeLessThanOrEqual(5);
    expect(DEFAULT_RETRY.throttleRetries).toBeLessThanOrEqual(5);
    expect(DEFAULT_RETRY.maxRetryAfterSeconds).toBeLessThanOrEqual(30);
    expect(DEFAULT_RETRY.maxDelayMs).toBeLessThanOrEqual(10_000);
    expect(DEFAULT_MAX_PAGES).toBeLessThan(Number.POSITIVE_INFINITY);
    const clients = createAwsClients({ region: 'eu-west-1' });
    for (const client of [clients.eks, clients.ec2, clients.secretsManager, clients.sts]) {
      expect(client.config.maxAttempts).toBeDefined();
    }
    // Every SDK client the code builds states its attempts (the SDK default would be silent).
    const built = hits(LAMBDA, /new\s+(S3|SNS|EKS|EC2|SecretsManager|STS)Client\(/);
    for (const line of built) expect(line).toMatch(/maxAttempts|config\)|\(config\b/);
    expect(AWS_MAX_ATTEMPTS).toBeLessThanOrEqual(5);
  });

  it('refuses a kubeconfig that asks to skip TLS verification, and one without https', () => {
    const dir = mkdtempSync(join(tmpdir(), 'insecure-'));
    for (const [name, cluster] of [
      ['skip', { server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true }],
      ['http', { server: 'http://127.0.0.1:8080' }],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(
        path,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'c',
          clusters: [{ name: 'k', cluster }],
          users: [{ name: 'u', user: { token: 't' } }],
          contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
        }),
      );
      expect(() => loadKubeConfig({ kind: 'kubeconfig', clusterName: 'k', path })).toThrow(
        ConfigError,
      );
      expect(() => loadKubeConfig({ kind: 'kubeconfig', clusterName: 'k', path })).toThrow(
        /never skips verification/,
      );
    }
    expect(() =>
      loadKubeConfig({
        kind: 'token',
        clusterName: 'k',
        server: 'http://127.0.0.1',
        caData: 'x',
        token: async () => 't',
      }),
    ).toThrow(/only talks TLS/);
  });
});
