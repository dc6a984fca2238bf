import { readFileSync } from 'node:fs';

/**
 * Configurations the infra tests synthesize. The named ones ({@link STACK_CONFIGS}) are synthesized
 * once per run by the global setup and read from the template cache (support.ts `synthNamed`).
 */

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

/** 300 clusters across 30 member accounts, each reached through its reader role. */
export const FLEET_300 = {
  region: 'eu-west-1',
  clusters: Array.from({ length: 300 }, (_, i) => ({
    name: `team-${i}-fargate`,
    roleArn: `arn:aws:iam::${String(100000000000 + (i % 30))}:role/eks-datadog-auditor-reader`,
  })),
  fleet: { maxConcurrency: 40, toleratedFailurePercentage: 5 },
};

/** The example plus both optional deliveries: Security Hub and Datadog (secret by name). */
export const WITH_INTEGRATIONS = {
  ...EXAMPLE,
  securityHub: { enabled: true },
  datadog: { site: 'datadoghq.eu', apiKeySecret: 'datadog/api-key' },
};

/** The example with the Datadog API key secret given as an ARN. */
export const DATADOG_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd-AbCdEf';

const regional = (names: string[]) => names.map((name) => ({ name, region: 'eu-west-1' }));

/** Three clusters, two audited at once: the fleet state machine test's small fleet. */
export const FLEET_3 = {
  clusters: regional(['golang-cluster', 'payments', 'batch']),
  fleet: { maxConcurrency: 2 },
};

/** 150 clusters mapped inline (the inline Map at its largest): the fleet test's large fleet. */
export const FLEET_150 = {
  clusters: regional(Array.from({ length: 150 }, (_, i) => `cluster-${i}`)),
  fleet: { maxConcurrency: 40, inlineMaxClusters: 150 },
};

/**
 * Named stack configurations: each is synthesized once per run (test/infra/global-setup.js) and
 * its template cached under a hash of the configuration and the sources (template-cache.ts).
 * A factory per name, so a test and the cache always see the same object shape.
 */
export const STACK_CONFIGS = {
  example: () => EXAMPLE,
  full: () => FULL,
  minimal: () => MINIMAL,
  'fleet-300': () => FLEET_300,
  integrations: () => WITH_INTEGRATIONS,
  'datadog-secret-arn': () => ({ ...EXAMPLE, datadog: { apiKeySecret: DATADOG_SECRET_ARN } }),
  'fleet-3': () => FLEET_3,
  'fleet-150': () => FLEET_150,
} satisfies Record<string, () => unknown>;

export type StackConfigName = keyof typeof STACK_CONFIGS;

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
