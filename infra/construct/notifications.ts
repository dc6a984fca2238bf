import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { groupingLayer } from './logical-ids.js';

/** Message attributes a report email must match (each listed attribute, any of its values). */
export interface EmailFilter {
  drift?: ('new' | 'resolved' | 'none' | 'unknown')[];
  maxSeverity?: string[];
  cluster?: string[];
  trigger?: ('scheduled' | 'on-demand')[];
}

export interface NotificationsProps {
  /** Default: a new topic encrypted with a new customer managed key. */
  topic?: sns.ITopic;
  /** The KMS key of `topic`, when it is encrypted. Default: the new topic's key. */
  topicKey?: kms.IKey;
  /** Default none. */
  alertEmails: string[];
  /** Default: every report the notify policy sends. */
  emailFilter?: EmailFilter;
}

/** The topic reports and alarms go to, and its email subscriptions. */
export class Notifications extends Construct {
  readonly topic: sns.ITopic;
  readonly topicKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    groupingLayer(this);
    if (props.topic) {
      this.topic = props.topic;
      this.topicKey = props.topicKey;
    } else {
      const { topic, key } = this.encryptedTopic();
      this.topic = topic;
      this.topicKey = key;
    }
    props.alertEmails.forEach((email, i) => {
      new sns.CfnSubscription(this, `EmailSubscription${i}`, {
        topicArn: this.topic.topicArn,
        protocol: 'email',
        endpoint: email,
        ...(props.emailFilter
          ? {
              filterPolicyScope: 'MessageAttributes',
              filterPolicy: emailFilterPolicy(props.emailFilter),
            }
          : {}),
      });
    });
  }

  private encryptedTopic(): { topic: sns.Topic; key: kms.Key } {
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the eks-datadog-auditor SNS topic',
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarm notifications to the encrypted topic as a service.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'EKS Datadog auditor',
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, which is what let same-account alarms publish.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': Stack.of(this).formatArn({
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
    return { topic, key };
  }
}

/**
 * SNS filter policy for report emails. The second branch lets through anything without a
 * `trigger` attribute: CloudWatch alarm notifications carry no attributes and must never be
 * filtered out, while every report the handler publishes carries one.
 */
export function emailFilterPolicy(filter: EmailFilter): Record<string, unknown> {
  const reportBranch: Record<string, string[]> = {};
  for (const [attribute, values] of Object.entries(filter)) {
    if (values) reportBranch[attribute] = [...(values as string[])];
  }
  return { $or: [reportBranch, { trigger: [{ exists: false }] }] };
}
