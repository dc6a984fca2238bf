import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { nagResource } from './plan.js';

/**
 * The state machine's policies are written by CDK (task grants, Distributed Map, logs, X-Ray).
 * Each wildcard resource is acknowledged exactly, with the reason for its actions.
 */
export function acknowledgeStateMachine(
  stateMachine: sfn.StateMachine,
  functions: lambda.IFunction[],
): void {
  const stack = Stack.of(stateMachine);
  const fnNames = new Map(
    functions.map((fn) => [nagResource(stack, `${fn.functionArn}:*`), fn.node.id]),
  );
  const policies = stateMachine.node
    .findAll()
    .filter((c): c is iam.Policy => c instanceof iam.Policy);
  for (const policy of policies) {
    const doc = stack.resolve(policy.document.toJSON()) as {
      Statement: { Action: string | string[]; Resource: unknown }[];
    };
    const acks = new Map<string, string>();
    for (const statement of doc.Statement) {
      const actions = [statement.Action].flat();
      for (const resource of [statement.Resource].flat()) {
        const id = nagResource(stack, resource as string);
        if (!id.includes('*')) continue;
        acks.set(id, wildcardReason(actions, fnNames.get(id)));
      }
    }
    for (const [id, reason] of acks) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
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
