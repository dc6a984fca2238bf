/**
 * The member side of cluster access: EKS access entries for the reader role, by name
 * (CloudFormation resources in the stack's region) or by tags (a function that adds an entry to
 * every matching cluster, as the auditor's discovery selects them, so discovered clusters are
 * reachable without listing them anywhere).
 */
import { readFileSync } from 'node:fs';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConfigError } from '../../lambda/config/config.js';
import { AUDITOR_GROUP } from '../../lambda/collect/kube/rbac-manifest.js';
import { STACK_RESOURCE_LIMIT } from '../construct/cluster-access.js';
import { nagResource } from '../construct/plan.js';

/** Access entries by name a member stack holds beside its other resources. */
export const MEMBER_ACCESS_ENTRIES_MAX = STACK_RESOURCE_LIMIT - 50;
/** How often the tag sync looks for new clusters. */
export const TAG_SYNC_RATE = Duration.hours(6);

export interface MemberClusterAccessProps {
  /** The reader role the entries map to group eks-datadog-auditor. */
  role: iam.IRole;
  /** Clusters of the stack's region, by name. Default none. */
  clusterNames?: string[];
  /** Tags every selected cluster carries (`{}`: every cluster). Default: no tag sync. */
  clusterTags?: Record<string, string>;
  /** Regions of the tag sync. Default: the stack's region. */
  clusterRegions?: string[];
}

export class MemberClusterAccess extends Construct {
  readonly entries: eks.CfnAccessEntry[] = [];
  readonly syncFunction?: lambda.Function;

  constructor(scope: Construct, id: string, props: MemberClusterAccessProps) {
    super(scope, id);
    const names = props.clusterNames ?? [];
    if (names.length > MEMBER_ACCESS_ENTRIES_MAX) {
      throw new ConfigError(
        `${names.length} clusterNames do not fit one member stack (at most ${MEMBER_ACCESS_ENTRIES_MAX} of CloudFormation's ${STACK_RESOURCE_LIMIT} resources): select the clusters with clusterTags instead, or split the names over stacks.`,
      );
    }
    if (new Set(names).size !== names.length) {
      throw new ConfigError('clusterNames lists a cluster twice: list each once.');
    }
    if (props.clusterRegions && !props.clusterTags) {
      throw new ConfigError('clusterRegions is where the tag sync looks: pass clusterTags too.');
    }
    for (const name of names) {
      this.entries.push(
        new eks.CfnAccessEntry(this, `AccessEntry-${name}`, {
          clusterName: name,
          principalArn: props.role.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [AUDITOR_GROUP],
        }),
      );
    }
    if (props.clusterTags) {
      this.syncFunction = this.tagSync(props.role, props.clusterTags, props.clusterRegions);
    }
  }

  private tagSync(
    reader: iam.IRole,
    tags: Record<string, string>,
    regions: string[] | undefined,
  ): lambda.Function {
    const stack = Stack.of(this);
    const clusters = `arn:${stack.partition}:eks:*:${stack.account}:cluster/*`;
    const logGroup = new logs.LogGroup(this, 'SyncLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    const role = new iam.Role(this, 'SyncRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'eks-datadog-auditor: adds the reader role access entry to tagged clusters',
      inlinePolicies: {
        AccessEntries: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'ListClusters',
              actions: ['eks:ListClusters'],
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              sid: 'ReadClusterTags',
              actions: ['eks:DescribeCluster'],
              resources: [clusters],
            }),
            new iam.PolicyStatement({
              sid: 'CreateReaderEntryOnly',
              actions: ['eks:CreateAccessEntry'],
              resources: [clusters],
              conditions: {
                StringEquals: {
                  'eks:principalArn': reader.roleArn,
                  'eks:accessEntryType': 'STANDARD',
                },
                'ForAllValues:StringEquals': { 'eks:kubernetesGroups': [AUDITOR_GROUP] },
              },
            }),
            new iam.PolicyStatement({
              sid: 'WriteOwnLogs',
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    const fn = new lambda.Function(this, 'Sync', {
      description: 'eks-datadog-auditor: access entry for the reader role on every tagged cluster',
      // Inline: the member template is deployed as a StackSet, with no asset bucket.
      code: lambda.Code.fromInline(
        readFileSync(new URL('./access-entry-sync.cjs', import.meta.url), 'utf8'),
      ),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.minutes(5),
      role,
      logGroup,
      environment: {
        SYNC_OPTIONS: stack.toJsonString({
          principalArn: reader.roleArn,
          group: AUDITOR_GROUP,
          tags,
          regions: regions ?? [stack.region],
        }),
      },
    });
    new events.Rule(this, 'SyncSchedule', {
      description: 'eks-datadog-auditor: looks for newly tagged clusters',
      schedule: events.Schedule.rate(TAG_SYNC_RATE),
      targets: [new eventTargets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'eks:ListClusters does not support resource-level permissions; it only lists names.',
      },
      {
        id: `AwsSolutions-IAM5[${nagResource(stack, clusters)}]`,
        reason:
          'The sync reads the tags of every cluster of this account (the regions it covers are configured) to find the ones discovery selects; it may create only STANDARD access entries for the reader role in group eks-datadog-auditor (condition keys eks:principalArn, eks:accessEntryType, eks:kubernetesGroups).',
      },
    );
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22, like the auditor functions; the inline code uses only the runtime AWS SDK v3 EKS client.',
    });
    return fn;
  }
}
