import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/deliver/observability.js';
import { noSuccessWindow } from '../schedule-window.js';
import { groupingLayer } from './logical-ids.js';
import { regionId, type ClusterPlan } from './plan.js';

/**
 * Powertools Metrics adds a `service` dimension to every EMF metric (POWERTOOLS_SERVICE_NAME), so
 * the alarms must name it too: CloudWatch matches metrics by their exact dimension set.
 */
export const METRICS_DIMENSIONS = { service: SERVICE_NAME };
/**
 * Count 1 per run that completed (archived and published, whatever it found), emitted by the
 * handler with only the default `service` dimension: the no-successful-audit alarm watches it.
 */
export const METRIC_AUDITS_SUCCEEDED = 'AuditsSucceeded';
/** Above this many clusters the drift alarms watch the fleet-wide series instead of each cluster. */
export const PER_CLUSTER_ALARMS_MAX = 25;

export interface AlarmsProps {
  topic: sns.ITopic;
  auditFunction: lambda.IFunction;
  stateMachine: sfn.StateMachine;
  deadLetterQueue: sqs.IQueue;
  clusters: ClusterPlan[];
  /** The schedule's expression and time zone; the no-success window follows them. */
  schedule: { expression: string; timezone: string; enabled: boolean };
}

/** Every alarm notifies the topic. */
export class Alarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    groupingLayer(this);
    const above = (alarmId: string, description: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [
      above(
        'FunctionErrorsAlarm',
        'The auditor function failed (see its log group); the audit did not complete.',
        props.auditFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      ),
      // New criticals, not all criticals: persisting ones would re-alarm every run. An incomplete
      // audit is 1 in every run until it clears. No datapoint means no run, which the
      // no-successful-audit alarm covers: not breaching here.
      ...this.driftAlarms(props.clusters, above),
      above(
        'FleetExecutionsFailedAlarm',
        'A fleet audit execution failed (Step Functions): discovery or delivery did not complete; see the execution history.',
        props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      ),
      above(
        'ScheduleDeadLetterAlarm',
        'The scheduler could not invoke the auditor; the undelivered events are in the dead-letter queue.',
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
      ),
    ];
    const noSuccess = this.noSuccessAlarm(props.schedule);
    if (noSuccess) this.alarms.push(noSuccess);
    const action = new cwActions.SnsAction(props.topic);
    for (const alarm of this.alarms) alarm.addAlarmAction(action);
  }

  /**
   * The new-criticals and audit-incomplete alarms: one per cluster while the stack lists at most
   * {@link PER_CLUSTER_ALARMS_MAX} clusters (the alarm names the cluster), else one of each over the
   * fleet-wide series the handler also emits (the email and the metric's cluster dimension name
   * it): 2 alarms per cluster would pass CloudFormation's 500 resources near 250 clusters.
   */
  private driftAlarms(
    clusters: ClusterPlan[],
    above: (id: string, description: string, m: cloudwatch.IMetric) => cloudwatch.Alarm,
  ): cloudwatch.Alarm[] {
    if (clusters.length > PER_CLUSTER_ALARMS_MAX) {
      return [
        above(
          'CriticalFindingsAlarm',
          'The last audit of at least one cluster found new critical findings (not failing in the run before): the report email names the cluster; the NewCriticalFindings metric per cluster dimension shows which.',
          metric(METRIC.NewCriticalFindings, 'Maximum'),
        ),
        above(
          'AuditIncompleteAlarm',
          'The last audit of at least one cluster was incomplete: some data could not be collected or some checks could not run (the report email lists why; the AuditIncomplete metric per cluster dimension shows which).',
          metric(METRIC.AuditIncomplete, 'Maximum'),
        ),
      ];
    }
    return clusters.flatMap((c) => [
      above(
        `CriticalFindingsAlarm-${regionId(c.region)}-${c.name}`,
        `The last audit of cluster ${c.name} (${c.region}) found new critical findings (not failing in the run before): read the report email or the archive.`,
        metric(METRIC.NewCriticalFindings, 'Maximum', { cluster: c.name }),
      ),
      above(
        `AuditIncompleteAlarm-${regionId(c.region)}-${c.name}`,
        `The last audit of cluster ${c.name} (${c.region}) was incomplete: some data could not be collected or some checks could not run (the report email lists why).`,
        metric(METRIC.AuditIncomplete, 'Maximum', { cluster: c.name }),
      ),
    ]);
  }

  /**
   * Without a schedule nothing is due, so silence is not a failure. The window follows the
   * schedule (infra/schedule-window.ts): a weekly schedule must not sit in ALARM between runs.
   */
  private noSuccessAlarm(schedule: AlarmsProps['schedule']): cloudwatch.Alarm | undefined {
    if (!schedule.enabled) return undefined;
    const window = noSuccessWindow(schedule.expression, schedule.timezone);
    if (window.hours === undefined) {
      Annotations.of(Stack.of(this)).addWarningV2(
        'eks-datadog-auditor:no-success-alarm',
        `No no-successful-audit alarm for schedule ${schedule.expression}: ${window.reason}. The function-error, dead-letter and audit-incomplete alarms still apply; schedule at least every 6 days to get it.`,
      );
      return undefined;
    }
    return new cloudwatch.Alarm(this, 'NoSuccessfulAuditAlarm', {
      alarmDescription: `No audit has succeeded in ${window.hours} hours (the longest gap of schedule ${schedule.expression} plus grace), or a cluster could not be audited at all: the schedule, the function, its permissions or its access to a cluster are broken.`,
      metric: metric(METRIC_AUDITS_SUCCEEDED, 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: window.hours,
      datapointsToAlarm: window.hours,
      // No datapoint means no audit succeeded in that hour.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }
}

function metric(
  metricName: string,
  statistic: string,
  extra: Record<string, string> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { ...METRICS_DIMENSIONS, ...extra },
    statistic,
    period: Duration.hours(1),
  });
}
