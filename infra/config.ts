import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  auditorConfigSchema,
  ConfigError,
  describeIssues,
  MISSING_CLUSTERS,
  missingClusters,
  severitySchema,
  type AuditorConfig,
} from '../lambda/config/config.js';

/**
 * The deployment configuration file (`auditor.config.json`): the Lambda's own schema
 * (auditorConfigSchema, so the stack and the function cannot disagree) plus a `deploy` section the
 * function never sees. `topicArn` and `archiveBucket` are filled in by the stack.
 */

export const DEFAULT_CONFIG_FILE = 'auditor.config.json';
export const DEFAULT_SCHEDULE = 'cron(0 2 * * ? *)';
export const DEFAULT_TIMEZONE = 'UTC';
export const DEFAULT_MEMORY_MB = 256;
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const DEFAULT_LOG_RETENTION_DAYS = 90;

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Values of the SNS message attributes the handler sets; subscription filters may only use these. */
export const TRIGGER_VALUES = ['scheduled', 'on-demand'] as const;
/** `unknown`: no previous report could be read to compare with. */
export const DRIFT_VALUES = ['new', 'resolved', 'none', 'unknown'] as const;
export const MAX_SEVERITY_VALUES = [...severitySchema.options, 'none'] as const;

/** An EventBridge Scheduler expression: cron (6 fields), rate or at. */
export const SCHEDULE_EXPRESSION =
  /^(cron\(\S+( \S+){5}\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/;

const scheduleExpression = z
  .string()
  .regex(
    SCHEDULE_EXPRESSION,
    'must be an EventBridge Scheduler expression: cron(min hour day month weekday year), rate(N unit) or at(yyyy-mm-ddThh:mm:ss)',
  );

const timeZone = z
  .string()
  .refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Paris');

const kmsKeyArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-fA-F-]{36}$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/mrk-[0-9a-f]{32}$/,
    'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>), not an alias',
  );

export const deploySchema = z
  .object({
    /** CloudFormation stack name. Default `EksDatadogAuditor`. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a CloudFormation stack name')
      .default('EksDatadogAuditor'),
    schedule: z
      .object({
        /** Default `cron(0 2 * * ? *)`: daily at 02:00 in `timezone`. */
        expression: scheduleExpression.default(DEFAULT_SCHEDULE),
        /** IANA time zone of the expression. Default `UTC`. */
        timezone: timeZone.default(DEFAULT_TIMEZONE),
        /** Set false to deploy without running on a schedule (on-demand only). Default true. */
        enabled: z.boolean().default(true),
      })
      .strict()
      .default({ expression: DEFAULT_SCHEDULE, timezone: DEFAULT_TIMEZONE, enabled: true }),
    /** Email addresses subscribed to the topic (reports and alarms). Default none. */
    alertEmails: z
      .array(z.email('must be an email address'))
      .refine((a) => new Set(a).size === a.length, 'each email address may appear only once')
      .default([]),
    /**
     * Report emails only when every listed message attribute matches one of its values; alarm
     * notifications always pass. Default: every report the notify policy sends.
     */
    emailFilter: z
      .object({
        drift: z.array(z.enum(DRIFT_VALUES)).min(1).optional(),
        maxSeverity: z.array(z.enum(MAX_SEVERITY_VALUES)).min(1).optional(),
        cluster: z.array(z.string().min(1)).min(1).optional(),
        trigger: z.array(z.enum(TRIGGER_VALUES)).min(1).optional(),
      })
      .strict()
      .refine((f) => Object.keys(f).length > 0, 'list at least one attribute, or omit emailFilter')
      .optional(),
    /** Place the function in these subnets (private cluster endpoints). Default: no VPC. */
    vpc: z
      .object({
        vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-...)'),
        subnetIds: z
          .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id (subnet-...)'))
          .min(1, 'list at least one private subnet'),
        /** Default: a new group allowing only HTTPS (443) out. */
        securityGroupIds: z
          .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id (sg-...)'))
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
    /** KMS keys encrypting the token secrets (customer managed keys only). Default none. */
    tokenSecretKmsKeyArns: z.array(kmsKeyArn).default([]),
    /** Create an EKS access entry per same-account, same-region cluster. Default true. */
    createAccessEntries: z.boolean().default(true),
    /** Default 256. */
    memoryMb: z.number().int().min(128).max(10240).default(DEFAULT_MEMORY_MB),
    /** Default 300 (5 minutes). */
    timeoutSeconds: z.number().int().min(30).max(900).default(DEFAULT_TIMEOUT_SECONDS),
    /**
     * Default 1: audits never overlap (the drift diff reads and writes one latest.json). `null` reserves
     * none, for accounts whose concurrency limit leaves no room to reserve.
     */
    reservedConcurrency: z.union([z.literal(1), z.null()]).default(1),
    /** Default 90. */
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(DEFAULT_LOG_RETENTION_DAYS),
  })
  .strict();

export const deploymentConfigSchema = auditorConfigSchema
  .extend({ deploy: deploySchema.default(() => deploySchema.parse({})) })
  .superRefine((c, ctx) => {
    if (missingClusters(c)) {
      ctx.addIssue({ code: 'custom', path: ['clusters'], message: MISSING_CLUSTERS });
    }
    for (const field of ['topicArn', 'archiveBucket'] as const) {
      if (c[field] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: 'is set by the stack (it creates the topic and the archive bucket); remove it',
        });
      }
    }
  });

export type DeployOptions = z.infer<typeof deploySchema>;
export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

export function parseDeploymentConfig(input: unknown, origin: string): DeploymentConfig {
  const result = deploymentConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      `Invalid auditor configuration in ${origin}:\n${describeIssues(result.error)}\nFix these fields and run cdk again.`,
    );
  }
  return result.data;
}

export function loadDeploymentConfig(path: string): DeploymentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError(
      missing
        ? `Configuration file ${path} not found: copy auditor.config.example.json to ${path} and edit it, or pass -c configFile=<path>.`
        : `Cannot read configuration file ${path}: ${(err as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `Configuration ${path} is not valid JSON: ${(err as Error).message}. Fix the file and run cdk again.`,
    );
  }
  return parseDeploymentConfig(value, path);
}

/** The part the function receives (without `deploy`); the stack adds topicArn and archiveBucket. */
export function functionConfigOf(config: DeploymentConfig): AuditorConfig {
  const { deploy: _deploy, ...rest } = config;
  return rest;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
