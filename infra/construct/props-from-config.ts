import { Duration, Fn, TimeZone, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { functionConfigOf, type DeploymentConfig } from '../config.js';
import type { EksDatadogAuditorProps } from './index.js';

/**
 * The construct's props from the JSON configuration file (auditor.config.json, validated by
 * parseDeploymentConfig): `deploy` becomes typed props; the VPC, subnets, security groups and
 * KMS keys it names by id are imported into `scope` (the ids the one-stack layout used).
 */
export function propsFromConfig(
  scope: Construct,
  config: DeploymentConfig,
): EksDatadogAuditorProps {
  const deploy = config.deploy;
  return {
    config: functionConfigOf(config),
    alertEmails: deploy.alertEmails,
    ...(deploy.emailFilter ? { emailFilter: deploy.emailFilter } : {}),
    ...(deploy.vpc ? importVpc(scope, deploy.vpc) : {}),
    schedule: scheduler.ScheduleExpression.expression(
      deploy.schedule.expression,
      TimeZone.of(deploy.schedule.timezone),
    ),
    scheduleEnabled: deploy.schedule.enabled,
    tokenSecretKeys: deploy.tokenSecretKmsKeyArns.map((arn, i) =>
      kms.Key.fromKeyArn(scope, `TokenSecretKey${i}`, arn),
    ),
    createAccessEntries: deploy.createAccessEntries,
    memorySize: deploy.memoryMb,
    timeout: Duration.seconds(deploy.timeoutSeconds),
    reserveConcurrency: deploy.reservedConcurrency !== null,
    logRetention: deploy.logRetentionDays as logs.RetentionDays,
  };
}

function importVpc(
  scope: Construct,
  ids: NonNullable<DeploymentConfig['deploy']['vpc']>,
): Pick<EksDatadogAuditorProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: ids.vpcId,
    // Subnets are given by id, so the AZs are never consulted; a literal list would need a context lookup at synth.
    availabilityZones: Fn.getAzs(),
  });
  Validations.of(vpc).acknowledge({
    id: '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
    reason: 'The function gets its subnets by id; nothing selects subnets of this VPC by zone.',
  });
  const subnets = ids.subnetIds.map((subnetId, i) => {
    const subnet = ec2.Subnet.fromSubnetId(scope, `Subnet${i}`, subnetId);
    Validations.of(subnet).acknowledge({
      id: '@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason: 'Nothing in this stack reads the route tables of the function subnets.',
    });
    return subnet;
  });
  return {
    vpc,
    vpcSubnets: { subnets },
    ...(ids.securityGroupIds
      ? {
          securityGroups: ids.securityGroupIds.map((sgId, i) =>
            ec2.SecurityGroup.fromSecurityGroupId(scope, `SecurityGroup${i}`, sgId),
          ),
        }
      : {}),
  };
}
