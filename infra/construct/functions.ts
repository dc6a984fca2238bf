import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  ARCHIVE_BUCKET_ENV,
  CONFIG_PARAMETER_ENV,
  TOPIC_ARN_ENV,
} from '../../lambda/config/source.js';
import type { AuditorConfig } from '../../lambda/config/config.js';
import { RUNS_PREFIX } from '../../lambda/run/fleet/run.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/deliver/observability.js';
import { ARCHIVE_PREFIX } from '../../lambda/deliver/archive.js';
import { LAMBDA_PROCESS_ENV, lambdaNodeOptions } from '../bundling.js';
import { configParameter } from '../fleet.js';
import { groupingLayer } from './logical-ids.js';
import { eksArn, eksReadScopes, nagResource, type ClusterPlan } from './plan.js';
import { functionPolicies } from './policies.js';

export interface FunctionsProps {
  /** The functions' configuration, validated (stored in an SSM parameter they read). */
  config: AuditorConfig;
  clusters: ClusterPlan[];
  topic: sns.ITopic;
  topicKey?: kms.IKey;
  archive: s3.IBucket;
  code: lambda.Code;
  memorySize: number;
  timeout: Duration;
  reserveConcurrency: boolean;
  logRetention: logs.RetentionDays;
  vpc?: ec2.IVpc;
  vpcSubnets?: ec2.SubnetSelection;
  securityGroups?: ec2.ISecurityGroup[];
  tokenSecretKeys: kms.IKey[];
}

/**
 * The auditor's three functions (audit one cluster or a whole direct run; discover; deliver),
 * one code asset and one least-privilege role for all three, their log group and configuration.
 */
export class Functions extends Construct {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly configParameter: ssm.StringParameter;
  /** Audits (direct runs and each Map iteration of the fleet run). */
  readonly audit: lambda.Function;
  readonly discover: lambda.Function;
  readonly deliver: lambda.Function;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    groupingLayer(this);
    this.logGroup = new logs.LogGroup(this, 'FunctionLogs', { retention: props.logRetention });
    this.role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'eks-datadog-auditor: read-only audit of EKS clusters, publishes its report',
      inlinePolicies: functionPolicies(this, { ...props, logGroup: this.logGroup }),
    });

    // The configuration lives in SSM, not in the environment: no cluster-count ceiling from 4 KB.
    this.configParameter = configParameter(this, 'Config', props.config);
    // GetParameter only (grantRead would add GetParameters, GetParameterHistory, Describe...).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadConfiguration',
        actions: ['ssm:GetParameter'],
        resources: [this.configParameter.parameterArn],
      }),
    );

    const vpcProps: Partial<lambda.FunctionProps> = props.vpc
      ? {
          vpc: props.vpc,
          ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}),
          securityGroups: props.securityGroups ?? [this.httpsOnlySecurityGroup(props.vpc)],
        }
      : {};
    const environment = {
      [CONFIG_PARAMETER_ENV]: this.configParameter.parameterName,
      [TOPIC_ARN_ENV]: props.topic.topicArn,
      [ARCHIVE_BUCKET_ENV]: props.archive.bucketName,
    };
    const common = { code: props.code, environment, logGroup: this.logGroup };
    const fleet = props.config.fleet;
    this.audit = this.fn('Function', common, {
      description: 'Audits Datadog on EKS Fargate: collects, checks, reports (eks-datadog-auditor)',
      handler: 'handler',
      memorySize: props.memorySize,
      timeout: props.timeout,
      // The Map runs up to maxConcurrency audits at once, plus one on-demand invocation.
      ...(props.reserveConcurrency
        ? { reservedConcurrentExecutions: fleet.maxConcurrency + 1 }
        : {}),
      ...vpcProps,
    });
    this.discover = this.fn('DiscoverFunction', common, {
      description: 'eks-datadog-auditor fleet run, step 1: lists the clusters of this run',
      handler: 'discoverHandler',
      memorySize: 256,
      timeout: Duration.minutes(5),
    });
    this.deliver = this.fn('DeliverFunction', common, {
      description: 'eks-datadog-auditor fleet run, last step: drift, archive, publish, metrics',
      handler: 'deliverHandler',
      memorySize: Math.max(props.memorySize, 512),
      timeout: Duration.minutes(15),
      // Runs never deliver at once: the drift diff reads and writes each cluster's latest.json.
      ...(props.reserveConcurrency ? { reservedConcurrentExecutions: 1 } : {}),
    });
    this.acknowledgeFindings(props);
  }

  /** One of the auditor's functions: the same code asset, another handler export. */
  private fn(
    id: string,
    common: { code: lambda.Code; environment: Record<string, string>; logGroup: logs.ILogGroup },
    opts: Omit<lambda.FunctionProps, 'code' | 'runtime' | 'handler'> & {
      handler: string;
      memorySize: number;
    },
  ): lambda.Function {
    return new lambda.Function(this, id, {
      ...opts,
      code: common.code,
      handler: `index.${opts.handler}`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      // A failed nightly audit raises the Errors alarm; an automatic rerun could email twice.
      retryAttempts: 0,
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: common.logGroup,
      environment: {
        ...common.environment,
        ...LAMBDA_PROCESS_ENV,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Heap limits sized to the memory (see lambdaNodeOptions); no --enable-source-maps.
        NODE_OPTIONS: lambdaNodeOptions(opts.memorySize),
      },
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
   * cdk-nag findings this design accepts, each acknowledged on the exact resource string it is
   * about (AwsSolutions-IAM5[Resource::...]), so a new wildcard anywhere still fails synth.
   */
  private acknowledgeFindings(props: FunctionsProps): void {
    const stack = Stack.of(this);
    const role = Validations.of(this.role);
    const direct = props.clusters.filter((c) => !c.roleArn);
    const wildcardReasons: string[] = [];
    if (direct.length > 0) {
      wildcardReasons.push(
        'ec2:DescribeSecurityGroups, DescribeSubnets, DescribeRouteTables and DescribeInstances do not support resource-level permissions (Service Authorization Reference), so they need Resource "*"; they only read.',
      );
    }
    if (props.vpc) {
      wildcardReasons.push(
        'The network-interface actions Lambda needs to attach the function to the VPC (the set in AWSLambdaVPCAccessExecutionRole) act on interfaces Lambda creates at runtime, whose ids cannot be known in advance.',
      );
    }
    if (wildcardReasons.length > 0) {
      role.acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: wildcardReasons.join(' ') });
    }
    for (const c of eksReadScopes(direct)) {
      const fleetWide = c.name === '*';
      const named = fleetWide
        ? `every cluster of ${c.region} in this account: the configuration lists ${direct.length} clusters, more than their ARNs can name within IAM's 10,240-character inline policy limit; the auditor only reads, and only listed clusters have its access entry`
        : `cluster ${c.name} only`;
      role.acknowledge(
        {
          id: `AwsSolutions-IAM5[${nagResource(stack, eksArn(stack, c, 'fargateprofile', '/*'))}]`,
          reason: `eks:DescribeFargateProfile on ${named}; "*" stands for the profile names the auditor discovers with ListFargateProfiles.`,
        },
        {
          id: `AwsSolutions-IAM5[${nagResource(stack, eksArn(stack, c, 'access-entry', '/*'))}]`,
          reason: `eks:DescribeAccessEntry on ${named}; "*" stands for the access-entry ids the auditor discovers with ListAccessEntries.`,
        },
      );
      if (fleetWide) {
        role.acknowledge({
          id: `AwsSolutions-IAM5[${nagResource(stack, eksArn(stack, c, 'cluster'))}]`,
          reason: `eks:DescribeCluster, ListAccessEntries and ListFargateProfiles on ${named}.`,
        });
      }
    }
    role.acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(stack, props.archive.arnForObjects(`${ARCHIVE_PREFIX}*`))}]`,
      reason: `Reports are dated objects under ${ARCHIVE_PREFIX} of the auditor's own archive bucket, named per run; the function may read and write that prefix only.`,
    });
    role.acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(stack, props.archive.arnForObjects(`${RUNS_PREFIX}*`))}]`,
      reason: `The fleet steps pass each run's cluster list and per-cluster reports under ${RUNS_PREFIX}<runId>/ of the auditor's own archive bucket; run ids are only known at run time.`,
    });
    // Tracing puts its statement in the role's default policy.
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which do not support resource-level permissions.',
    });
    for (const fn of [this.audit, this.discover, this.deliver]) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is the runtime the code is built for (esbuild target node22) and tested on (the `node` devDependency); move to a newer runtime together with those.',
      });
    }
  }
}
