import { AUDITOR_IAM_ACTIONS } from '../../infra/iam-actions.js';
import { ACCOUNT, REGION, synthNamed } from './support.js';

// configs.ts WITH_INTEGRATIONS: the example plus Security Hub and a Datadog API key secret by name.

describe('IAM for the Security Hub and Datadog deliveries', () => {
  const s = synthNamed('integrations');
  const statements = s.statements(s.stack.role);

  it('grants BatchImportFindings on the account’s default product of the stack’s region only', () => {
    const st = statements.filter((x) => x.Action.includes('securityhub:BatchImportFindings'));
    expect(st).toHaveLength(1);
    expect(st[0]!.Action).toEqual(['securityhub:BatchImportFindings']);
    expect(st[0]!.Resource).toEqual([
      expect.stringMatching(
        new RegExp(`^arn:[^:]+:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default$`),
      ),
    ]);
  });

  it('reads the Datadog API key secret by name, with GetSecretValue only', () => {
    const st = statements.filter((x) => x.Sid === 'ReadDatadogApiKey');
    expect(st).toHaveLength(1);
    expect(st[0]!.Action).toEqual(['secretsmanager:GetSecretValue']);
    expect(st[0]!.Resource).toEqual([
      expect.stringMatching(
        new RegExp(`^arn:[^:]+:secretsmanager:${REGION}:${ACCOUNT}:secret:datadog/api-key-\\?{6}$`),
      ),
    ]);
  });

  it('takes a Datadog secret ARN as given', () => {
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:dd-AbCdEf`;
    const t = synthNamed('datadog-secret-arn'); // configs.ts: { ...EXAMPLE, datadog: { apiKeySecret: arn } }
    const st = t.statements(t.stack.role).filter((x) => x.Sid === 'ReadDatadogApiKey');
    expect(st[0]!.Resource).toEqual([arn]);
  });

  it('grants neither without the config', () => {
    const plain = synthNamed('example');
    const actions = plain.statements(plain.stack.role).flatMap((x) => x.Action);
    expect(actions).not.toContain('securityhub:BatchImportFindings');
    expect(plain.statements(plain.stack.role).some((x) => x.Sid === 'ReadDatadogApiKey')).toBe(
      false,
    );
  });

  it('lists BatchImportFindings among the actions the function may ever have', () => {
    expect(AUDITOR_IAM_ACTIONS).toContain('securityhub:BatchImportFindings');
  });
});
