/**
 * The fleet state machine: discover -> Map over clusters (per cluster: audit, then deliver that
 * cluster) -> finish the run. Step Functions does the fan-out, concurrency, retries and failure
 * isolation; the functions stay single-purpose (lambda/run/fleet/handlers.ts), and no function's
 * work grows with the fleet: each iteration delivers its own cluster, and the last step only
 * folds one small result per cluster.
 *
 * The list travels in state up to fleet.inlineMaxClusters (an inline Map, its small results in
 * state); above it the Map is a Distributed Map reading the list the discover step wrote to S3
 * and writing its results to S3 (ResultWriter), so no state approaches 256 KB. The choice is
 * made per execution, since discovery decides the fleet's size at run time.
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
import { GZIP_PREFIX } from '../lambda/config/source.js';
import { ConfigError, type AuditorConfig, type FleetConfig } from '../lambda/config/config.js';
import { MAX_CLUSTER_RESULT_BYTES } from '../lambda/run/fleet/run.js';

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
  deliverCluster: 'Deliver cluster',
  deliverClusterFromS3: 'Deliver cluster (S3 list)',
  deliveryFailed: 'Cluster delivery failed',
  deliveryFailedFromS3: 'Cluster delivery failed (S3 list)',
  deliver: 'Finish run',
} as const;

/**
 * Most clusters the inline Map may hold: each carries its entry and a result of at most
 * MAX_CLUSTER_RESULT_BYTES in state (about 400 bytes measured), 150 of them well under 256 KB.
 */
export const INLINE_MAP_MAX_CLUSTERS = 150;

/** Where the Distributed Map's ResultWriter writes (`<prefix>/<map run id>/manifest.json`). */
export const MAP_RESULTS_PREFIX = 'runs/map-results';

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
    if (fleet.inlineMaxClusters > INLINE_MAP_MAX_CLUSTERS) {
      throw new ConfigError(
        `fleet.inlineMaxClusters is ${fleet.inlineMaxClusters}: the inline Map keeps the cluster list and one result of up to ${MAX_CLUSTER_RESULT_BYTES} bytes per cluster in state, which Step Functions caps at 256 KB; set it to ${INLINE_MAP_MAX_CLUSTERS} or less (larger fleets take the Distributed Map, whose list and results are in S3).`,
      );
    }

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
      comment: 'Per cluster of the list held in state: audit, then deliver; small results in state',
      itemsPath: '$.clusters',
      itemSelector,
      maxConcurrency: fleet.maxConcurrency,
      resultPath: '$.results',
    });
    inlineMap.itemProcessor(
      this.perCluster(props, {
        audit: STATE.audit,
        failed: STATE.failed,
        deliver: STATE.deliverCluster,
        deliveryFailed: STATE.deliveryFailed,
      }),
    );

    const distributedMap = new sfn.DistributedMap(this, STATE.distributedMap, {
      comment: 'Per cluster of the list discover wrote to S3: audit, then deliver; results to S3',
      itemReader: new sfn.S3JsonItemReader({
        bucket: props.archive,
        key: sfn.JsonPath.stringAt('$.items.key'),
      }),
      itemSelector,
      maxConcurrency: fleet.maxConcurrency,
      toleratedFailurePercentage: fleet.toleratedFailurePercentage,
      // Thousands of results do not fit in state: the finish step reads the files written here.
      // (ResultWriterV2 needs a feature flag in the app's context; this writes the same files.)
      resultWriter: new sfn.ResultWriter({ bucket: props.archive, prefix: MAP_RESULTS_PREFIX }),
      resultPath: '$.resultWriter',
    });
    distributedMap.itemProcessor(
      this.perCluster(props, {
        audit: STATE.auditFromS3,
        failed: STATE.failedFromS3,
        deliver: STATE.deliverClusterFromS3,
        deliveryFailed: STATE.deliveryFailedFromS3,
      }),
    );

    const deliver = new tasks.LambdaInvoke(this, STATE.deliver, {
      lambdaFunction: props.deliver,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      comment: "Folds the clusters' small results: counts, run summary, run metrics",
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

  /**
   * One Map iteration: audit the cluster (its failure becomes a marker), then deliver it. Both
   * run on the audit function (its concurrency reservation, VPC and permissions); the delivery
   * is retried on any error because it is idempotent (lambda/deliver/marks.ts), and a delivery
   * that still fails becomes a marker the finish step reports as a failure of the run.
   */
  private perCluster(
    props: FleetStateMachineProps,
    names: { audit: string; failed: string; deliver: string; deliveryFailed: string },
  ): sfn.IChainable {
    const audit = new tasks.LambdaInvoke(this, names.audit, {
      lambdaFunction: props.audit,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      comment: "Collects and checks one cluster; writes that cluster's report to S3",
      resultPath: '$.audit',
    });
    withThrottlingRetry(audit);
    const failed = new sfn.Pass(this, names.failed, {
      comment: 'The audit failed or timed out: the delivery reports it as an ERROR finding',
      parameters: { ok: false, 'cluster.$': '$.cluster', 'failure.$': '$.failure' },
      resultPath: '$.audit',
    });
    audit.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });

    const deliver = new tasks.LambdaInvoke(this, names.deliver, {
      lambdaFunction: props.audit,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      comment: 'Delivers this cluster: drift, archive, metrics, SNS, Security Hub, Datadog',
      payload: sfn.TaskInput.fromObject({
        step: 'deliver-cluster',
        'run.$': '$.run',
        'cluster.$': '$.cluster',
        'audit.$': '$.audit',
      }),
    });
    withThrottlingRetry(deliver);
    deliver.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 2,
    });
    const deliveryFailed = new sfn.Pass(this, names.deliveryFailed, {
      comment: 'The delivery failed after its retries: the finish step fails the run for it',
      parameters: { ok: false, 'cluster.$': '$.cluster', 'failure.$': '$.failure' },
    });
    deliver.addCatch(deliveryFailed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    failed.next(deliver);
    return audit.next(deliver);
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
