/**
 * `EksDatadogAuditor`: the scheduled, read-only audit of Datadog on EKS Fargate as one CDK
 * construct, composed of small ones: notifications (topic), archive (bucket), functions (one code
 * asset, one role), the fleet state machine (infra/fleet.ts), the schedule, alarms and cluster
 * access (EKS access entries). Bring your own topic, bucket, VPC or schedule expression; the JSON
 * configuration file is one way to build these props (propsFromConfig).
 */
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  ConfigError,
  parseConfig,
  type AuditorConfig,
  type AuditorConfigInput,
} from '../../lambda/config/config.js';
import {
  DEFAULT_LOG_RETENTION_DAYS,
  DEFAULT_MEMORY_MB,
  DEFAULT_SCHEDULE,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_TIMEZONE,
  SCHEDULE_EXPRESSION,
} from '../config.js';
import { FleetStateMachine } from '../fleet.js';
import { Alarms } from './alarms.js';
import { Archive } from './archive.js';
import {
  ClusterAccess,
  DEFAULT_ACCESS_ENTRIES_IN_STACK,
  accessEntryLayout,
} from './cluster-access.js';
import { auditorCode } from './code.js';
import { Functions } from './functions.js';
import { groupingLayer } from './logical-ids.js';
import { Notifications, type EmailFilter } from './notifications.js';
import { planClusters, type ClusterPlan } from './plan.js';
import { Schedule } from './schedule.js';
import { acknowledgeStateMachine } from './state-machine-nag.js';

export type { EmailFilter } from './notifications.js';

export interface EksDatadogAuditorProps {
  /**
   * What to audit and how: clusters (or `discover`), token secret, Cluster Agent, checks, notify
   * policy, fleet, Security Hub, Datadog: the function's own configuration schema
   * (lambda/config/config.ts), without `topicArn` and `archiveBucket` (use `topic` and `archiveBucket`).
   * Required; validated here.
   */
  readonly config: AuditorConfigInput;
  /**
   * Topic the reports and alarms are published to. For an encrypted topic also pass `topicKey`.
   * Alarms publish as cloudwatch.amazonaws.com: a topic policy of yours must allow that.
   * @default a new topic encrypted with a new customer managed KMS key (rotation on)
   */
  readonly topic?: sns.ITopic;
  /**
   * The KMS key of `topic`; the functions may use it through SNS only.
   * @default the new topic's key; none for a `topic` you bring without one
   */
  readonly topicKey?: kms.IKey;
  /** Email addresses subscribed to the topic (reports and alarms). @default none */
  readonly alertEmails?: string[];
  /**
   * Report emails only when every listed message attribute matches one of its values; alarm
   * notifications always pass. @default every report the notify policy sends
   */
  readonly emailFilter?: EmailFilter;
  /**
   * Bucket for reports (reports/) and run scratch (runs/, give it an expiry of a few days).
   * @default a new versioned, SSE-S3 encrypted bucket with access logs and lifecycle rules
   */
  readonly archiveBucket?: s3.IBucket;
  /** Put the audit function in this VPC (private cluster endpoints). @default no VPC */
  readonly vpc?: ec2.IVpc;
  /** Subnets of `vpc` for the audit function. @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups of the audit function in `vpc`. @default a new group allowing only HTTPS (443) out */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * When fleet runs start (EventBridge Scheduler). The no-successful-audit alarm's window follows
   * it. @default daily at 02:00 UTC: `cron(0 2 * * ? *)`
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /** Deploy the schedule disabled (on-demand runs only). @default true */
  readonly scheduleEnabled?: boolean;
  /** Customer managed KMS keys encrypting the token secrets. @default none */
  readonly tokenSecretKeys?: kms.IKey[];
  /** An EKS access entry per listed same-account, same-region cluster. @default true */
  readonly createAccessEntries?: boolean;
  /**
   * Access entries kept in the stack the construct is in; above this many, all of them go to 8
   * nested stacks (CloudFormation allows 500 resources per stack). @default 200
   */
  readonly maxAccessEntriesInStack?: number;
  /** Memory of the audit function in MB, 128-10240 (deliver gets at least 512). @default 256 */
  readonly memorySize?: number;
  /** Timeout of the audit function, 30 s to 15 min. @default 5 minutes */
  readonly timeout?: Duration;
  /**
   * Reserve concurrency: the audit function `fleet.maxConcurrency + 1`, deliver 1 (runs never
   * deliver at once). Turn off for accounts whose limit leaves no room to reserve. @default true
   */
  readonly reserveConcurrency?: boolean;
  /** Retention of the functions' and the state machine's logs. @default 90 days */
  readonly logRetention?: logs.RetentionDays;
  /** Code of the functions (a bundle exporting the handlers of lambda/run/handler.ts). @default this package's bundle */
  readonly code?: lambda.Code;
}

export class EksDatadogAuditor extends Construct {
  /** The validated configuration the functions read. */
  readonly config: AuditorConfig;
  readonly clusters: ClusterPlan[];
  readonly topic: sns.ITopic;
  readonly topicKey?: kms.IKey;
  readonly archiveBucket: s3.IBucket;
  /** The role every function runs as; map it in Kubernetes (access entry, group eks-datadog-auditor). */
  readonly role: iam.Role;
  readonly auditFunction: lambda.Function;
  readonly discoverFunction: lambda.Function;
  readonly deliverFunction: lambda.Function;
  readonly configParameter: ssm.StringParameter;
  /** The fleet run: discover -> Map(audit one cluster) -> deliver. */
  readonly stateMachine: sfn.StateMachine;
  readonly scheduleRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly notifications: Notifications;
  readonly archive: Archive;
  readonly functions: Functions;
  readonly fleet: FleetStateMachine;
  readonly alarms: Alarms;
  readonly clusterAccess: ClusterAccess;

  constructor(scope: Construct, id: string, props: EksDatadogAuditorProps) {
    super(scope, id);
    groupingLayer(this);
    const v = validate(this.node.path, props);
    this.config = v.config;
    this.clusters = planClusters(v.config, Stack.of(this).region, v.createAccessEntries);
    // Fail before any resource exists when the access entries cannot fit any layout.
    accessEntryLayout(this.clusters, v.maxAccessEntriesInStack);

    this.notifications = new Notifications(this, 'Notifications', {
      ...(props.topic ? { topic: props.topic } : {}),
      ...(props.topicKey ? { topicKey: props.topicKey } : {}),
      alertEmails: props.alertEmails ?? [],
      ...(props.emailFilter ? { emailFilter: props.emailFilter } : {}),
    });
    this.topic = this.notifications.topic;
    this.topicKey = this.notifications.topicKey;
    this.archive = new Archive(this, 'Archive', {
      ...(props.archiveBucket ? { bucket: props.archiveBucket } : {}),
    });
    this.archiveBucket = this.archive.bucket;

    this.functions = new Functions(this, 'Functions', {
      config: this.config,
      clusters: this.clusters,
      topic: this.topic,
      ...(this.topicKey ? { topicKey: this.topicKey } : {}),
      archive: this.archiveBucket,
      code: props.code ?? auditorCode(),
      memorySize: v.memorySize,
      timeout: v.timeout,
      reserveConcurrency: props.reserveConcurrency ?? true,
      logRetention: v.logRetention,
      ...(props.vpc ? { vpc: props.vpc } : {}),
      ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}),
      ...(props.securityGroups ? { securityGroups: props.securityGroups } : {}),
      tokenSecretKeys: props.tokenSecretKeys ?? [],
    });
    this.role = this.functions.role;
    this.auditFunction = this.functions.audit;
    this.discoverFunction = this.functions.discover;
    this.deliverFunction = this.functions.deliver;
    this.configParameter = this.functions.configParameter;

    this.fleet = new FleetStateMachine(this, 'Fleet', {
      discover: this.discoverFunction,
      audit: this.auditFunction,
      deliver: this.deliverFunction,
      archive: this.archiveBucket,
      fleet: this.config.fleet,
      logRetentionDays: v.logRetention,
    });
    this.stateMachine = this.fleet.stateMachine;
    acknowledgeStateMachine(this.stateMachine, [
      this.auditFunction,
      this.discoverFunction,
      this.deliverFunction,
    ]);

    const schedule = new Schedule(this, 'Schedule', {
      stateMachine: this.stateMachine,
      expression: v.schedule,
      enabled: v.scheduleEnabled,
    });
    this.scheduleRole = schedule.role;
    this.deadLetterQueue = schedule.deadLetterQueue;

    this.clusterAccess = new ClusterAccess(this, 'ClusterAccess', {
      clusters: this.clusters,
      role: this.role,
      createAccessEntries: v.createAccessEntries,
      maxInStack: v.maxAccessEntriesInStack,
    });
    this.alarms = new Alarms(this, 'Alarms', {
      topic: this.topic,
      auditFunction: this.auditFunction,
      stateMachine: this.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
      clusters: this.clusters,
      schedule: {
        expression: v.schedule.expressionString,
        timezone: v.schedule.timeZone?.timezoneName ?? DEFAULT_TIMEZONE,
        enabled: v.scheduleEnabled,
      },
    });
  }
}

/** Props with defaults applied, or a ConfigError naming the prop and the fix. */
function validate(path: string, props: EksDatadogAuditorProps) {
  const fail = (prop: string, message: string) => {
    throw new ConfigError(`EksDatadogAuditor ${path}: ${prop} ${message}`);
  };
  const config = parseConfig(props.config, `EksDatadogAuditor ${path} props.config`);
  for (const field of ['topicArn', 'archiveBucket'] as const) {
    if (config[field] !== undefined) {
      fail(
        `config.${field}`,
        `is set by the construct: remove it and pass the ${field === 'topicArn' ? 'topic' : 'archiveBucket'} prop to bring your own.`,
      );
    }
  }
  if (props.topicKey && !props.topic) {
    fail(
      'topicKey',
      'is the key of a topic you bring: pass topic too, or omit topicKey to get a new encrypted topic.',
    );
  }
  if (!props.vpc && (props.vpcSubnets || props.securityGroups)) {
    fail('vpcSubnets/securityGroups', 'need vpc: pass the VPC they belong to.');
  }
  const emails = props.alertEmails ?? [];
  for (const email of emails) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
      fail('alertEmails', `has "${email}", which is not an email address.`);
  }
  if (new Set(emails).size !== emails.length)
    fail('alertEmails', 'lists an address twice: list each once.');
  if (
    props.emailFilter &&
    Object.values(props.emailFilter).every((v) => v === undefined || v.length === 0)
  ) {
    fail('emailFilter', 'lists no attribute values: list at least one, or omit emailFilter.');
  }
  const memorySize = props.memorySize ?? DEFAULT_MEMORY_MB;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
    fail('memorySize', `is ${memorySize}: give an integer number of MB from 128 to 10240.`);
  }
  const timeout = props.timeout ?? Duration.seconds(DEFAULT_TIMEOUT_SECONDS);
  const seconds = timeout.toSeconds();
  if (seconds < 30 || seconds > 900)
    fail('timeout', `is ${seconds} s: give 30 seconds to 15 minutes (Lambda's maximum).`);
  const schedule =
    props.schedule ??
    scheduler.ScheduleExpression.expression(DEFAULT_SCHEDULE, TimeZone.of(DEFAULT_TIMEZONE));
  if (!SCHEDULE_EXPRESSION.test(schedule.expressionString)) {
    fail(
      'schedule',
      `is ${schedule.expressionString}: use ScheduleExpression.cron(...), .rate(...) or .at(...) of aws-cdk-lib/aws-scheduler.`,
    );
  }
  const maxAccessEntriesInStack = props.maxAccessEntriesInStack ?? DEFAULT_ACCESS_ENTRIES_IN_STACK;
  if (
    !Number.isInteger(maxAccessEntriesInStack) ||
    maxAccessEntriesInStack < 0 ||
    maxAccessEntriesInStack > 400
  ) {
    fail(
      'maxAccessEntriesInStack',
      `is ${maxAccessEntriesInStack}: give 0 (always nested stacks) to 400, leaving room in the stack for the auditor's other resources.`,
    );
  }
  return {
    config,
    memorySize,
    timeout,
    schedule,
    scheduleEnabled: props.scheduleEnabled ?? true,
    createAccessEntries: props.createAccessEntries ?? true,
    maxAccessEntriesInStack,
    logRetention: props.logRetention ?? (DEFAULT_LOG_RETENTION_DAYS as logs.RetentionDays),
  };
}
