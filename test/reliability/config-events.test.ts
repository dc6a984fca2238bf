/**
 * Fault matrix, configuration and events: what an operator can get wrong. Each fault is refused
 * before any cluster is touched, with a message naming the field, through the real Lambda handler
 * (configuration from AUDITOR_CONFIG, as deployed) and the CLI.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_USAGE, main } from '../../lambda/run/cli.js';
import { loadConfigFromEnv } from '../../lambda/config/source.js';
import { Book, faultCase, finalCanarySearch, type CaseRecorder } from './book.js';
import { handlerCase, NOW, type HandlerOutcome } from './harness.js';

const book = new Book(import.meta.url);
finalCanarySearch(book);

/** A run that did nothing: no request to a cluster, no archive, no alert. */
function expectNothingDone(h: HandlerOutcome): void {
  expect(h.requests).toEqual([]);
  expect(h.objects.size).toBe(0);
  expect(h.published).toEqual([]);
}

/** An invocation with this AUDITOR_CONFIG; it must fail (so the alarm fires) with `message`. */
async function withConfigText(c: CaseRecorder, text: string | undefined, message: RegExp) {
  c.inject();
  const env = text === undefined ? {} : { AUDITOR_CONFIG: text };
  const h = await handlerCase(c, { loadConfig: () => loadConfigFromEnv(env), event: {} });
  expect(h.result).toBeUndefined();
  expect(h.error?.name).toBe('ConfigError');
  expect(h.error?.message).toMatch(message);
  expectNothingDone(h);
  return h;
}

async function cli(c: CaseRecorder, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: {},
    now: () => NOW,
  });
  c.record('stdout', out.join(''));
  c.record('stderr', err.join(''));
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const tmp = mkdtempSync(join(tmpdir(), 'reliability-config-'));

describe('fault matrix: configuration and events', () => {
  faultCase(
    book,
    'config',
    'an unknown cluster name in the event: refused naming it and the configured clusters, nothing audited',
    async (c) => {
      c.inject();
      const h = await handlerCase(c, { event: { clusters: ['field-report', 'payments-prod'] } });
      expect(h.result).toMatchObject({
        ok: false,
        error: 'Unknown cluster',
        issues: [
          'clusters[1]: "payments-prod" is not configured; configured clusters: field-report',
        ],
        example: { clusters: ['field-report'], notify: 'always', dryRun: true },
      });
      expectNothingDone(h);
    },
  );

  faultCase(
    book,
    'config',
    'an empty configuration (unset, blank, {}, no clusters): the invocation fails naming what is missing',
    async (c) => {
      await withConfigText(c, undefined, /AUDITOR_CONFIG is not set/);
      await withConfigText(c, '  ', /AUDITOR_CONFIG is not set/);
      // clusters may now be empty when discover lists them, so {} says what to add instead.
      await withConfigText(c, '{}', /clusters: list at least one cluster, or configure discover/);
      await withConfigText(c, '{"clusters":[]}', /clusters: list at least one cluster/);
    },
  );

  faultCase(
    book,
    'config',
    'the same cluster listed twice: refused, since its reports and alerts would collide',
    async (c) => {
      await withConfigText(
        c,
        JSON.stringify({
          clusters: [
            { name: 'golang-cluster', region: 'eu-west-1' },
            { name: 'golang-cluster', region: 'eu-west-1' },
          ],
        }),
        /each cluster may appear only once/,
      );
    },
  );

  faultCase(
    book,
    'config',
    'a bad region, in the file or on the command line: refused naming the field, nothing called',
    async (c) => {
      await withConfigText(
        c,
        JSON.stringify({ clusters: [{ name: 'golang-cluster', region: 'eu-west' }] }),
        /clusters\.0\.region: must be an AWS region such as eu-west-1/,
      );
      await withConfigText(
        c,
        JSON.stringify({ region: 'Frankfurt', clusters: [{ name: 'golang-cluster' }] }),
        /region: must be an AWS region/,
      );
      c.inject();
      const r = await cli(c, ['audit', '--cluster', 'golang-cluster', '--region', 'moon-base-1']);
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('must be an AWS region such as eu-west-1');
    },
  );

  const malformed: [string, unknown, RegExp][] = [
    ['a string', 'audit golang-cluster please', /\(event\): must be a JSON object/],
    [
      'an array',
      ['golang-cluster'],
      /\(event\): must be a JSON object such as the example, not an array/,
    ],
    [
      'clusters as a string',
      { clusters: 'golang-cluster' },
      /^clusters: must be a list of cluster names/,
    ],
    ['an empty cluster list', { clusters: [] }, /^clusters: list at least one cluster name/],
    [
      'a cluster that is not a string',
      { clusters: [42] },
      /^clusters\[0\]: must be a cluster name/,
    ],
    [
      'an unknown notify policy',
      { notify: 'sometimes' },
      /^notify: must be one of "always", "drift", "never"/,
    ],
    ['dryRun as a string', { dryRun: 'yes' }, /^dryRun: must be true or false/],
  ];
  faultCase(
    book,
    'config',
    `a malformed on-demand event (${malformed.map(([n]) => n).join(', ')}): refused with the field and an example, nothing audited`,
    async (c) => {
      for (const [, event, issue] of malformed) {
        c.inject();
        const h = await handlerCase(c, { event });
        expect(h.result).toMatchObject({
          ok: false,
          error: 'Invalid event',
          example: { dryRun: true },
        });
        const issues = h.result && !h.result.ok ? h.result.issues : [];
        expect(issues.some((i) => issue.test(i))).toBe(true);
        expectNothingDone(h);
      }
    },
  );

  faultCase(
    book,
    'config',
    'an event with an extra field: refused naming the field (a typo such as dryrun must not alert everyone)',
    async (c) => {
      c.inject();
      const h = await handlerCase(c, {
        event: { clusters: ['field-report'], dryrun: true, notify: 'always' },
      });
      expect(h.result).toMatchObject({
        ok: false,
        error: 'Invalid event',
        issues: ['dryrun: unknown field; allowed fields are clusters, notify, dryRun'],
      });
      expectNothingDone(h);
    },
  );

  faultCase(
    book,
    'config',
    'a configuration that is not JSON (YAML, truncated): refused naming the source and the JSON problem',
    async (c) => {
      await withConfigText(
        c,
        'clusters:\n  - name: golang-cluster\n',
        /environment variable AUDITOR_CONFIG is not valid JSON/,
      );
      await withConfigText(c, '{"clusters":[{"name":"golang-cluster"}', /is not valid JSON/);
      c.inject();
      const file = join(tmp, 'auditor.config.yaml');
      writeFileSync(file, 'clusters:\n  - name: golang-cluster\n    region: eu-west-1\n');
      const r = await cli(c, ['audit', '--config', file]);
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`Configuration ${file} is not valid JSON`);
    },
  );

  faultCase(
    book,
    'config',
    'a config file that does not exist, and a --cluster the file does not list: refused before any call',
    async (c) => {
      c.inject(2);
      const missing = await cli(c, ['audit', '--config', join(tmp, 'nope.json')]);
      expect(missing.code).toBe(EXIT_USAGE);
      expect(missing.stderr).toContain('ENOENT');
      const file = join(tmp, 'auditor.config.json');
      writeFileSync(
        file,
        JSON.stringify({ clusters: [{ name: 'golang-cluster', region: 'eu-west-1' }] }),
      );
      const other = await cli(c, ['audit', '--config', file, '--cluster', 'payments']);
      expect(other.code).toBe(EXIT_USAGE);
      expect(other.stderr).toContain('Cluster "payments" is not in');
    },
  );
});
