/**
 * The audit role's inline policies, one document per concern, each scoped to exactly what the
 * configuration names (clusters, secrets, roles, the topic and the archive's prefixes).
 */
import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AuditorConfig } from '../../lambda/config/config.js';
import { RUNS_PREFIX } from '../../lambda/run/fleet/run.js';
import { ARCHIVE_PREFIX } from '../../lambda/deliver/archive.js';
import { eksArn, eksReadScopes, secretArn, unique, type ClusterPlan } from './plan.js';

export interface PolicyInputs {
  config: AuditorConfig;
  clusters: ClusterPlan[];
  topic: sns.ITopic;
  topicKey?: kms.IKey;
  archive: s3.IBucket;
  logGroup: logs.ILogGroup;
  vpc?: unknown;
  tokenSecretKeys: kms.IKey[];
}

const statement = (sid: string, actions: string[], resources: string[], conditions?: object) =>
  new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) });
const doc = (...statements: iam.PolicyStatement[]) => new iam.PolicyDocument({ statements });

export function functionPolicies(
  scope: Construct,
  inputs: PolicyInputs,
): Record<string, iam.PolicyDocument> {
  const stack = Stack.of(scope);
  const direct = inputs.clusters.filter((c) => !c.roleArn);
  const policies: Record<string, iam.PolicyDocument> = {};
  if (direct.length > 0) Object.assign(policies, directClusterPolicies(stack, direct, inputs));

  const assumedRoles = unique(inputs.clusters.flatMap((c) => (c.roleArn ? [c.roleArn] : [])));
  if (assumedRoles.length > 0) {
    policies.AssumeClusterRoles = doc(
      statement('AssumeClusterRoles', ['sts:AssumeRole'], assumedRoles),
    );
  }
  policies.PublishReport = publishPolicy(stack, inputs);
  const { securityHub, datadog, discover } = inputs.config;
  if (securityHub?.enabled) {
    policies.SecurityHubImport = doc(
      statement(
        'ImportFindingsToDefaultProduct',
        ['securityhub:BatchImportFindings'],
        [
          // The account's default Security Hub product in the stack's region.
          stack.formatArn({
            service: 'securityhub',
            resource: 'product',
            resourceName: `${stack.account}/default`,
          }),
        ],
      ),
    );
  }
  if (datadog) {
    policies.DatadogApiKeyRead = doc(
      statement(
        'ReadDatadogApiKey',
        ['secretsmanager:GetSecretValue'],
        [secretArn(stack, datadog.apiKeySecret)],
      ),
    );
  }
  if (discover) {
    const roleName = discover.organization?.roleName ?? discover.roleName;
    const statements = [
      statement(
        'AssumeReaderRoles',
        ['sts:AssumeRole'],
        (discover.accounts ?? ['*']).map(
          (account) => `arn:${Aws.PARTITION}:iam::${account}:role/${roleName}`,
        ),
      ),
    ];
    if (discover.organization) {
      statements.push(
        statement(
          'ListOrganizationAccounts',
          ['organizations:ListAccounts', 'organizations:ListAccountsForParent'],
          ['*'],
        ),
      );
    }
    policies.DiscoverClusters = doc(...statements);
  }
  policies.WriteLogs = doc(
    statement(
      'WriteOwnLogs',
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [inputs.logGroup.logGroupArn],
    ),
  );
  if (inputs.vpc) {
    policies.VpcNetworkInterfaces = doc(
      statement(
        'ManageVpcNetworkInterfaces',
        [
          'ec2:AssignPrivateIpAddresses',
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:UnassignPrivateIpAddresses',
        ],
        ['*'],
      ),
    );
  }
  return policies;
}

/** Clusters the function reaches with its own role: EKS, networking and the token secrets. */
function directClusterPolicies(
  stack: Stack,
  direct: ClusterPlan[],
  inputs: PolicyInputs,
): Record<string, iam.PolicyDocument> {
  const secretStatements = [
    statement(
      'ReadTokenSecrets',
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      unique(
        direct.flatMap((c) =>
          [c.tokenSecretId, ...c.keySecretIds].map((id) => secretArn(stack, id, c.region)),
        ),
      ),
    ),
  ];
  if (inputs.tokenSecretKeys.length > 0) {
    secretStatements.push(
      statement(
        'DecryptTokenSecretsViaSecretsManager',
        ['kms:Decrypt'],
        inputs.tokenSecretKeys.map((k) => k.keyArn),
        {
          StringEquals: {
            'kms:ViaService': unique(direct.map((c) => `secretsmanager.${c.region}.amazonaws.com`)),
          },
        },
      ),
    );
  }
  const scopes = eksReadScopes(direct);
  return {
    EksRead: doc(
      statement(
        'ReadClusters',
        ['eks:DescribeCluster', 'eks:ListAccessEntries', 'eks:ListFargateProfiles'],
        scopes.map((c) => eksArn(stack, c, 'cluster')),
      ),
      statement(
        'ReadFargateProfiles',
        ['eks:DescribeFargateProfile'],
        scopes.map((c) => eksArn(stack, c, 'fargateprofile', '/*')),
      ),
      statement(
        'ReadAccessEntries',
        ['eks:DescribeAccessEntry'],
        scopes.map((c) => eksArn(stack, c, 'access-entry', '/*')),
      ),
    ),
    Ec2Describe: doc(
      statement(
        'DescribeNetworking',
        [
          'ec2:DescribeInstances',
          'ec2:DescribeRouteTables',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
        ],
        ['*'],
      ),
    ),
    TokenSecretRead: doc(...secretStatements),
  };
}

/** SNS (and the topic's key, through SNS only), the archive's two prefixes, 404s as 404. */
function publishPolicy(stack: Stack, inputs: PolicyInputs): iam.PolicyDocument {
  return doc(
    statement('PublishToTopic', ['sns:Publish'], [inputs.topic.topicArn]),
    ...(inputs.topicKey
      ? [
          statement(
            'EncryptForTopic',
            ['kms:Decrypt', 'kms:GenerateDataKey'],
            [inputs.topicKey.keyArn],
            {
              StringEquals: { 'kms:ViaService': `sns.${stack.region}.amazonaws.com` },
            },
          ),
        ]
      : []),
    statement(
      'ReadWriteReports',
      ['s3:GetObject', 's3:PutObject'],
      [inputs.archive.arnForObjects(`${ARCHIVE_PREFIX}*`)],
    ),
    statement(
      'ReadWriteRunScratch',
      ['s3:GetObject', 's3:PutObject'],
      [inputs.archive.arnForObjects(`${RUNS_PREFIX}*`)],
    ),
    statement('ListArchiveFor404', ['s3:ListBucket'], [inputs.archive.bucketArn]),
  );
}
