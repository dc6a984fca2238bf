/**
 * `audit --demo --format sarif|junit|html` end to end: the field-report fixture through the real
 * Kubernetes client, each format on stdout, exit code from --fail-on as for every format.
 */
import { XMLValidator } from 'fast-xml-parser';
import { findCanaries } from '../reliability/canary-needles.js';
import { runCli as cli } from './support.js';

describe('audit --format sarif, junit and html', () => {
  it('prints a SARIF log of the field report whose rules link to --docs-url', async () => {
    const run = await cli(
      'audit',
      '--demo',
      '--format',
      'sarif',
      '--docs-url',
      'https://git.example.com/platform/eks-datadog-auditor/README.md',
    );
    expect(run.code).toBe(1);
    const log = JSON.parse(run.stdout) as {
      version: string;
      runs: {
        results: { kind: string; ruleId: string }[];
        tool: { driver: { rules: { helpUri: string }[] } };
      }[];
    };
    expect(log.version).toBe('2.1.0');
    expect(
      log.runs[0]!.results.filter((r) => r.kind === 'fail')
        .map((r) => r.ruleId)
        .sort(),
    ).toEqual(['rbac-agent-contract', 'token-ref-resolves']);
    expect(log.runs[0]!.tool.driver.rules[0]!.helpUri).toMatch(
      /^https:\/\/git\.example\.com\/platform\/eks-datadog-auditor\/README\.md#check-/,
    );
    expect(findCanaries(run.stdout)).toEqual([]);
  });

  it('prints well-formed JUnit XML with the two field-report failures', async () => {
    const run = await cli('audit', '--demo', '--format', 'junit');
    expect(run.code).toBe(1);
    expect(XMLValidator.validate(run.stdout)).toBe(true);
    expect(run.stdout).toMatch(
      /<testsuites name="eks-datadog-auditor [^"]+" tests="\d+" failures="2"/,
    );
    expect(findCanaries(run.stdout)).toEqual([]);
  });

  it('prints one self-contained HTML page', async () => {
    const run = await cli('audit', '--demo', '--format', 'html', '--fail-on', 'never');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^<!DOCTYPE html>/);
    // Nothing that loads a resource (the browser test watches the requests themselves).
    expect(run.stdout).not.toMatch(
      /<(link|img|iframe|object|embed|video|audio|source|base)\b|\b(src|srcset|action)=|url\(|@import/i,
    );
    expect(run.stdout.match(/<script>/g)).toHaveLength(1);
    expect(findCanaries(run.stdout)).toEqual([]);
  });

  it('names every format in the usage error for an unknown one', async () => {
    const run = await cli('audit', '--demo', '--format', 'xml');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--format must be one of table, json, markdown, sarif, junit, html/);
  });
});
