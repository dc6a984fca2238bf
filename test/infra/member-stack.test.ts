import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import cdkNag from 'cdk-nag';
import { MemberStack, READER_ROLE_NAME } from '../../infra/member-stack.js';

const { AwsSolutionsChecks } = cdkNag;
const AUDITOR_ROLE = 'arn:aws:iam::123456789012:role/EksDatadogAuditor-FunctionRole-abc';

describe('MemberStack (reader role for StackSets)', () => {
  const app = new App();
  const stack = new MemberStack(app, 'Member');
  const template = Template.fromStack(stack);

  it('trusts only the auditor role ARNs given as a StackSet parameter', () => {
    template.hasParameter('AuditorRoleArns', { Type: 'CommaDelimitedList' });
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: READER_ROLE_NAME,
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Principal: { AWS: Match.anyValue() },
          }),
        ],
      },
    });
  });

  it('grants read-only actions only', () => {
    const [role] = Object.values(template.findResources('AWS::IAM::Role'));
    const actions = (
      role!.Properties.Policies as { PolicyDocument: { Statement: { Action: string[] }[] } }[]
    ).flatMap((p) => p.PolicyDocument.Statement.flatMap((st) => [st.Action].flat()));
    expect(actions.length).toBeGreaterThan(5);
    for (const a of actions) expect(a).toMatch(/^(eks|ec2|secretsmanager):(List|Describe|Get)/);
  });

  it('with explicit auditor roles, trusts exactly those', () => {
    const t = Template.fromStack(
      new MemberStack(new App(), 'Member', { auditorRoleArns: [AUDITOR_ROLE] }),
    );
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { AWS: AUDITOR_ROLE } })],
      },
    });
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const violations = new AwsSolutionsChecks().validateScope(stack).violations as {
      ruleName: string;
    }[];
    expect(violations.map((v) => v.ruleName)).toEqual([]);
  });
});
