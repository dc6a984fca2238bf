/** `audit --format asff` end to end on the field-report fixture (the demo harness). */
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { runCli as cli } from './support.js';

const CANARIES = [
  'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c',
  'CANARY-dd-cluster-agent-token-OLD-0b1c2d3e4f5a6b7c',
  'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b',
  'CANARY-dd-app-key-9a8b7c6d5e4f3a2b1c0d',
];

describe('eks-datadog-auditor audit --format asff', () => {
  it('prints the field report’s failing findings as ASFF for the given account', async () => {
    const run = await cli('audit', '--demo', '--format', 'asff', '--aws-account', '123456789012');
    expect(run.code).toBe(1);
    const findings = JSON.parse(run.stdout) as AwsSecurityFinding[];
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      expect(f).toMatchObject({
        SchemaVersion: '2018-10-08',
        AwsAccountId: '123456789012',
        ProductArn: 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default',
        RecordState: 'ACTIVE',
        Compliance: { Status: 'FAILED' },
      });
      expect(f.Id).toMatch(/^123456789012\/eu-west-1\/field-report\//);
    }
    expect(findings.map((f) => f.GeneratorId)).toContain('token-ref-resolves');
    for (const canary of CANARIES) expect(run.stdout).not.toContain(canary);
  });

  it.each([
    [['--format', 'asff'], /--format asff needs --aws-account ID/],
    [['--format', 'asff', '--aws-account', '1234'], /--aws-account must be a 12-digit/],
  ])('rejects %j with exit code 2', async (args, message) => {
    const run = await cli('audit', '--demo', ...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });
});
