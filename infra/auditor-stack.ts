import { fileURLToPath } from 'node:url';
import {
  Annotations,
  ArnFormat,
  Aws,
  CfnOutput,
  Duration,
  Fn,
  Stack,
  TimeZone,
  Token,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  ARCHIVE_BUCKET_ENV,
  CONFIG_PARAMETER_ENV,
  TOPIC_ARN_ENV,
} from '../lambda/config-source.js';
import { settingsFor } from '../lambda/config.js';
import { RUNS_PREFIX } from '../lambda/fleet/run.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../lambda/observability.js';
import { AUDITOR_GROUP } from '../lambda/rbac-manifest.js';
import { ARCHIVE_PREFIX } from '../lambda/report/archive.js';
import {
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  EXTERNAL_MODULES,
  HANDLER_ENTRY,
  lambdaNodeOptions,
} from './bundling.js';
import { functionConfigOf, type DeploymentConfig } from './config.js';
import { noSuccessWindow } from './schedule-window.js';
import { configParameter, FleetStateMachine } from './fleet.js';

/** Where the archive keeps reports; the function may read and write nothing else in the bucket. */
export const REPORTS_PREFIX = ARCHIVE_PREFIX;
export const POWERTOOLS_SERVICE_NAME = SERVICE_NAME;
export { METRICS_NAMESPACE };
/**
 * Powertools Metrics adds a `service` dimension to every EMF metric (POWERTOOLS_SERVICE_NAME), so
 * the alarms must name it too: CloudWatch matches metrics by their exact dimension set.
 */
export const METRICS_DIMENSIONS = { service: POWERTOOLS_SERVICE_NAME };
/**
 * Count 1 per run that completed (archived and published, whatever it found), emitted by the
 * handler with only the default `service` dimension: the no-successful-audit alarm watches it.
 */
export const METRIC_AUDITS_SUCCEEDED = 'AuditsSucceeded';
/** Failing findings of severity critical, per cluster (dimensions service + cluster). */
export const METRIC_CRITICAL_FINDINGS = METRIC.CriticalFindings;
export const METRIC_NEW_CRITICAL_FINDINGS = METRIC.NewCriticalFindings;
/** Above this many clusters the drift alarms watch the fleet-wide series instead of each cluster. */
export const PER_CLUSTER_ALARMS_MAX = 25;
/**
 * What the schedule sends the function: an EventBridge Scheduler envelope, which the handler's
 * parseEvent treats as a scheduled run over every cluster (an on-demand event would be validated).
 */
export const SCHEDULED_EVENT = { source: 'aws.scheduler', 'detail-type': 'Scheduled Event' };

/** Feature flags the app (and the tests) synthesize with. */
export const AUDITOR_APP_CONTEXT = {
  // Access logs are delivered through a bucket policy, not ACLs (the buckets disable ACLs).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface AuditorStackProps extends StackProps {
  /** Validated configuration (parseDeploymentConfig / loadDeploymentConfig). */
  config: DeploymentConfig;
  /** Handler source. Default: lambda/handler.ts of this repository. */
  entry?: string;
}

/** One configured cluster, as IAM and EKS see it. */
export interface ClusterPlan {
  name: string;
  /** The cluster's region: its own, the config's, else the stack's. */
  region: string;
  /** Cross-account (or separate) role the function assumes for everything about this cluster. */
  roleArn?: string;
  tokenSecretId: string;
  /** Secrets Manager secrets of the Datadog API and application keys (config or defaults). */
  keySecretIds: string[];
  /** An access entry is created (same account, same region as the stack, enabled in config). */
  accessEntry: boolean;
}

function keySecretIdsOf(settings: ReturnType<typeof settingsFor>): string[] {
  return [settings.apiKeySecretId, settings.appKeySecretId].filter(
    (id): id is string => id !== undefined,
  );
}

export function planClusters(config: DeploymentConfig, stackRegion: string): ClusterPlan[] {
  return config.clusters.map((cluster) => {
    const explicitRegion = cluster.region ?? config.region;
    const region = explicitRegion ?? stackRegion;
    const sameRegion =
      explicitRegion === undefined ||
      (!Token.isUnresolved(stackRegion) && explicitRegion === stackRegion);
    return {
      name: cluster.name,
      region,
      ...(cluster.roleArn ? { roleArn: cluster.roleArn } : {}),
      tokenSecretId: settingsFor(config, cluster).tokenSecretId,
      keySecretIds: keySecretIdsOf(settingsFor(config, cluster)),
      accessEntry: config.deploy.createAccessEntries && !cluster.roleArn && sameRegion,
    };
  });
}

/**
 * The scheduled auditor: function, schedule, topic, archive, least-privilege role, EKS access
 * entries and alarms. Clusters with a roleArn are reached only through that role: the function's
 * own role gets sts:AssumeRole on it and nothing else for that cluster.
 */
export class AuditorStack extends Stack {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly archive: s3.Bucket;
  readonly deadLetterQueue: sqs.Queue;
  readonly scheduleRole: iam.Role;
  readonly clusters: ClusterPlan[];
  /** The fleet run: discover -> Map(audit one cluster) -> deliver. */
  readonly stateMachine: sfn.StateMachine;
  readonly discoverFunction: NodejsFunction;
  readonly deliverFunction: NodejsFunction;
  /** The functions' configuration (AUDITOR_CONFIG_PARAMETER). */
  readonly configParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: AuditorStackProps) {
    super(scope, id, props);
    const { config } = props;
    const deploy = config.deploy;
    this.clusters = planClusters(config, this.region);
    const direct = this.clusters.filter((c) => !c.roleArn);

    // --- topic ----------------------------------------------------------------------------------
    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the eks-datadog-auditor SNS topic',
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarm notifications to the encrypted topic as a service.
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'EKS Datadog auditor',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, which is what let same-account alarms publish.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    deploy.alertEmails.forEach((email, i) => {
      new sns.CfnSubscription(this, `EmailSubscription${i}`, {
        topicArn: this.topic.topicArn,
        protocol: 'email',
        endpoint: email,
        ...(deploy.emailFilter
          ? {
              filterPolicyScope: 'MessageAttributes',
              filterPolicy: emailFilterPolicy(deploy.emailFilter),
            }
          : {}),
      });
    });

    // --- archive --------------------------------------------------------------------------------
    const accessLogs = new s3.Bucket(this, 'ArchiveAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(400) }],
    });
    this.archive = new s3.Bucket(this, 'Archive', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'age-out-reports',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) },
          ],
          expiration: Duration.days(400),
          // latest.json is overwritten every run: its old versions need not outlive a month.
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        {
          // Cluster lists and per-cluster reports passed between the fleet steps of one run.
          id: 'expire-run-scratch',
          prefix: RUNS_PREFIX,
          expiration: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
    });

    // --- function -------------------------------------------------------------------------------
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: deploy.logRetentionDays as logs.RetentionDays,
    });
    this.role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'eks-datadog-auditor: read-only audit of EKS clusters, publishes its report',
      inlinePolicies: this.inlinePolicies(config, direct, logGroup),
    });

    // The configuration lives in SSM, not in the environment: no cluster-count ceiling from 4 KB.
    this.configParameter = configParameter(this, 'Config', functionConfigOf(config));
    // GetParameter only (grantRead would add GetParameters, GetParameterHistory, Describe...).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadConfiguration',
        actions: ['ssm:GetParameter'],
        resources: [this.configParameter.parameterArn],
      }),
    );
    let vpcProps: Partial<lambda.FunctionProps> = {};
    if (deploy.vpc) {
      const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: deploy.vpc.vpcId,
        // Subnets are given by id, so the AZs are never consulted; a literal list would need a context lookup at synth.
        availabilityZones: Fn.getAzs(),
      });
      const securityGroups = deploy.vpc.securityGroupIds
        ? deploy.vpc.securityGroupIds.map((sgId, i) =>
            ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, sgId),
          )
        : [this.httpsOnlySecurityGroup(vpc)];
      Validations.of(vpc).acknowledge({
        id: '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
        reason: 'The function gets its subnets by id; nothing selects subnets of this VPC by zone.',
      });
      const subnets = deploy.vpc.subnetIds.map((subnetId, i) => {
        const subnet = ec2.Subnet.fromSubnetId(this, `Subnet${i}`, subnetId);
        Validations.of(subnet).acknowledge({
          id: '@aws-cdk/aws-ec2:noSubnetRouteTableId',
          reason: 'Nothing in this stack reads the route tables of the function subnets.',
        });
        return subnet;
      });
      vpcProps = { vpc, vpcSubnets: { subnets }, securityGroups };
    }

    const environment = {
      [CONFIG_PARAMETER_ENV]: this.configParameter.parameterName,
      [TOPIC_ARN_ENV]: this.topic.topicArn,
      [ARCHIVE_BUCKET_ENV]: this.archive.bucketName,
    };
    const fleet = config.fleet;
    this.function = this.auditorFunction('Function', {
      description: 'Audits Datadog on EKS Fargate: collects, checks, reports (eks-datadog-auditor)',
      handler: 'handler',
      memorySize: deploy.memoryMb,
      timeout: Duration.seconds(deploy.timeoutSeconds),
      // The Map runs up to maxConcurrency audits at once, plus one on-demand invocation.
      reserved: deploy.reservedConcurrency !== null ? fleet.maxConcurrency + 1 : null,
      logGroup,
      environment,
      entry: props.entry,
      vpcProps,
    });
    this.discoverFunction = this.auditorFunction('DiscoverFunction', {
      description: 'eks-datadog-auditor fleet run, step 1: lists the clusters of this run',
      handler: 'discoverHandler',
      memorySize: 256,
      timeout: Duration.minutes(5),
      reserved: null,
      logGroup,
      environment,
      entry: props.entry,
      vpcProps: {},
    });
    this.deliverFunction = this.auditorFunction('DeliverFunction', {
      description: 'eks-datadog-auditor fleet run, last step: drift, archive, publish, metrics',
      handler: 'deliverHandler',
      memorySize: Math.max(deploy.memoryMb, 512),
      timeout: Duration.minutes(15),
      // Runs never deliver at once: the drift diff reads and writes each cluster's latest.json.
      reserved: deploy.reservedConcurrency,
      logGroup,
      environment,
      entry: props.entry,
      vpcProps: {},
    });
    const fleetRun = new FleetStateMachine(this, 'Fleet', {
      discover: this.discoverFunction,
      audit: this.function,
      deliver: this.deliverFunction,
      archive: this.archive,
      fleet,
      logRetentionDays: deploy.logRetentionDays as logs.RetentionDays,
    });
    this.stateMachine = fleetRun.stateMachine;

    // --- schedule -------------------------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // Our own role (instead of the target's implicit one) so its one finding can be acknowledged.
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: 'EventBridge Scheduler starts the eks-datadog-auditor state machine',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    });
    new scheduler.Schedule(this, 'Schedule', {
      description: 'Runs the eks-datadog-auditor audit',
      schedule: scheduler.ScheduleExpression.expression(
        deploy.schedule.expression,
        TimeZone.of(deploy.schedule.timezone),
      ),
      timeWindow: scheduler.TimeWindow.off(),
      enabled: deploy.schedule.enabled,
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject(SCHEDULED_EVENT),
        role: this.scheduleRole,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });

    // --- EKS access -----------------------------------------------------------------------------
    for (const cluster of this.clusters) {
      if (cluster.accessEntry) {
        new eks.CfnAccessEntry(this, `AccessEntry-${cluster.name}`, {
          clusterName: cluster.name,
          principalArn: this.role.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [AUDITOR_GROUP],
        });
      } else if (!cluster.roleArn && deploy.createAccessEntries) {
        Annotations.of(this).addWarningV2(
          'eks-datadog-auditor:access-entry-region',
          `No access entry for cluster ${cluster.name}: it is in ${cluster.region}, not this stack's region. Create it there: aws eks create-access-entry --cluster-name ${cluster.name} --region ${cluster.region} --principal-arn <FunctionRoleArn output> --kubernetes-groups ${AUDITOR_GROUP}`,
        );
      }
    }

    this.createAlarms(deploy);
    this.acknowledgeFindings(deploy, direct);

    new CfnOutput(this, 'FunctionName', { value: this.function.functionName });
    new CfnOutput(this, 'FunctionRoleArn', {
      value: this.role.roleArn,
      description: `Map this role to Kubernetes group ${AUDITOR_GROUP} (access entry or aws-auth)`,
    });
    new CfnOutput(this, 'TopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: "aws stepfunctions start-execution --state-machine-arn <this> --input '{}'",
    });
    new CfnOutput(this, 'ArchiveBucketName', { value: this.archive.bucketName });
  }

  /** One of the auditor's functions: the same bundle, another handler export. */
  private auditorFunction(
    id: string,
    opts: {
      description: string;
      handler: string;
      memorySize: number;
      timeout: Duration;
      reserved: number | null;
      logGroup: logs.ILogGroup;
      environment: Record<string, string>;
      entry: string | undefined;
      vpcProps: Partial<lambda.FunctionProps>;
    },
  ): NodejsFunction {
    return new NodejsFunction(this, id, {
      description: opts.description,
      entry: opts.entry ?? `${REPO_ROOT}${HANDLER_ENTRY}`,
      handler: opts.handler,
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: opts.memorySize,
      timeout: opts.timeout,
      ...(opts.reserved !== null ? { reservedConcurrentExecutions: opts.reserved } : {}),
      // A failed nightly audit raises the Errors alarm; an automatic rerun could email twice.
      retryAttempts: 0,
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: opts.logGroup,
      environment: {
        ...opts.environment,
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Heap limits sized to the memory (see lambdaNodeOptions); no --enable-source-maps.
        NODE_OPTIONS: lambdaNodeOptions(opts.memorySize),
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: ESBUILD_TARGET,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        externalModules: EXTERNAL_MODULES,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // NodejsFunction's esbuild call cannot run plugins; the shared build (plugins included,
          // the bundle the benchmark measures) replaces its output with the same entry and options.
          afterBundling: (inputDir: string, outputDir: string) => [
            `cd "${inputDir}" && npx tsx infra/build-bundle.ts "${outputDir}"`,
          ],
        },
      },
      ...opts.vpcProps,
    });
  }

  private inlinePolicies(
    config: DeploymentConfig,
    direct: ClusterPlan[],
    logGroup: logs.LogGroup,
  ): Record<string, iam.PolicyDocument> {
    const policies: Record<string, iam.PolicyDocument> = {};
    const eksArn = (c: ClusterPlan, resource: string, suffix = '') =>
      this.eksArn(c, resource, suffix);

    if (direct.length > 0) {
      policies.EksRead = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'ReadClusters',
            actions: ['eks:DescribeCluster', 'eks:ListAccessEntries', 'eks:ListFargateProfiles'],
            resources: direct.map((c) => eksArn(c, 'cluster')),
          }),
          new iam.PolicyStatement({
            sid: 'ReadFargateProfiles',
            actions: ['eks:DescribeFargateProfile'],
            resources: direct.map((c) => eksArn(c, 'fargateprofile', '/*')),
          }),
          new iam.PolicyStatement({
            sid: 'ReadAccessEntries',
            actions: ['eks:DescribeAccessEntry'],
            resources: direct.map((c) => eksArn(c, 'access-entry', '/*')),
          }),
        ],
      });
      policies.Ec2Describe = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'DescribeNetworking',
            actions: [
              'ec2:DescribeInstances',
              'ec2:DescribeRouteTables',
              'ec2:DescribeSecurityGroups',
              'ec2:DescribeSubnets',
            ],
            resources: ['*'],
          }),
        ],
      });
      const secretStatements = [
        new iam.PolicyStatement({
          sid: 'ReadTokenSecrets',
          actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          resources: unique(
            direct.flatMap((c) =>
              [c.tokenSecretId, ...c.keySecretIds].map((id) => this.secretArn(c.region, id)),
            ),
          ),
        }),
      ];
      if (config.deploy.tokenSecretKmsKeyArns.length > 0) {
        secretStatements.push(
          new iam.PolicyStatement({
            sid: 'DecryptTokenSecretsViaSecretsManager',
            actions: ['kms:Decrypt'],
            resources: config.deploy.tokenSecretKmsKeyArns,
            conditions: {
              StringEquals: {
                'kms:ViaService': unique(
                  direct.map((c) => `secretsmanager.${c.region}.amazonaws.com`),
                ),
              },
            },
          }),
        );
      }
      policies.TokenSecretRead = new iam.PolicyDocument({ statements: secretStatements });
    }

    const assumedRoles = unique(this.clusters.flatMap((c) => (c.roleArn ? [c.roleArn] : [])));
    if (assumedRoles.length > 0) {
      policies.AssumeClusterRoles = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AssumeClusterRoles',
            actions: ['sts:AssumeRole'],
            resources: assumedRoles,
          }),
        ],
      });
    }

    policies.PublishReport = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'PublishToTopic',
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
        }),
        new iam.PolicyStatement({
          sid: 'EncryptForTopic',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [this.topicKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sns.${this.region}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          sid: 'ReadWriteReports',
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [this.archive.arnForObjects(`${REPORTS_PREFIX}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ReadWriteRunScratch',
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [this.archive.arnForObjects(`${RUNS_PREFIX}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ListArchiveFor404',
          actions: ['s3:ListBucket'],
          resources: [this.archive.bucketArn],
        }),
      ],
    });

    if (config.securityHub?.enabled) {
      policies.SecurityHubImport = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'ImportFindingsToDefaultProduct',
            actions: ['securityhub:BatchImportFindings'],
            resources: [this.securityHubProductArn()],
          }),
        ],
      });
    }
    if (config.datadog) {
      policies.DatadogApiKeyRead = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'ReadDatadogApiKey',
            actions: ['secretsmanager:GetSecretValue'],
            resources: [this.stackSecretArn(config.datadog.apiKeySecret)],
          }),
        ],
      });
    }
    const discover = config.discover;
    if (discover) {
      const roleName = discover.organization?.roleName ?? discover.roleName;
      const statements = [
        new iam.PolicyStatement({
          sid: 'AssumeReaderRoles',
          actions: ['sts:AssumeRole'],
          resources: (discover.accounts ?? ['*']).map(
            (account) => `arn:${Aws.PARTITION}:iam::${account}:role/${roleName}`,
          ),
        }),
      ];
      if (discover.organization) {
        statements.push(
          new iam.PolicyStatement({
            sid: 'ListOrganizationAccounts',
            actions: ['organizations:ListAccounts', 'organizations:ListAccountsForParent'],
            resources: ['*'],
          }),
        );
      }
      policies.DiscoverClusters = new iam.PolicyDocument({ statements });
    }

    policies.WriteLogs = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'WriteOwnLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      ],
    });

    if (config.deploy.vpc) {
      policies.VpcNetworkInterfaces = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'ManageVpcNetworkInterfaces',
            actions: [
              'ec2:AssignPrivateIpAddresses',
              'ec2:CreateNetworkInterface',
              'ec2:DeleteNetworkInterface',
              'ec2:DescribeNetworkInterfaces',
              'ec2:UnassignPrivateIpAddresses',
            ],
            resources: ['*'],
          }),
        ],
      });
    }
    return policies;
  }

  private eksArn(c: ClusterPlan, resource: string, suffix = ''): string {
    return this.formatArn({
      service: 'eks',
      region: c.region,
      resource,
      resourceName: `${c.name}${suffix}`,
    });
  }

  /** The account's default Security Hub product in the stack's region (custom integrations). */
  private securityHubProductArn(): string {
    return this.formatArn({
      service: 'securityhub',
      resource: 'product',
      resourceName: `${this.account}/default`,
    });
  }

  /** A secret of the stack's region, by id (any of AWS's suffixes) or by ARN. */
  private stackSecretArn(idOrArn: string): string {
    if (idOrArn.startsWith('arn:')) return idOrArn;
    return this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${idOrArn}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** A secret named by id gets AWS's random 6-character suffix; an ARN is taken as given. */
  private secretArn(region: string, secretId: string): string {
    if (secretId.startsWith('arn:')) return secretId;
    return this.formatArn({
      service: 'secretsmanager',
      region,
      resource: 'secret',
      resourceName: `${secretId}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private httpsOnlySecurityGroup(vpc: ec2.IVpc): ec2.SecurityGroup {
    const sg = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc,
      description: 'eks-datadog-auditor: HTTPS out to the EKS API and AWS endpoints, nothing in',
      allowAllOutbound: false,
    });
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'EKS API and AWS service endpoints');
    return sg;
  }

  /**
   * The new-criticals and audit-incomplete alarms: one per cluster while the stack lists at most
   * {@link PER_CLUSTER_ALARMS_MAX} clusters (the alarm names the cluster), else one of each over the
   * fleet-wide series the handler also emits (the email and the metric's cluster dimension name
   * it): 2 alarms per cluster would pass CloudFormation's 500 resources near 250 clusters.
   */
  private driftAlarms(
    metric: (name: string, statistic: string, extra?: Record<string, string>) => cloudwatch.Metric,
  ): cloudwatch.Alarm[] {
    const alarm = (id: string, description: string, m: cloudwatch.Metric) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric: m,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    if (this.clusters.length > PER_CLUSTER_ALARMS_MAX) {
      return [
        alarm(
          'CriticalFindingsAlarm',
          'The last audit of at least one cluster found new critical findings (not failing in the run before): the report email names the cluster; the NewCriticalFindings metric per cluster dimension shows which.',
          metric(METRIC_NEW_CRITICAL_FINDINGS, 'Maximum'),
        ),
        alarm(
          'AuditIncompleteAlarm',
          'The last audit of at least one cluster was incomplete: some data could not be collected or some checks could not run (the report email lists why; the AuditIncomplete metric per cluster dimension shows which).',
          metric(METRIC.AuditIncomplete, 'Maximum'),
        ),
      ];
    }
    return this.clusters.flatMap((c) => [
      alarm(
        `CriticalFindingsAlarm-${regionId(c.region)}-${c.name}`,
        `The last audit of cluster ${c.name} (${c.region}) found new critical findings (not failing in the run before): read the report email or the archive.`,
        metric(METRIC_NEW_CRITICAL_FINDINGS, 'Maximum', { cluster: c.name }),
      ),
      alarm(
        `AuditIncompleteAlarm-${regionId(c.region)}-${c.name}`,
        `The last audit of cluster ${c.name} (${c.region}) was incomplete: some data could not be collected or some checks could not run (the report email lists why).`,
        metric(METRIC.AuditIncomplete, 'Maximum', { cluster: c.name }),
      ),
    ]);
  }

  private createAlarms(deploy: DeploymentConfig['deploy']): void {
    const action = new cwActions.SnsAction(this.topic);
    const metric = (metricName: string, statistic: string, extra: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { ...METRICS_DIMENSIONS, ...extra },
        statistic,
        period: Duration.hours(1),
      });
    const alarms = [
      new cloudwatch.Alarm(this, 'FunctionErrorsAlarm', {
        alarmDescription:
          'The auditor function failed (see its log group); the audit did not complete.',
        metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      // New criticals, not all criticals: persisting ones would re-alarm every run. An incomplete
      // audit is 1 in every run until it clears. No datapoint means no run, which the
      // no-successful-audit alarm covers: not breaching here.
      ...this.driftAlarms(metric),
      new cloudwatch.Alarm(this, 'FleetExecutionsFailedAlarm', {
        alarmDescription:
          'A fleet audit execution failed (Step Functions): discovery or delivery did not complete; see the execution history.',
        metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'ScheduleDeadLetterAlarm', {
        alarmDescription:
          'The scheduler could not invoke the auditor; the undelivered events are in the dead-letter queue.',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    // Without a schedule nothing is due, so silence is not a failure. The window follows the
    // schedule (infra/schedule-window.ts): a weekly schedule must not sit in ALARM between runs.
    const window = noSuccessWindow(deploy.schedule.expression, deploy.schedule.timezone);
    if (deploy.schedule.enabled && window.hours !== undefined) {
      alarms.push(
        new cloudwatch.Alarm(this, 'NoSuccessfulAuditAlarm', {
          alarmDescription: `No audit has succeeded in ${window.hours} hours (the longest gap of schedule ${deploy.schedule.expression} plus grace), or a cluster could not be audited at all: the schedule, the function, its permissions or its access to a cluster are broken.`,
          metric: metric(METRIC_AUDITS_SUCCEEDED, 'Sum'),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: window.hours,
          datapointsToAlarm: window.hours,
          // No datapoint means no audit succeeded in that hour.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
    } else if (deploy.schedule.enabled && window.hours === undefined) {
      Annotations.of(this).addWarningV2(
        'eks-datadog-auditor:no-success-alarm',
        `No no-successful-audit alarm for schedule ${deploy.schedule.expression}: ${window.reason}. The function-error, dead-letter and audit-incomplete alarms still apply; schedule at least every 6 days to get it.`,
      );
    }
    for (const alarm of alarms) alarm.addAlarmAction(action);
  }

  /**
   * cdk-nag findings this design accepts, each acknowledged on the exact resource string it is
   * about (AwsSolutions-IAM5[Resource::...]), so a new wildcard anywhere still fails synth.
   */
  private acknowledgeFindings(deploy: DeploymentConfig['deploy'], direct: ClusterPlan[]): void {
    const role = Validations.of(this.role);
    const wildcardReasons: string[] = [];
    if (direct.length > 0) {
      wildcardReasons.push(
        'ec2:DescribeSecurityGroups, DescribeSubnets, DescribeRouteTables and DescribeInstances do not support resource-level permissions (Service Authorization Reference), so they need Resource "*"; they only read.',
      );
    }
    if (deploy.vpc) {
      wildcardReasons.push(
        'The network-interface actions Lambda needs to attach the function to the VPC (the set in AWSLambdaVPCAccessExecutionRole) act on interfaces Lambda creates at runtime, whose ids cannot be known in advance.',
      );
    }
    if (wildcardReasons.length > 0) {
      role.acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: wildcardReasons.join(' ') });
    }
    for (const c of direct) {
      role.acknowledge(
        {
          id: `AwsSolutions-IAM5[${nagResource(this, this.eksArn(c, 'fargateprofile', '/*'))}]`,
          reason: `eks:DescribeFargateProfile on cluster ${c.name} only; "*" stands for the profile names the auditor discovers with ListFargateProfiles.`,
        },
        {
          id: `AwsSolutions-IAM5[${nagResource(this, this.eksArn(c, 'access-entry', '/*'))}]`,
          reason: `eks:DescribeAccessEntry on cluster ${c.name} only; "*" stands for the access-entry ids the auditor discovers with ListAccessEntries.`,
        },
      );
    }
    role.acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(this, this.archive.arnForObjects(`${REPORTS_PREFIX}*`))}]`,
      reason: `Reports are dated objects under ${REPORTS_PREFIX} of the auditor's own archive bucket, named per run; the function may read and write that prefix only.`,
    });
    // Tracing puts its statement in the role's default policy.
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which do not support resource-level permissions.',
    });
    for (const fn of [this.function, this.discoverFunction, this.deliverFunction]) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is the runtime the code is built for (esbuild target node22) and tested on (the `node` devDependency); move to a newer runtime together with those.',
      });
    }
    role.acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(this, this.archive.arnForObjects(`${RUNS_PREFIX}*`))}]`,
      reason: `The fleet steps pass each run's cluster list and per-cluster reports under ${RUNS_PREFIX}<runId>/ of the auditor's own archive bucket; run ids are only known at run time.`,
    });
    this.acknowledgeStateMachine();
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the EventBridge Scheduler schedule; a queue behind it would hold what nobody reads.',
    });
    Validations.of(this.node.findChild('ArchiveAccessLogs')).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server-access-log bucket of the archive; logging its own access would only log the log deliveries.',
    });
  }
  /**
   * The state machine's policies are written by CDK (task grants, Distributed Map, logs, X-Ray).
   * Each wildcard resource is acknowledged exactly, with the reason for its actions.
   */
  private acknowledgeStateMachine(): void {
    const fnNames = new Map(
      [this.function, this.discoverFunction, this.deliverFunction].map((fn) => [
        nagResource(this, `${fn.functionArn}:*`),
        fn.node.id,
      ]),
    );
    const policies = this.stateMachine.node
      .findAll()
      .filter((c): c is iam.Policy => c instanceof iam.Policy);
    for (const policy of policies) {
      const doc = this.resolve(policy.document.toJSON()) as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      };
      const acks = new Map<string, string>();
      for (const statement of doc.Statement) {
        const actions = [statement.Action].flat();
        for (const resource of [statement.Resource].flat()) {
          const id = nagResource(this, resource as string);
          if (!id.includes('*')) continue;
          acks.set(id, wildcardReason(actions, fnNames.get(id)));
        }
      }
      for (const [id, reason] of acks) {
        Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
      }
    }
  }
}

/** Why a wildcard in a CDK-written state machine statement is acceptable, by its actions. */
function wildcardReason(actions: string[], functionId: string | undefined): string {
  if (functionId) {
    return `lambda:InvokeFunction on the auditor's ${functionId} only: CDK's LambdaInvoke grant adds its qualified ARNs (function:version/alias) beside the unqualified one.`;
  }
  if (actions.some((a) => a.startsWith('states:'))) {
    return 'The Distributed Map starts, describes and stops child executions of this state machine only; their names are generated per run.';
  }
  if (actions.includes('s3:GetObject')) {
    return "The Distributed Map reads the cluster list the discover step wrote under runs/<runId>/ of the auditor's own archive bucket; the key is known only at run time.";
  }
  return 'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs delivery (logs:CreateLogDelivery, ...) do not support resource-level permissions.';
}

/**
 * SNS filter policy for report emails. The second branch lets through anything without a
 * `trigger` attribute: CloudWatch alarm notifications carry no attributes and must never be
 * filtered out, while every report the handler publishes carries one.
 */
export function emailFilterPolicy(
  filter: NonNullable<DeploymentConfig['deploy']['emailFilter']>,
): Record<string, unknown> {
  const reportBranch: Record<string, string[]> = {};
  for (const [attribute, values] of Object.entries(filter)) {
    if (values) reportBranch[attribute] = [...values];
  }
  return { $or: [reportBranch, { trigger: [{ exists: false }] }] };
}

/** A region for construct ids, which may not hold tokens (env-agnostic stacks). */
function regionId(region: string): string {
  return Token.isUnresolved(region) ? 'stack-region' : region;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** How cdk-nag names a resource in an IAM5 finding (its flattenCfnReference), for acknowledgments. */
export function nagResource(stack: Stack, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const n = node as Record<string, unknown>;
    if (n['Fn::Join']) {
      const [delimiter, items] = n['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (n['Fn::GetAtt']) {
      const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (n['Ref']) return `<${visit(n['Ref'])}>`;
    return JSON.stringify(node);
  };
  return `Resource::${visit(stack.resolve(value))}`;
}
