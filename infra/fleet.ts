/**
 * The fleet state machine: discover -> Map over clusters -> audit one cluster -> deliver. Step
 * Functions does the fan-out, concurrency, retries and failure isolation; the functions stay
 * single-purpose (lambda/fleet/handlers.ts).
 *
 * The list travels in state up to fleet.inlineMaxClusters (an inline Map); above it the Map is a
 * Distributed Map reading the list the discover step wrote to S3 (state holds at most 256 KB).
 * The choice is made per execution, since discovery decides the fleet's size at run time.
 */
import { gzipSync } from 'node:zlib';
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { GZIP_PREFIX } from '../lambda/config-source.js';
import { ConfigError, type AuditorConfig, type FleetConfig } from '../lambda/config.js';

/** State names: the local executor's tests bind Task states to handlers by these. */
export const STATE = {
  discover: 'Discover clusters',
  choose: 'List in S3?',
  inlineMap: 'Audit clusters',
  distributedMap: 'Audit clusters from S3',
  audit: 'Audit cluster',
  auditFromS3: 'Audit cluster (S3 list)',
  failed: 'Cluster audit failed',
  failedFromS3: 'Cluster audit failed (S3 list)',
  deliver: 'Deliver run',
} as const;

/** Errors Lambda returns when the function is throttled (reserved concurrency, account limit). */
export const THROTTLING_ERRORS = ['Lambda.TooManyRequestsException'];

export interface FleetStateMachineProps {
  discover: lambda.IFunction;
  audit: lambda.IFunction;
  deliver: lambda.IFunction;
  archive: s3.IBucket;
  fleet: FleetConfig;
  logRetentionDays: logs.RetentionDays;
}

export class FleetStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FleetStateMachineProps) {
    super(scope, id);
    const { fleet } = props;

    const discover = new tasks.LambdaInvoke(this, STATE.discover, {
      lambdaFunction: props.discover,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      comment: 'Parses the event, lists the clusters (config + discovery), writes the list to S3',
    });
    withThrottlingRetry(discover);

    const itemSelector = {
      'run.$': '$.run',
      'cluster.$': '$$.Map.Item.Value',
    };
    const inlineMap = new sfn.Map(this, STATE.inlineMap, {
      comment: 'One audit-cluster invocation per cluster of the list held in state',
      itemsPath: '$.clusters',
      itemSelector,
      maxConcurrency: fleet.maxConcurrency,
      resultPath: '$.results',
    });
    inlineMap.itemProcessor(this.auditOne(props, STATE.audit, STATE.failed));

    const distributedMap = new sfn.DistributedMap(this, STATE.distributedMap, {
      comment: 'One audit-cluster invocation per cluster of the list discover wrote to S3',
      itemReader: new sfn.S3JsonItemReader({
        bucket: props.archive,
        key: sfn.JsonPath.stringAt('$.items.key'),
      }),
      itemSelector,
      maxConcurrency: fleet.maxConcurrency,
      toleratedFailurePercentage: fleet.toleratedFailurePercentage,
      // Thousands of results would not fit in state; deliver reads each cluster's report instead.
      resultPath: sfn.JsonPath.DISCARD,
    });
    distributedMap.itemProcessor(this.auditOne(props, STATE.auditFromS3, STATE.failedFromS3));

    const deliver = new tasks.LambdaInvoke(this, STATE.deliver, {
      lambdaFunction: props.deliver,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      comment: 'Reads the reports, diffs, archives, publishes, records metrics',
    });
    withThrottlingRetry(deliver);

    const definition = discover.next(
      new sfn.Choice(this, STATE.choose)
        .when(sfn.Condition.stringEquals('$.mode', 's3'), distributedMap.next(deliver))
        .otherwise(inlineMap.next(deliver)),
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetentionDays });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'eks-datadog-auditor: audits every cluster of the fleet and delivers one run',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // Each cluster has its own Lambda budget; the whole run has this one.
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }

  /** audit-cluster with retries; any other failure becomes a marker the deliver step reports. */
  private auditOne(
    props: FleetStateMachineProps,
    name: string,
    failedName: string,
  ): sfn.IChainable {
    const audit = new tasks.LambdaInvoke(this, name, {
      lambdaFunction: props.audit,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      comment: "Collects and checks one cluster; writes that cluster's report to S3",
    });
    withThrottlingRetry(audit);
    const failed = new sfn.Pass(this, failedName, {
      comment: 'The audit failed or timed out: deliver reports it as an ERROR finding',
      parameters: { ok: false, 'cluster.$': '$.cluster', 'failure.$': '$.failure' },
    });
    audit.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    return audit;
  }
}

function withThrottlingRetry(task: tasks.LambdaInvoke): void {
  task.addRetry({
    errors: THROTTLING_ERRORS,
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 8,
    maxDelay: Duration.minutes(2),
    jitterStrategy: sfn.JitterType.FULL,
  });
}

// ---------------------------------------------------------------------------------------------
// Configuration parameter
// ---------------------------------------------------------------------------------------------

const STANDARD_PARAMETER_BYTES = 4096;
const ADVANCED_PARAMETER_BYTES = 8192;

/**
 * The functions' configuration as an SSM parameter: standard tier up to 4 KB, advanced up to
 * 8 KB, compressed (gzip + base64, about 10x for cluster lists) when the JSON is larger. The
 * topic and bucket are resolved at deploy time and so travel as their own environment variables.
 */
export function configParameter(
  scope: Construct,
  id: string,
  config: AuditorConfig,
): ssm.StringParameter {
  const json = JSON.stringify(config);
  let value = json;
  if (Buffer.byteLength(json) > ADVANCED_PARAMETER_BYTES) {
    value = GZIP_PREFIX + gzipSync(json).toString('base64');
  }
  const bytes = Buffer.byteLength(value);
  if (bytes > ADVANCED_PARAMETER_BYTES) {
    throw new ConfigError(
      `The configuration is ${Buffer.byteLength(json)} bytes (${bytes} compressed), over the 8 KB of an SSM parameter: list the clusters with discover (accounts or organization, regions, tags) instead of one entry each.`,
    );
  }
  return new ssm.StringParameter(scope, id, {
    description: 'eks-datadog-auditor configuration (auditor.config.json without deploy)',
    stringValue: value,
    tier:
      bytes > STANDARD_PARAMETER_BYTES ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
  });
}
