import { Aws, CfnOutput, CfnParameter, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { DEFAULT_TOKEN_SECRET_ID } from '../lambda/config/config.js';
import { MemberClusterAccess, type MemberClusterAccessProps } from './member/cluster-access.js';
import { nagResource } from './construct/plan.js';
import { API_ACTION_BY_COMMAND } from './iam-actions.js';

/** The reader role's default name; `discover.roleName` in the auditor's configuration. */
export const READER_ROLE_NAME = 'eks-datadog-auditor-reader';

export interface MemberStackProps extends StackProps {
  /**
   * The auditor account's function role ARNs allowed to assume the reader role. Default: a
   * CloudFormation parameter (AuditorRoleArns), so one template serves a StackSet.
   */
  auditorRoleArns?: string[];
  roleName?: string;
  /** Token secret names (or prefixes) the auditor may read in this account. */
  tokenSecretIds?: string[];
  /**
   * Clusters of this stack's region that get an EKS access entry for the reader role (group
   * eks-datadog-auditor), created by CloudFormation. Default none.
   */
  clusterNames?: MemberClusterAccessProps['clusterNames'];
  /**
   * Clusters carrying all these tags (as `discover.tags` selects them; `{}` is every cluster) get
   * an access entry from a small function this stack runs every 6 hours, in `clusterRegions`.
   * Default: no tag sync.
   */
  clusterTags?: MemberClusterAccessProps['clusterTags'];
  /** Regions the tag sync covers. Default: this stack's region. */
  clusterRegions?: MemberClusterAccessProps['clusterRegions'];
}

const action = (command: keyof typeof API_ACTION_BY_COMMAND) => API_ACTION_BY_COMMAND[command];

/**
 * What each member account needs for the auditor to reach its clusters: one read-only role,
 * trusted by the auditor's role only. Deployable as a CloudFormation StackSet to accounts or OUs
 * (`cdk synth EksDatadogAuditorMember` and use the template). Each cluster still needs the role
 * mapped into Kubernetes (access entry) and the RBAC manifest applied: see docs/deploy.md.
 */
export class MemberStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MemberStackProps = {}) {
    super(scope, id, props);
    const trusted =
      props.auditorRoleArns ??
      new CfnParameter(this, 'AuditorRoleArns', {
        type: 'CommaDelimitedList',
        description:
          'FunctionRoleArn output of the auditor stack (comma-separated if several auditors)',
      }).valueAsList;
    const secrets = props.tokenSecretIds ?? [DEFAULT_TOKEN_SECRET_ID];
    const eksArn = (resource: string) => `arn:${Aws.PARTITION}:eks:*:${Aws.ACCOUNT_ID}:${resource}`;

    this.role = new iam.Role(this, 'ReaderRole', {
      roleName: props.roleName ?? READER_ROLE_NAME,
      description: 'eks-datadog-auditor: read-only access to EKS, networking and the token secret',
      assumedBy: new iam.CompositePrincipal(
        ...(Array.isArray(trusted) ? trusted : [trusted]).map((arn) => new iam.ArnPrincipal(arn)),
      ),
      inlinePolicies: {
        ReadClusters: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'ListClusters',
              actions: ['eks:ListClusters'],
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              sid: 'ReadClusters',
              actions: [
                action('DescribeClusterCommand'),
                action('ListAccessEntriesCommand'),
                action('ListFargateProfilesCommand'),
              ],
              resources: [eksArn('cluster/*')],
            }),
            new iam.PolicyStatement({
              sid: 'ReadClusterParts',
              actions: [
                action('DescribeFargateProfileCommand'),
                action('DescribeAccessEntryCommand'),
              ],
              resources: [eksArn('fargateprofile/*'), eksArn('access-entry/*')],
            }),
            new iam.PolicyStatement({
              sid: 'DescribeNetworking',
              actions: [
                action('DescribeInstancesCommand'),
                action('DescribeRouteTablesCommand'),
                action('DescribeSecurityGroupsCommand'),
                action('DescribeSubnetsCommand'),
              ],
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              sid: 'ReadTokenSecrets',
              actions: [action('DescribeSecretCommand'), action('GetSecretValueCommand')],
              resources: secrets.map(
                (s) => `arn:${Aws.PARTITION}:secretsmanager:*:${Aws.ACCOUNT_ID}:secret:${s}-??????`,
              ),
            }),
          ],
        }),
      },
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'eks:ListClusters and ec2:DescribeSecurityGroups, DescribeSubnets, DescribeRouteTables and DescribeInstances do not support resource-level permissions; they only read.',
    });
    for (const resource of [
      eksArn('cluster/*'),
      eksArn('fargateprofile/*'),
      eksArn('access-entry/*'),
      ...secrets.map(
        (s) => `arn:${Aws.PARTITION}:secretsmanager:*:${Aws.ACCOUNT_ID}:secret:${s}-??????`,
      ),
    ]) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[${nagResource(this, resource)}]`,
        reason:
          'The reader role serves every cluster of this account in any region the auditor is configured for (discover.regions); clusters, their Fargate profiles and access entries are discovered at run time. Everything it may do is read-only.',
      });
    }
    if (props.clusterNames || props.clusterTags) {
      new MemberClusterAccess(this, 'ClusterAccess', {
        role: this.role,
        ...(props.clusterNames ? { clusterNames: props.clusterNames } : {}),
        ...(props.clusterTags ? { clusterTags: props.clusterTags } : {}),
        ...(props.clusterRegions ? { clusterRegions: props.clusterRegions } : {}),
      });
    }
    new CfnOutput(this, 'ReaderRoleArn', { value: this.role.roleArn });
  }
}
