import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { auditorConfigSchema, ConfigError } from '../../lambda/config/config.js';
import { AUDITOR_GROUP } from '../../lambda/collect/kube/rbac-manifest.js';
import { SCHEDULED_EVENT } from '../../infra/auditor-stack.js';
import { ACCOUNT, REGION, flat, synth, synthNamed, type Statement, type Synth } from './support.js';

const arn = (service: string, rest: string, region = REGION) =>
  `arn:aws:${service}:${region}:${ACCOUNT}:${rest}`;

function sorted(statements: Statement[]) {
  return statements
    .map((s) => ({ ...s, Action: [...s.Action].sort(), Resource: [...s.Resource].sort() }))
    .sort((a, b) => `${a.policy}${a.Sid ?? ''}`.localeCompare(`${b.policy}${b.Sid ?? ''}`));
}

describe('AuditorStack with the example configuration', () => {
  let s: Synth;
  beforeAll(() => {
    s = synthNamed('example');
  });
  const topic = () => `{${s.id(s.stack.topic)}}`;
  const archive = () => s.id(s.stack.archive);
  const fn = () => s.id(s.stack.function);

  describe('function', () => {
    // The fleet Map runs up to fleet.maxConcurrency (10) audits at once, plus one on-demand.
    it('runs Node.js 22 on arm64 with 256 MB, 5 minutes, 11 at a time, X-Ray on and its own log group', () => {
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 256,
        Timeout: 300,
        ReservedConcurrentExecutions: 11,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^FunctionLogs') } },
        Role: { 'Fn::GetAtt': [s.id(s.stack.role), 'Arn'] },
        Environment: {
          Variables: {
            AUDITOR_CONFIG: Match.absent(),
            AUDITOR_CONFIG_PARAMETER: { Ref: s.id(s.stack.configParameter) },
            AUDITOR_TOPIC_ARN: { Ref: s.id(s.stack.topic) },
            AUDITOR_ARCHIVE_BUCKET: { Ref: archive() },
            POWERTOOLS_SERVICE_NAME: 'eks-datadog-auditor',
            POWERTOOLS_METRICS_NAMESPACE: 'EksDatadogAuditor',
            MALLOC_ARENA_MAX: '2',
            NODE_OPTIONS: '--max-old-space-size=112 --max-semi-space-size=4',
          },
        },
      });
      // The audit function, and the fleet's discover and deliver steps (same bundle).
      s.template.resourceCountIs('AWS::Lambda::Function', 3);
      for (const [fnc, handler] of [
        [s.stack.discoverFunction, 'index.discoverHandler'],
        [s.stack.deliverFunction, 'index.deliverHandler'],
      ] as const) {
        expect(
          s.template.findResources('AWS::Lambda::Function')[s.id(fnc)]!.Properties.Handler,
        ).toBe(handler);
      }
    });

    it('keeps its logs 90 days', () => {
      s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    });

    it('does not retry a failed asynchronous invocation (the Errors alarm reports it once)', () => {
      s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fn() },
        MaximumRetryAttempts: 0,
      });
    });

    // The configuration moved from AUDITOR_CONFIG to an SSM parameter (no 4 KB ceiling); the
    // topic and bucket, known at deploy time, travel as their own variables.
    const parameterValue = () =>
      String(
        s.template.findResources('AWS::SSM::Parameter')[s.id(s.stack.configParameter)]!.Properties
          .Value,
      );

    it('stores the configuration the function schema accepts in an SSM parameter, without deploy', () => {
      const text = parameterValue();
      const parsed = auditorConfigSchema.parse(JSON.parse(text));
      expect(parsed.clusters.map((c) => c.name)).toEqual([
        'prod-fargate',
        'staging-fargate',
        'shared-services',
      ]);
      expect(JSON.parse(text)).not.toHaveProperty('deploy');
      s.template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Tier: 'Standard' });
    });

    it('stores a configuration the handler loads, with the stack topic and archive', async () => {
      const { loadConfig } = await import('../../lambda/config/source.js');
      const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
      const { mockClient } = await import('aws-sdk-client-mock');
      const ssm = new SSMClient({ region: REGION });
      mockClient(ssm)
        .on(GetParameterCommand, { Name: 'auditor-config' })
        .resolves({ Parameter: { Value: parameterValue() } });
      const config = await loadConfig(
        { ssm: () => ssm, s3: () => undefined as never },
        {
          AUDITOR_CONFIG_PARAMETER: 'auditor-config',
          AUDITOR_TOPIC_ARN: arn('sns', 'auditor-topic'),
          AUDITOR_ARCHIVE_BUCKET: 'auditor-archive',
        },
      );
      expect(config.region).toBe('eu-west-1');
      expect(config.topicArn).toBe(arn('sns', 'auditor-topic'));
      expect(config.archiveBucket).toBe('auditor-archive');
    });
  });

  describe('schedule', () => {
    it('runs daily at 02:00 UTC with the flexible window off, retries and a dead-letter queue', () => {
      s.template.resourceCountIs('AWS::Scheduler::Schedule', 1);
      s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 2 * * ? *)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          // The schedule starts the fleet state machine (it used to invoke the function).
          Arn: { Ref: s.id(s.stack.stateMachine) },
          RoleArn: { 'Fn::GetAtt': [s.id(s.stack.scheduleRole), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [s.id(s.stack.deadLetterQueue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
          Input: JSON.stringify(SCHEDULED_EVENT),
        },
      });
    });

    it('sends an event the handler treats as a scheduled run over every cluster', async () => {
      const { parseEvent } = await import('../../lambda/run/events.js');
      expect(parseEvent(SCHEDULED_EVENT)).toEqual({ ok: true, trigger: 'scheduled', event: {} });
    });

    it('keeps undelivered events 14 days in an encrypted queue that refuses plain HTTP', () => {
      s.template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
      });
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: s.id(s.stack.deadLetterQueue) }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ],
        },
      });
    });

    it('lets only EventBridge Scheduler of this account assume the schedule role', () => {
      s.template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
            },
          ],
        },
      });
    });

    it('grants the schedule role exactly: start the state machine, send to the dead-letter queue', () => {
      expect(sorted(s.statements(s.stack.scheduleRole)).map(({ policy: _p, ...st }) => st)).toEqual(
        [
          {
            Effect: 'Allow',
            Action: ['states:StartExecution'],
            Resource: [`{${s.id(s.stack.stateMachine)}}`],
          },
          {
            Effect: 'Allow',
            Action: ['sqs:SendMessage'],
            Resource: [`{${s.id(s.stack.deadLetterQueue)}.Arn}`],
          },
        ],
      );
    });
  });

  describe('topic', () => {
    it('is encrypted with a customer managed key that rotates', () => {
      s.template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [s.id(s.stack.topicKey), 'Arn'] },
      });
      s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('lets CloudWatch alarms use the key', () => {
      s.template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchAlarmsToUseTheKey',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
            },
          ]),
        },
      });
    });

    it('refuses publishing without TLS and lets only this account’s alarms publish as CloudWatch', () => {
      const policies = s.template.findResources('AWS::SNS::TopicPolicy');
      expect(Object.values(policies)).toHaveLength(1);
      const doc = flat(Object.values(policies)[0]!.Properties.PolicyDocument) as {
        Statement: unknown[];
      };
      expect(doc.Statement).toEqual([
        {
          Sid: 'AllowPublishThroughSSLOnly',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sns:Publish',
          Resource: topic(),
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        {
          Sid: 'AllowCloudWatchAlarmsToPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: topic(),
          Condition: {
            ArnLike: { 'aws:SourceArn': arn('cloudwatch', 'alarm:*') },
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
          },
        },
      ]);
    });

    it('subscribes each alert email with the filter policy, alarms always passing', () => {
      s.template.resourceCountIs('AWS::SNS::Subscription', 1);
      s.template.hasResourceProperties('AWS::SNS::Subscription', {
        TopicArn: { Ref: s.id(s.stack.topic) },
        Protocol: 'email',
        Endpoint: 'platform-oncall@example.com',
        FilterPolicyScope: 'MessageAttributes',
        FilterPolicy: {
          $or: [
            { drift: ['new'], maxSeverity: ['critical', 'high'] },
            { trigger: [{ exists: false }] },
          ],
        },
      });
    });
  });

  describe('archive', () => {
    it('is versioned, encrypted, private, TLS-only, aged out after 90/400 days and access-logged', () => {
      s.template.hasResourceProperties('AWS::S3::Bucket', {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'age-out-reports',
              Status: 'Enabled',
              Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
              ExpirationInDays: 400,
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            },
            {
              Id: 'expire-run-scratch',
              Prefix: 'runs/',
              Status: 'Enabled',
              ExpirationInDays: 7,
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            },
          ],
        },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: Match.stringLikeRegexp('^ArchiveAccessLogs') },
          LogFilePrefix: 'archive/',
        },
      });
    });

    it('denies requests without TLS 1.2 on both buckets', () => {
      const policies = Object.values(s.template.findResources('AWS::S3::BucketPolicy'));
      expect(policies).toHaveLength(2);
      for (const p of policies) {
        expect(p.Properties.PolicyDocument.Statement).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            expect.objectContaining({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
          ]),
        );
      }
    });

    it('delivers access logs through a bucket policy scoped to the archive', () => {
      s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: Match.anyValue(),
              Condition: {
                ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [archive(), 'Arn'] } },
                StringEquals: { 'aws:SourceAccount': ACCOUNT },
              },
            },
          ]),
        },
      });
      s.template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: [{ Id: 'expire-access-logs', Status: 'Enabled', ExpirationInDays: 400 }],
        },
        BucketEncryption: Match.anyValue(),
        PublicAccessBlockConfiguration: Match.anyValue(),
      });
    });
  });

  describe('function role', () => {
    it('may be assumed by Lambda only and carries no managed policies', () => {
      s.template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
            },
          ],
        },
        ManagedPolicyArns: Match.absent(),
        Policies: Match.arrayWith([Match.objectLike({ PolicyName: 'EksRead' })]),
      });
    });

    it('grants exactly these statements, each on the configured resources only', () => {
      const cluster = (name: string) => arn('eks', `cluster/${name}`);
      expect(sorted(s.statements(s.stack.role))).toEqual(
        sorted([
          {
            policy: 'AssumeClusterRoles',
            Sid: 'AssumeClusterRoles',
            Effect: 'Allow',
            Action: ['sts:AssumeRole'],
            Resource: ['arn:aws:iam::210987654321:role/eks-datadog-auditor-reader'],
          },
          {
            policy: 'Ec2Describe',
            Sid: 'DescribeNetworking',
            Effect: 'Allow',
            Action: [
              'ec2:DescribeInstances',
              'ec2:DescribeRouteTables',
              'ec2:DescribeSecurityGroups',
              'ec2:DescribeSubnets',
            ],
            Resource: ['*'],
          },
          {
            policy: 'EksRead',
            Sid: 'ReadClusters',
            Effect: 'Allow',
            Action: ['eks:DescribeCluster', 'eks:ListAccessEntries', 'eks:ListFargateProfiles'],
            Resource: [cluster('prod-fargate'), cluster('staging-fargate')],
          },
          {
            policy: 'EksRead',
            Sid: 'ReadFargateProfiles',
            Effect: 'Allow',
            Action: ['eks:DescribeFargateProfile'],
            Resource: [
              arn('eks', 'fargateprofile/prod-fargate/*'),
              arn('eks', 'fargateprofile/staging-fargate/*'),
            ],
          },
          {
            policy: 'EksRead',
            Sid: 'ReadAccessEntries',
            Effect: 'Allow',
            Action: ['eks:DescribeAccessEntry'],
            Resource: [
              arn('eks', 'access-entry/prod-fargate/*'),
              arn('eks', 'access-entry/staging-fargate/*'),
            ],
          },
          {
            policy: 'TokenSecretRead',
            Sid: 'ReadTokenSecrets',
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: [
              arn('secretsmanager', 'secret:datadog/cluster-agent-token-??????'),
              arn('secretsmanager', 'secret:datadog/apikey-??????'),
              arn('secretsmanager', 'secret:datadog/appkey-??????'),
              arn('secretsmanager', 'secret:datadog/staging/cluster-agent-token-??????'),
            ],
          },
          {
            policy: 'PublishReport',
            Sid: 'PublishToTopic',
            Effect: 'Allow',
            Action: ['sns:Publish'],
            Resource: [topic()],
          },
          {
            policy: 'PublishReport',
            Sid: 'EncryptForTopic',
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: [`{${s.id(s.stack.topicKey)}.Arn}`],
            Condition: { StringEquals: { 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' } },
          },
          {
            policy: 'PublishReport',
            Sid: 'ReadWriteReports',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: [`{${archive()}.Arn}/reports/*`],
          },
          {
            policy: 'PublishReport',
            Sid: 'ReadWriteRunScratch',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: [`{${archive()}.Arn}/runs/*`],
          },
          {
            policy: 'PublishReport',
            Sid: 'ListArchiveFor404',
            Effect: 'Allow',
            Action: ['s3:ListBucket'],
            Resource: [`{${archive()}.Arn}`],
          },
          {
            policy: 'WriteLogs',
            Sid: 'WriteOwnLogs',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: [`{${s.id(s.stack.auditor.functions.logGroup)}.Arn}`],
          },
          {
            policy: s.id(s.stack.role.node.findChild('DefaultPolicy')),
            Effect: 'Allow',
            Sid: 'ReadConfiguration',
            Action: ['ssm:GetParameter'],
            Resource: [
              `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/{${s.id(s.stack.configParameter)}}`,
            ],
          },
          {
            policy: s.id(s.stack.role.node.findChild('DefaultPolicy')),
            Effect: 'Allow',
            Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
            Resource: ['*'],
          },
        ]),
      );
    });

    it('is one of exactly three roles in the stack (the functions, the schedule, the state machine)', () => {
      const smRole = s.stack.stateMachine.role.node.defaultChild!;
      expect(Object.keys(s.template.findResources('AWS::IAM::Role')).sort()).toEqual(
        [s.id(s.stack.role), s.id(s.stack.scheduleRole), s.id(smRole)].sort(),
      );
      expect(Object.keys(s.template.findResources('AWS::IAM::Policy')).sort()).toEqual(
        [
          s.id(s.stack.role.node.findChild('DefaultPolicy')),
          s.id(s.stack.scheduleRole.node.findChild('DefaultPolicy')),
          s.id(s.stack.stateMachine.role.node.findChild('DefaultPolicy')),
          s.id(s.stack.stateMachine.node.findChild('DistributedMapPolicy')),
        ].sort(),
      );
    });
  });

  describe('EKS access', () => {
    it('creates a STANDARD access entry in group eks-datadog-auditor for each same-account cluster of this region', () => {
      const entries = Object.values(s.template.findResources('AWS::EKS::AccessEntry')).map(
        (r) => r.Properties,
      );
      expect(entries).toEqual(
        ['prod-fargate', 'staging-fargate'].map((name) => ({
          ClusterName: name,
          PrincipalArn: { 'Fn::GetAtt': [s.id(s.stack.role), 'Arn'] },
          Type: 'STANDARD',
          KubernetesGroups: [AUDITOR_GROUP],
        })),
      );
    });
  });

  describe('alarms', () => {
    const alarm = (props: Record<string, unknown>) =>
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...props,
        AlarmActions: [{ Ref: s.id(s.stack.topic) }],
      });

    it('alarms to the topic on any function error', () => {
      alarm({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn() } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms when no audit succeeded for 26 hours, silence counting as failure', () => {
      alarm({
        Namespace: 'EksDatadogAuditor',
        MetricName: 'AuditsSucceeded',
        Dimensions: [{ Name: 'service', Value: 'eks-datadog-auditor' }],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 26,
        DatapointsToAlarm: 26,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });

    it.each([
      ['prod-fargate', 'eu-west-1'],
      ['staging-fargate', 'eu-west-1'],
      ['shared-services', 'eu-central-1'],
    ])('alarms when cluster %s reports new critical findings (drift), not every run', (cluster) => {
      alarm({
        Namespace: 'EksDatadogAuditor',
        MetricName: 'NewCriticalFindings',
        Dimensions: [
          { Name: 'cluster', Value: cluster },
          { Name: 'service', Value: 'eks-datadog-auditor' },
        ],
        Statistic: 'Maximum',
        Period: 3600,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms when the scheduler dead-letters an invocation', () => {
      alarm({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [s.id(s.stack.deadLetterQueue), 'QueueName'] },
          },
        ],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it.each([
      ['prod-fargate', 'eu-west-1'],
      ['staging-fargate', 'eu-west-1'],
      ['shared-services', 'eu-central-1'],
    ])(
      'alarms when the audit of cluster %s is incomplete, missing data not breaching',
      (cluster) => {
        alarm({
          Namespace: 'EksDatadogAuditor',
          MetricName: 'AuditIncomplete',
          Dimensions: [
            { Name: 'cluster', Value: cluster },
            { Name: 'service', Value: 'eks-datadog-auditor' },
          ],
          Statistic: 'Maximum',
          Period: 3600,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
        });
      },
    );

    it('has no alarm on the total of criticals, which would fire every night while they persist', () => {
      expect(
        Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).map(
          (a) => a.Properties.MetricName,
        ),
      ).not.toContain('CriticalFindings');
    });

    it('has exactly these ten alarms (with the failed fleet executions)', () => {
      s.template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    });
  });

  it('outputs the function name, its role ARN, the topic and the archive bucket', () => {
    for (const name of ['FunctionName', 'FunctionRoleArn', 'TopicArn', 'ArchiveBucketName']) {
      s.template.hasOutput(name, Match.anyValue());
    }
  });
});

describe('AuditorStack with every feature configured', () => {
  let s: Synth;
  beforeAll(() => {
    s = synthNamed('full');
  });

  it('places the function in the given subnets with a security group allowing only HTTPS out', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
        SecurityGroupIds: [
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^FunctionSecurityGroup'), 'GroupId'] },
        ],
      },
    });
    s.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0123456789abcdef0',
      SecurityGroupEgress: [
        {
          CidrIp: '0.0.0.0/0',
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          Description: 'EKS API and AWS service endpoints',
        },
      ],
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('lets the function manage its VPC network interfaces, and nothing else is added for the VPC', () => {
    const vpcStatements = s
      .statements(s.stack.role)
      .filter((st) => st.policy === 'VpcNetworkInterfaces');
    expect(vpcStatements.map(({ policy: _p, ...st }) => st)).toEqual([
      {
        Sid: 'ManageVpcNetworkInterfaces',
        Effect: 'Allow',
        Action: [
          'ec2:AssignPrivateIpAddresses',
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:UnassignPrivateIpAddresses',
        ],
        Resource: ['*'],
      },
    ]);
  });

  it('reads each cluster’s token and Datadog key secrets in its region: by name with the random suffix, by ARN as given', () => {
    const secrets = s.statements(s.stack.role).find((st) => st.Sid === 'ReadTokenSecrets')!;
    expect(secrets.Resource).toEqual([
      arn('secretsmanager', 'secret:datadog/cluster-agent-token-??????'),
      arn('secretsmanager', 'secret:datadog/apikey-??????'),
      arn('secretsmanager', 'secret:datadog/appkey-??????'),
      'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:dd/token-AbCdEf',
      arn('secretsmanager', 'secret:datadog/apikey-??????', 'ap-northeast-1'),
      arn('secretsmanager', 'secret:datadog/appkey-??????', 'ap-northeast-1'),
    ]);
  });

  it('decrypts with the configured CMK only through Secrets Manager of the clusters’ regions', () => {
    const kms = s
      .statements(s.stack.role)
      .find((st) => st.Sid === 'DecryptTokenSecretsViaSecretsManager')!;
    expect(kms).toEqual({
      policy: 'TokenSecretRead',
      Sid: 'DecryptTokenSecretsViaSecretsManager',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: ['arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
      Condition: {
        StringEquals: {
          'kms:ViaService': [
            'secretsmanager.eu-west-1.amazonaws.com',
            'secretsmanager.ap-northeast-1.amazonaws.com',
          ],
        },
      },
    });
  });

  it('scopes EKS reads to the same-account clusters in their own regions', () => {
    const clusters = s.statements(s.stack.role).find((st) => st.Sid === 'ReadClusters')!;
    expect(clusters.Resource).toEqual([
      arn('eks', 'cluster/prod-fargate'),
      arn('eks', 'cluster/tokyo', 'ap-northeast-1'),
    ]);
  });

  it('creates no access entry for a cluster in another region and says how to create it', () => {
    const entries = Object.values(s.template.findResources('AWS::EKS::AccessEntry'));
    expect(entries.map((e) => e.Properties.ClusterName)).toEqual(['prod-fargate']);
    Annotations.fromStack(s.stack).hasWarning(
      '/Auditor',
      Match.stringLikeRegexp(
        'No access entry for cluster tokyo: it is in ap-northeast-1.*aws eks create-access-entry',
      ),
    );
  });

  it('subscribes every email with the same filter policy', () => {
    const subs = Object.values(s.template.findResources('AWS::SNS::Subscription')).map(
      (r) => r.Properties,
    );
    expect(subs.map((p) => p.Endpoint)).toEqual(['a@example.com', 'b@example.com']);
    for (const p of subs) {
      expect(p.FilterPolicy).toEqual({
        $or: [
          { drift: ['new'], maxSeverity: ['critical', 'high'], trigger: ['scheduled'] },
          { trigger: [{ exists: false }] },
        ],
      });
    }
  });
});

describe('AuditorStack with a small configuration', () => {
  let s: Synth;
  beforeAll(() => {
    s = synthNamed('minimal');
  });

  it('honours memory, timeout, log retention and no reserved concurrency', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Timeout: 600,
      ReservedConcurrentExecutions: Match.absent(),
      VpcConfig: {
        SecurityGroupIds: ['sg-0123456789abcdef0'],
        SubnetIds: ['subnet-0123456789abcdef0'],
      },
    });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    s.template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  it('deploys the schedule disabled, in its time zone, and without the no-success alarm', () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 6 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'DISABLED',
    });
    expect(
      Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).map(
        (a) => a.Properties.MetricName,
      ),
    ).not.toContain('AuditsSucceeded');
  });

  it('grants nothing about clusters reached through an assumed role except assuming it', () => {
    const actions = s.statements(s.stack.role).flatMap((st) => st.Action);
    expect(
      actions.filter((a) => /^(eks|secretsmanager):|^ec2:Describe(?!NetworkInterfaces)/.test(a)),
    ).toEqual([]);
    expect(
      s.statements(s.stack.role).find((st) => st.Sid === 'AssumeClusterRoles')!.Resource,
    ).toEqual(['arn:aws:iam::210987654321:role/auditor-reader']);
    s.template.resourceCountIs('AWS::EKS::AccessEntry', 0);
  });

  it('creates no subscription without alert emails', () => {
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('AuditorStack validation', () => {
  it('synthesizes without an environment (account and region resolved at deploy time)', () => {
    const s = synth({ clusters: [{ name: 'prod' }] }, { env: false });
    s.template.resourceCountIs('AWS::EKS::AccessEntry', 1);
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
  });

  // The 4 KB environment ceiling is gone (the configuration is an SSM parameter); what an
  // 8 KB parameter cannot hold even compressed still fails synth, pointing at discover.
  it('fails synth when the configuration would not fit an SSM parameter even compressed', () => {
    const clusters = Array.from({ length: 400 }, (_, i) => ({
      name: `c${(i * 7919).toString(36)}${Math.sin(i).toString(36).slice(3, 40)}`,
      roleArn: `arn:aws:iam::${String(100000000000 + i * 977)}:role/r${Math.cos(i).toString(36).slice(3, 30)}`,
    }));
    expect(() => synth({ clusters })).toThrow(ConfigError);
    expect(() => synth({ clusters })).toThrow(/list the clusters with discover/);
  });
});
