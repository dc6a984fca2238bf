import { App, type CfnElement } from 'aws-cdk-lib';
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

describe('MemberStack cluster access', () => {
  const nagErrors = (stack: MemberStack) =>
    (new AwsSolutionsChecks().validateScope(stack).violations as { ruleName: string }[]).map(
      (v) => v.ruleName,
    );

  it('creates an access entry for the reader role on each named cluster', () => {
    const stack = new MemberStack(new App(), 'Member', { clusterNames: ['prod-a', 'prod-b'] });
    const t = Template.fromStack(stack);
    const entries = Object.values(t.findResources('AWS::EKS::AccessEntry')).map(
      (r) => r.Properties,
    );
    expect(entries).toEqual(
      ['prod-a', 'prod-b'].map((name) => ({
        ClusterName: name,
        PrincipalArn: {
          'Fn::GetAtt': [stack.getLogicalId(stack.role.node.defaultChild as CfnElement), 'Arn'],
        },
        Type: 'STANDARD',
        KubernetesGroups: ['eks-datadog-auditor'],
      })),
    );
    expect(nagErrors(stack)).toEqual([]);
  });

  it('syncs tagged clusters with inline code allowed to create only the reader role entry', () => {
    const stack = new MemberStack(new App(), 'Member', {
      clusterTags: { audit: 'datadog' },
      clusterRegions: ['eu-west-1', 'us-east-1'],
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EKS::AccessEntry', 0);
    const [fn] = Object.values(t.findResources('AWS::Lambda::Function'));
    expect(fn!.Properties.Code.ZipFile).toContain('CreateAccessEntryCommand');
    expect(fn!.Properties.Handler).toBe('index.handler');
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    t.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyName: 'AccessEntries',
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Sid: 'CreateReaderEntryOnly',
                Action: 'eks:CreateAccessEntry',
                Condition: {
                  StringEquals: {
                    'eks:principalArn': Match.anyValue(),
                    'eks:accessEntryType': 'STANDARD',
                  },
                  'ForAllValues:StringEquals': { 'eks:kubernetesGroups': ['eks-datadog-auditor'] },
                },
              }),
            ]),
          },
        },
      ],
    });
    const options = JSON.stringify(fn!.Properties.Environment.Variables.SYNC_OPTIONS);
    expect(options).toContain('\\"tags\\":{\\"audit\\":\\"datadog\\"}');
    expect(options).toContain('\\"regions\\":[\\"eu-west-1\\",\\"us-east-1\\"]');
    expect(nagErrors(stack)).toEqual([]);
  });

  it('refuses more named clusters than a stack holds, in one line pointing at tags', () => {
    const clusterNames = Array.from({ length: 451 }, (_, i) => `c${i}`);
    expect(() => new MemberStack(new App(), 'Member', { clusterNames })).toThrow(
      /^451 clusterNames do not fit one member stack \(at most 450 .*\): select the clusters with clusterTags instead[^\n]*$/,
    );
  });
});
