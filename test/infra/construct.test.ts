import { App, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import cdkNag from 'cdk-nag';
import { ConfigError } from '../../lambda/config/config.js';
import { AUDITOR_APP_CONTEXT } from '../../infra/auditor-stack.js';
import { EksDatadogAuditor, type EksDatadogAuditorProps } from '../../infra/construct/index.js';
import { ACCOUNT, REGION } from './support.js';

const { AwsSolutionsChecks } = cdkNag;

function userStack(): Stack {
  const app = new App({ context: { ...AUDITOR_APP_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'PlatformStack', { env: { account: ACCOUNT, region: REGION } });
}

/** A stub asset: these tests look at the template, not at the handler bundle. */
const code = lambda.Code.fromInline('export const handler = async () => ({});');
const config = { clusters: [{ name: 'prod' }, { name: 'staging' }] };

describe('EksDatadogAuditor inside a user stack with its own topic, bucket and VPC', () => {
  const stack = userStack();
  // The user's own resources, beside which the auditor is placed.
  const key = new kms.Key(stack, 'PlatformKey', { enableKeyRotation: true });
  const topic = new sns.Topic(stack, 'PlatformAlerts', { masterKey: key });
  const bucket = new s3.Bucket(stack, 'PlatformReports', { enforceSSL: true });
  const vpc = new ec2.Vpc(stack, 'PlatformVpc', { maxAzs: 2, natGateways: 1 });
  new sns.Topic(stack, 'UnrelatedTopic');
  const auditor = new EksDatadogAuditor(stack, 'Auditor', {
    config,
    topic,
    topicKey: key,
    archiveBucket: bucket,
    vpc,
    schedule: scheduler.ScheduleExpression.cron({
      minute: '30',
      hour: '5',
      timeZone: TimeZone.EUROPE_PARIS,
    }),
    alertEmails: ['oncall@example.com'],
    code,
  });
  const template = Template.fromStack(stack);
  const ref = (c: { node: { defaultChild?: unknown } } | Stack) =>
    stack.resolve((c.node.defaultChild as { logicalId: string }).logicalId) as string;

  it('creates no topic, key or bucket of its own and publishes to the given topic', () => {
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(auditor.topic).toBe(topic);
    expect(auditor.archiveBucket).toBe(bucket);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          AUDITOR_TOPIC_ARN: { Ref: ref(topic) },
          AUDITOR_ARCHIVE_BUCKET: { Ref: ref(bucket) },
        }),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: { Ref: ref(topic) },
      Endpoint: 'oncall@example.com',
    });
  });

  it('lets the role use the given key through SNS and the given bucket by prefix only', () => {
    const role = template.toJSON().Resources[ref(auditor.role)] as {
      Properties: { Policies: { PolicyDocument: { Statement: { Sid: string }[] } }[] };
    };
    const statements = role.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.find((s) => s.Sid === 'EncryptForTopic')).toMatchObject({
      Resource: { 'Fn::GetAtt': [ref(key), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': `sns.${REGION}.amazonaws.com` } },
    });
    expect(statements.find((s) => s.Sid === 'ReadWriteReports')).toMatchObject({
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ref(bucket), 'Arn'] }, '/reports/*']] },
    });
  });

  it('puts the audit function in the private subnets of the given VPC, HTTPS out only', () => {
    const fn = template.toJSON().Resources[ref(auditor.auditFunction)] as {
      Properties: { VpcConfig: { SubnetIds: { Ref: string }[] } };
    };
    const privateSubnets = vpc.privateSubnets.map((s) => ({ Ref: ref(s) }));
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(privateSubnets);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('eks-datadog-auditor: HTTPS out'),
      SecurityGroupEgress: [Match.objectLike({ FromPort: 443, ToPort: 443 })],
    });
  });

  it('schedules the state machine with the given expression and time zone', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 5 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      Target: Match.objectLike({ Arn: { Ref: ref(auditor.stateMachine) } }),
    });
  });

  it('creates the access entries and alarms in the user stack beside its resources', () => {
    template.resourceCountIs('AWS::EKS::AccessEntry', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: ref(topic) }],
      MetricName: 'AuditsSucceeded',
    });
    expect(auditor.clusterAccess.nestedStacks).toEqual([]);
  });

  it('has no unacknowledged cdk-nag finding among its own resources', () => {
    const violations = new AwsSolutionsChecks().validateScope(auditor).violations as {
      ruleName: string;
      violatingResources: { constructPath?: string }[];
    }[];
    expect(
      violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});

describe('EksDatadogAuditor access entries past the in-stack maximum', () => {
  it('places them in nested stacks when maxAccessEntriesInStack is exceeded', () => {
    const stack = userStack();
    const auditor = new EksDatadogAuditor(stack, 'Auditor', {
      config,
      code,
      maxAccessEntriesInStack: 0,
    });
    Template.fromStack(stack).resourceCountIs('AWS::EKS::AccessEntry', 0);
    const nested = auditor.clusterAccess.nestedStacks.flatMap((ns) =>
      Object.values(Template.fromStack(ns).findResources('AWS::EKS::AccessEntry')).map(
        (r) => r.Properties.ClusterName as string,
      ),
    );
    expect(nested.sort()).toEqual(['prod', 'staging']);
  });
});

describe('EksDatadogAuditor props validation', () => {
  const cases: [string, Partial<EksDatadogAuditorProps>, RegExp][] = [
    ['a topic key without its topic', { topicKey: {} as kms.IKey }, /topicKey .*pass topic too/],
    ['subnets without a VPC', { vpcSubnets: {} }, /need vpc/],
    ['a memory size below Lambda minimum', { memorySize: 64 }, /memorySize is 64: .*128 to 10240/],
    ['a timeout beyond 15 minutes', { timeout: Duration.minutes(20) }, /timeout is 1200 s/],
    ['an address that is not one', { alertEmails: ['oncall'] }, /alertEmails has "oncall"/],
    ['the same address twice', { alertEmails: ['a@b.io', 'a@b.io'] }, /lists an address twice/],
    [
      'an email filter without values',
      { emailFilter: { drift: [] } },
      /emailFilter lists no attribute values/,
    ],
    [
      'a schedule Scheduler cannot run',
      { schedule: scheduler.ScheduleExpression.expression('every day') },
      /schedule is every day: use ScheduleExpression/,
    ],
    [
      'the topic ARN in the function configuration',
      { config: { ...config, topicArn: 'arn:aws:sns:eu-west-1:123456789012:t' } },
      /config.topicArn is set by the construct: .*topic prop/,
    ],
    ['no cluster and no discovery', { config: { clusters: [] } }, /list at least one cluster/],
    ['a negative in-stack maximum', { maxAccessEntriesInStack: -1 }, /maxAccessEntriesInStack/],
  ];

  it.each(cases)(
    'refuses %s, saying how to fix it, before creating anything',
    (_, props, message) => {
      const create = (stack: Stack) =>
        new EksDatadogAuditor(stack, 'Auditor', { config, code, ...props });
      expect(() => create(userStack())).toThrow(ConfigError);
      expect(() => create(userStack())).toThrow(message);
      const stack = userStack();
      expect(() => create(stack)).toThrow();
      const created = stack.node
        .findAll()
        .filter((c) => c.node.path.startsWith('PlatformStack/Auditor/'));
      expect(created).toEqual([]);
    },
  );
});
