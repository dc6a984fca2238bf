import { CfnOutput, Stack, type CfnElement, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AUDITOR_GROUP } from '../lambda/collect/kube/rbac-manifest.js';
import type { DeploymentConfig } from './config.js';
import { EksDatadogAuditor } from './construct/index.js';
import { legacyLogicalId } from './construct/logical-ids.js';
import { propsFromConfig } from './construct/props-from-config.js';

export { EksDatadogAuditor, type EksDatadogAuditorProps } from './construct/index.js';
export { propsFromConfig } from './construct/props-from-config.js';
export { SCHEDULED_EVENT } from './construct/schedule.js';
export { emailFilterPolicy } from './construct/notifications.js';
export { nagResource, planClusters, type ClusterPlan } from './construct/plan.js';

/** Feature flags the app (and the tests) synthesize with. */
export const AUDITOR_APP_CONTEXT = {
  // Access logs are delivered through a bucket policy, not ACLs (the buckets disable ACLs).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

export interface AuditorStackProps extends StackProps {
  /** Validated configuration (parseDeploymentConfig / loadDeploymentConfig). */
  config: DeploymentConfig;
}

/**
 * The auditor's own app stack: the EksDatadogAuditor construct built from the JSON configuration,
 * plus outputs. Resources keep the logical ids they had when the stack held them directly (see
 * construct/logical-ids.ts), so a deployed stack updates in place.
 */
export class AuditorStack extends Stack {
  readonly auditor: EksDatadogAuditor;

  constructor(scope: Construct, id: string, props: AuditorStackProps) {
    super(scope, id, props);
    this.auditor = new EksDatadogAuditor(this, 'Auditor', propsFromConfig(this, props.config));
    const a = this.auditor;
    new CfnOutput(this, 'FunctionName', { value: a.auditFunction.functionName });
    new CfnOutput(this, 'FunctionRoleArn', {
      value: a.role.roleArn,
      description: `Map this role to Kubernetes group ${AUDITOR_GROUP} (access entry or aws-auth)`,
    });
    new CfnOutput(this, 'TopicArn', { value: a.topic.topicArn });
    new CfnOutput(this, 'StateMachineArn', {
      value: a.stateMachine.stateMachineArn,
      description: "aws stepfunctions start-execution --state-machine-arn <this> --input '{}'",
    });
    new CfnOutput(this, 'ArchiveBucketName', { value: a.archiveBucket.bucketName });
  }

  // Shortcuts the tests and older callers use.
  get function() {
    return this.auditor.auditFunction;
  }
  get role() {
    return this.auditor.role;
  }
  get topic() {
    return this.auditor.topic;
  }
  get topicKey() {
    return this.auditor.topicKey!;
  }
  get archive() {
    return this.auditor.archiveBucket;
  }
  get stateMachine() {
    return this.auditor.stateMachine;
  }
  get discoverFunction() {
    return this.auditor.discoverFunction;
  }
  get deliverFunction() {
    return this.auditor.deliverFunction;
  }
  get configParameter() {
    return this.auditor.configParameter;
  }
  get deadLetterQueue() {
    return this.auditor.deadLetterQueue;
  }
  get scheduleRole() {
    return this.auditor.scheduleRole;
  }
  get clusters() {
    return this.auditor.clusters;
  }

  protected override allocateLogicalId(element: CfnElement): string {
    return legacyLogicalId(this, element);
  }
}
