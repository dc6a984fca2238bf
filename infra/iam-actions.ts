/**
 * Every IAM action the stack grants the auditor's function role, in two kinds, so tests can prove
 * least privilege from both ends: the synthesized policy grants exactly AUDITOR_IAM_ACTIONS (for a
 * configuration that uses every feature), and the AWS calls the code makes (recorded through
 * aws-sdk-client-mock) map one-to-one onto AUDITOR_API_ACTIONS.
 */

/** SDK command (as recorded by aws-sdk-client-mock) -> the IAM action it needs. */
export const API_ACTION_BY_COMMAND = {
  // eks (same-account clusters; cross-account clusters go through the assumed role)
  DescribeClusterCommand: 'eks:DescribeCluster',
  ListFargateProfilesCommand: 'eks:ListFargateProfiles',
  DescribeFargateProfileCommand: 'eks:DescribeFargateProfile',
  ListAccessEntriesCommand: 'eks:ListAccessEntries',
  DescribeAccessEntryCommand: 'eks:DescribeAccessEntry',
  // ec2
  DescribeSecurityGroupsCommand: 'ec2:DescribeSecurityGroups',
  DescribeSubnetsCommand: 'ec2:DescribeSubnets',
  DescribeRouteTablesCommand: 'ec2:DescribeRouteTables',
  DescribeInstancesCommand: 'ec2:DescribeInstances',
  // secrets manager (the Cluster Agent token; digested at once)
  GetSecretValueCommand: 'secretsmanager:GetSecretValue',
  DescribeSecretCommand: 'secretsmanager:DescribeSecret',
  // sts (cross-account clusters)
  AssumeRoleCommand: 'sts:AssumeRole',
  // report
  PublishCommand: 'sns:Publish',
  GetObjectCommand: 's3:GetObject',
  PutObjectCommand: 's3:PutObject',
  // security hub (opt-in: securityHub.enabled), on the account's default product only
  BatchImportFindingsCommand: 'securityhub:BatchImportFindings',
  // lambda/config/source.ts: the functions' configuration (AUDITOR_CONFIG_PARAMETER).
  GetParameterCommand: 'ssm:GetParameter',
} as const;

export type ApiCommand = keyof typeof API_ACTION_BY_COMMAND;

/** IAM actions matching the SDK calls the code makes. */
export const AUDITOR_API_ACTIONS: readonly string[] = [
  ...new Set(Object.values(API_ACTION_BY_COMMAND)),
].sort();

/**
 * Actions no SDK call of ours names, which AWS needs on the function's behalf; each with why.
 * (The EKS bearer token is a presigned sts:GetCallerIdentity URL: that call needs no permission.)
 */
export const AUDITOR_SUPPORT_ACTIONS: Readonly<Record<string, string>> = {
  'kms:Decrypt':
    'Secrets Manager decrypts a token secret under a customer managed key (kms:ViaService secretsmanager); SNS needs it with GenerateDataKey to encrypt on publish (kms:ViaService sns)',
  'kms:GenerateDataKey':
    'SNS encrypts each published message under the topic key (kms:ViaService sns)',
  's3:ListBucket':
    'lets S3 answer 404 rather than 403 for a missing reports/latest.json on the first run, so a real permission problem is not mistaken for "no previous report"',
  'logs:CreateLogStream': "the function's own log group",
  'logs:PutLogEvents': "the function's own log group (logs and EMF metrics)",
  'xray:PutTraceSegments': 'active X-Ray tracing',
  'xray:PutTelemetryRecords': 'active X-Ray tracing',
  'ec2:CreateNetworkInterface': 'VPC placement only: Lambda attaches the function to the subnets',
  'ec2:DescribeNetworkInterfaces': 'VPC placement only',
  'ec2:DeleteNetworkInterface': 'VPC placement only',
  'ec2:AssignPrivateIpAddresses': 'VPC placement only',
  'ec2:UnassignPrivateIpAddresses': 'VPC placement only',
};

/** Everything the function role may do, when every feature is configured. */
export const AUDITOR_IAM_ACTIONS: readonly string[] = [
  ...AUDITOR_API_ACTIONS,
  ...Object.keys(AUDITOR_SUPPORT_ACTIONS),
].sort();

/**
 * Commands the code builds that need no IAM grant, with why. GetCallerIdentity is never sent: the
 * EKS token signer only resolves its endpoint, then presigns it for the API server to call, and
 * sts:GetCallerIdentity needs no permission anyway.
 */
export const COMMANDS_WITHOUT_GRANT: Readonly<Record<string, string>> = {
  GetCallerIdentityCommand:
    'EKS bearer token: presigned, never sent by the auditor; needs no permission',
};

/**
 * Commands our code never constructs because a library sends them for us, and where.
 * (A static scan of lambda/ for `new XCommand(` finds every other one.)
 */
export const COMMANDS_SENT_BY_LIBRARIES: Readonly<Record<string, string>> = {
  AssumeRoleCommand:
    'fromTemporaryCredentials in lambda/collect/aws/clients.ts (clusters with roleArn)',
  GetParameterCommand:
    "Powertools Parameters' SSMProvider in lambda/config/source.ts (the configuration parameter)",
};

/**
 * The IAM action a recorded SDK command needs; null for one that needs none; throws for a
 * command the stack never grants.
 */
export function iamActionForCommand(commandName: string): string | null {
  if (commandName in COMMANDS_WITHOUT_GRANT) return null;
  const action = (API_ACTION_BY_COMMAND as Record<string, string>)[commandName];
  if (!action) {
    throw new Error(
      `${commandName} has no IAM grant in infra/iam-actions.ts: add it there and to the stack's policy, or stop calling it`,
    );
  }
  return action;
}
