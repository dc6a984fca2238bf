import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { groupingLayer } from './logical-ids.js';

/**
 * What the schedule sends the state machine: an EventBridge Scheduler envelope, which the
 * handlers treat as a scheduled run over every cluster (an on-demand event would be validated).
 */
export const SCHEDULED_EVENT = { source: 'aws.scheduler', 'detail-type': 'Scheduled Event' };

export interface ScheduleProps {
  stateMachine: sfn.IStateMachine;
  expression: scheduler.ScheduleExpression;
  enabled: boolean;
}

/** The EventBridge Scheduler schedule that starts a fleet run, with its role and dead letters. */
export class Schedule extends Construct {
  readonly deadLetterQueue: sqs.Queue;
  readonly role: iam.Role;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: ScheduleProps) {
    super(scope, id);
    groupingLayer(this);
    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the EventBridge Scheduler schedule; a queue behind it would hold what nobody reads.',
    });
    // Our own role (instead of the target's implicit one) so its one finding can be acknowledged.
    this.role = new iam.Role(this, 'ScheduleRole', {
      description: 'EventBridge Scheduler starts the eks-datadog-auditor state machine',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Runs the eks-datadog-auditor audit',
      schedule: props.expression,
      timeWindow: scheduler.TimeWindow.off(),
      enabled: props.enabled,
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject(SCHEDULED_EVENT),
        role: this.role,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
  }
}
