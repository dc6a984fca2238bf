import { readFileSync } from 'node:fs';

/** Configurations the infra tests synthesize, each once per test file. */

/** auditor.config.example.json: two same-account clusters in the stack region, one cross-account. */
export const EXAMPLE = JSON.parse(
  readFileSync(new URL('../../auditor.config.example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/** Every feature: VPC (new security group), CMK on the secret, another region, cross-account. */
export const FULL = {
  region: 'eu-west-1',
  clusters: [
    { name: 'prod-fargate' },
    {
      name: 'tokyo',
      region: 'ap-northeast-1',
      tokenSecret: {
        id: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:dd/token-AbCdEf',
      },
    },
    {
      name: 'shared',
      region: 'eu-central-1',
      roleArn: 'arn:aws:iam::210987654321:role/auditor-reader',
    },
  ],
  deploy: {
    alertEmails: ['a@example.com', 'b@example.com'],
    emailFilter: { drift: ['new'], maxSeverity: ['critical', 'high'], trigger: ['scheduled'] },
    vpc: {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
    },
    tokenSecretKmsKeyArns: [
      'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ],
  },
  securityHub: { enabled: true },
  datadog: { site: 'datadoghq.eu', apiKeySecret: 'datadog/api-key' },
};

/** Little: one cross-account cluster, no schedule, no email, existing security group, no reservation. */
export const MINIMAL = {
  clusters: [{ name: 'remote', roleArn: 'arn:aws:iam::210987654321:role/auditor-reader' }],
  deploy: {
    stackName: 'AuditorMinimal',
    schedule: { expression: 'cron(30 6 ? * MON-FRI *)', timezone: 'Europe/Paris', enabled: false },
    vpc: {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0'],
      securityGroupIds: ['sg-0123456789abcdef0'],
    },
    reservedConcurrency: null,
    memoryMb: 512,
    timeoutSeconds: 600,
    logRetentionDays: 30,
  },
};

/** 30 same-region clusters: above PER_CLUSTER_ALARMS_MAX, so the drift alarms are fleet-wide. */
export const THIRTY = {
  region: 'eu-west-1',
  clusters: Array.from({ length: 30 }, (_, i) => ({ name: `fleet-${String(i).padStart(2, '0')}` })),
};

/** The configurations whose logical ids test/infra/data/logical-ids-main.json records. */
export const LOGICAL_ID_CONFIGS = {
  example: EXAMPLE,
  full: FULL,
  minimal: MINIMAL,
  thirty: THIRTY,
};
