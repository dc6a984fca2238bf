import { z } from 'zod';
import { SEVERITIES } from './findings.js';
import { suppressionProblems, suppressionSchema } from './suppressions.js';

/** Per-cluster settings the checks need, resolved from the config (with defaults). */
export interface AuditSettings {
  tokenSecretId: string;
  tokenSecretProperty?: string;
  /** Secrets Manager secret of the Datadog API key; absent in older snapshots (default applies). */
  apiKeySecretId?: string;
  apiKeySecretProperty?: string;
  /** Secrets Manager secret of the Datadog application key; absent in older snapshots. */
  appKeySecretId?: string;
  appKeySecretProperty?: string;
  clusterAgent: {
    /** Namespace of the Cluster Agent when discovery should not guess. */
    namespace?: string;
    serviceName?: string;
    /** Command port; 5005 by default. */
    port: number;
  };
}

/**
 * One schema for the auditor's configuration, shared by the Lambda (environment), the CLI
 * (`--config FILE`) and the CDK stack (`auditor.config.json`). Defaults live here and only here.
 */

export const DEFAULT_TOKEN_SECRET_ID = 'datadog/cluster-agent-token';
/** Secrets Manager secrets of the Datadog API and application keys, unless configured. */
export const DEFAULT_API_KEY_SECRET_ID = 'datadog/apikey';
export const DEFAULT_APP_KEY_SECRET_ID = 'datadog/appkey';
export const DEFAULT_CLUSTER_AGENT_PORT = 5005;

const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1');

const roleArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
    'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
  );

const clusterName = z
  .string()
  .regex(
    /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/,
    'must be an EKS cluster name (letters, digits, - and _)',
  );

const clusterAgentOverrides = z
  .object({
    namespace: z.string().min(1).optional(),
    serviceName: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
  })
  .strict();

const tokenSecret = z
  .object({
    /** Secrets Manager secret id or ARN holding the Cluster Agent token. */
    id: z.string().min(1).default(DEFAULT_TOKEN_SECRET_ID),
    /** JSON property holding the token, when the secret is a JSON document. */
    property: z.string().min(1).optional(),
  })
  .strict();

/** Same shape as tokenSecret, for the Datadog API key and application key. */
const keySecret = (defaultId: string) =>
  z
    .object({
      /** Secrets Manager secret id or ARN holding the key. */
      id: z.string().min(1).default(defaultId),
      /** JSON property holding the key, when the secret is a JSON document. */
      property: z.string().min(1).optional(),
    })
    .strict();

/** Datadog sites (the `site` of the agent's and the API client's configuration). */
export const DATADOG_SITES = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'datadoghq.eu',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'ddog-gov.com',
] as const;

const securityHubSchema = z
  .object({
    enabled: z.boolean().default(false),
    /**
     * Account that owns the findings (where the function runs). Default: the account of the
     * function's own ARN.
     */
    accountId: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
  })
  .strict();

const datadogSchema = z
  .object({
    site: z.enum(DATADOG_SITES).default('datadoghq.com'),
    /** Secrets Manager secret id or ARN holding the Datadog API key (read once per run). */
    apiKeySecret: z.string().min(1),
    /** JSON property holding the key, when the secret is a JSON document. */
    apiKeyProperty: z.string().min(1).optional(),
    /** Extra tags on the event and every metric, e.g. `env:prod`. */
    tags: z
      .array(z.string().regex(/^[A-Za-z][^,\s]{0,199}$/, 'must be a Datadog tag such as env:prod'))
      .default([]),
  })
  .strict();

export type SecurityHubConfig = z.infer<typeof securityHubSchema>;
export type DatadogConfig = z.infer<typeof datadogSchema>;

export const clusterConfigSchema = z
  .object({
    name: clusterName,
    region: awsRegion.optional(),
    /** Role to assume first (cross-account). */
    roleArn: roleArn.optional(),
    tokenSecret: tokenSecret.partial().optional(),
    apiKeySecret: keySecret(DEFAULT_API_KEY_SECRET_ID).partial().optional(),
    appKeySecret: keySecret(DEFAULT_APP_KEY_SECRET_ID).partial().optional(),
    clusterAgent: clusterAgentOverrides.optional(),
  })
  .strict();

export const severitySchema = z.enum(SEVERITIES);
/** Thresholds for --fail-on: any severity but info, or never. */
export const SEVERITY_OR_NEVER = ['critical', 'high', 'medium', 'low', 'never'] as const;
export const notifyPolicySchema = z.enum(['always', 'drift', 'never']);

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

/** Clusters found at run time: every EKS cluster of these accounts and regions with these tags. */
export const discoverConfigSchema = z
  .object({
    regions: z.array(awsRegion).min(1, 'list at least one region'),
    /** Every tag listed must be on the cluster with this value. Default: no filter. */
    tags: z.record(z.string().min(1), z.string()).default({}),
    /** The reader role deployed in each account (infra/member-stack.ts). */
    roleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')
      .default('eks-datadog-auditor-reader'),
    accounts: z.array(accountId).min(1).optional(),
    organization: z
      .object({
        /** Overrides roleName for the organization's accounts. */
        roleName: z
          .string()
          .regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')
          .optional(),
        /** Accounts directly under these OUs; default every active account. */
        ouIds: z
          .array(
            z
              .string()
              .regex(
                /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/,
                'must be an OU id (ou-...) or root id (r-...)',
              ),
          )
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((d) => (d.accounts === undefined) !== (d.organization === undefined), {
    message: 'set exactly one of accounts (a list of account ids) or organization',
  });

export const FLEET_DEFAULTS = {
  maxConcurrency: 10,
  toleratedFailurePercentage: 10,
  inlineMaxClusters: 100,
};

export const fleetConfigSchema = z
  .object({
    /** Clusters audited at once by the state machine's Map. */
    maxConcurrency: z.number().int().min(1).max(1000).default(FLEET_DEFAULTS.maxConcurrency),
    /** Map iterations that may fail (beyond the per-cluster Catch) before the run fails. */
    toleratedFailurePercentage: z
      .number()
      .min(0)
      .max(100)
      .default(FLEET_DEFAULTS.toleratedFailurePercentage),
    /** Up to this many clusters the list travels in state (inline Map); above, through S3. */
    inlineMaxClusters: z.number().int().min(1).max(1000).default(FLEET_DEFAULTS.inlineMaxClusters),
  })
  .strict();

export type DiscoverConfig = z.infer<typeof discoverConfigSchema>;
export type FleetConfig = z.infer<typeof fleetConfigSchema>;

export const auditorConfigSchema = z
  .object({
    clusters: z
      .array(clusterConfigSchema)
      // May be empty when `discover` finds the clusters: see missingClusters, checked on parse.
      .default([])
      .refine((cs) => new Set(cs.map((c) => `${c.region ?? ''}/${c.name}`)).size === cs.length, {
        message: 'each cluster may appear only once (same name and region listed twice)',
      }),
    /** Region for clusters that do not name one; else the SDK's default region. */
    region: awsRegion.optional(),
    tokenSecret: tokenSecret.default({ id: DEFAULT_TOKEN_SECRET_ID }),
    apiKeySecret: keySecret(DEFAULT_API_KEY_SECRET_ID).default({ id: DEFAULT_API_KEY_SECRET_ID }),
    appKeySecret: keySecret(DEFAULT_APP_KEY_SECRET_ID).default({ id: DEFAULT_APP_KEY_SECRET_ID }),
    clusterAgent: clusterAgentOverrides.default({}),
    notify: notifyPolicySchema.default('drift'),
    minSeverity: severitySchema.default('high'),
    topicArn: z.string().startsWith('arn:', 'must be an SNS topic ARN').optional(),
    archiveBucket: z.string().min(3).optional(),
    kubernetes: z
      .object({
        /** Objects per list page. */
        pageSize: z.number().int().min(1).max(5000).default(500),
        /**
         * Secret GETs in flight at once. 32 from `npm run bench` at 20 ms per request, N=5000:
         * 16 took 11.3 s, 32 7.5 s, 64 6.0 s but 263 MB peak RSS instead of 230.
         */
        secretConcurrency: z.number().int().min(1).max(64).default(32),
        /** Per-request timeout. */
        requestTimeoutMs: z.number().int().min(100).max(120000).default(15000),
        /** Confirm the RBAC checks' verdicts with SubjectAccessReviews when the auditor may. */
        accessReviews: z.boolean().default(true),
        /** Skip the confirmation above this many reviews (one per ServiceAccount and rule). */
        maxAccessReviews: z.number().int().min(0).max(10000).default(300),
      })
      .strict()
      .default({
        pageSize: 500,
        secretConcurrency: 32,
        requestTimeoutMs: 15000,
        accessReviews: true,
        maxAccessReviews: 300,
      }),
    /**
     * Accepted risks: matching FAIL findings become MUTED (lambda/config/suppressions.ts). Reason and
     * expiry (YYYY-MM-DD, at most a year ahead) required.
     */
    suppressions: z.array(suppressionSchema).default([]),
    /**
     * Import FAIL and MUTED findings into Security Hub (ASFF, the account's default product) and
     * archive the ones fixed since the previous run. Off unless `enabled`.
     */
    securityHub: securityHubSchema.optional(),
    /** Send a Datadog event per cluster with drift and the findings metrics. Off unless set. */
    datadog: datadogSchema.optional(),
    /** Clusters audited at once. */
    clusterConcurrency: z.number().int().min(1).max(16).default(4),
    /** Find clusters by listing EKS in accounts and regions (see fleetConfigSchemas). */
    discover: discoverConfigSchema.optional(),
    /** The Step Functions fleet run (Map concurrency, tolerated failures, inline list size). */
    fleet: fleetConfigSchema.default(FLEET_DEFAULTS),
    /**
     * The CDK stack's deployment settings (schedule, emails, VPC), validated by
     * infra/config.ts. Accepted here so the CLI reads the same auditor.config.json.
     */
    deploy: z.unknown().optional(),
  })
  .strict();

export type ClusterConfig = z.infer<typeof clusterConfigSchema>;
export type AuditorConfig = z.infer<typeof auditorConfigSchema>;
/** What a config file may say: the same shape with defaults still to be filled in. */
export type AuditorConfigInput = z.input<typeof auditorConfigSchema>;
export type KubernetesOptions = AuditorConfig['kubernetes'];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Formats zod issues as `field.path: problem` lines, one per issue. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : '(top level)';
      const unknown =
        i.code === 'unrecognized_keys' ? ` (${(i as { keys: string[] }).keys.join(', ')})` : '';
      return `  - ${path}: ${i.message}${unknown}`;
    })
    .join('\n');
}

/**
 * A configuration must name clusters or discover them. Checked after the schema (not in it) so the
 * deployment schema can still extend auditorConfigSchema; both parsers report it the same way.
 */
export const MISSING_CLUSTERS = 'list at least one cluster, or configure discover';
export function missingClusters(config: Pick<AuditorConfig, 'clusters' | 'discover'>): boolean {
  return config.clusters.length === 0 && config.discover === undefined;
}

/** Parses config from a value (already JSON-decoded); `origin` names where it came from. */
export function parseConfig(input: unknown, origin: string): AuditorConfig {
  const result = auditorConfigSchema.safeParse(input);
  if (!result.success || missingClusters(result.data)) {
    const issues = result.success
      ? `  - clusters: ${MISSING_CLUSTERS}`
      : describeIssues(result.error);
    throw new ConfigError(
      `Invalid auditor configuration in ${origin}:\n${issues}\nFix these fields and run again.`,
    );
  }
  return result.data;
}

/**
 * Refuses suppressions that the schema alone cannot judge: an expiry more than a year after the
 * run date, a check pattern that names no check. Called before any cluster is touched.
 */
export function assertSuppressions(
  config: AuditorConfig,
  opts: { now: Date; checkIds: readonly string[]; origin: string },
): void {
  const problems = suppressionProblems(config.suppressions, opts);
  if (problems.length > 0) {
    throw new ConfigError(
      `Invalid suppressions in ${opts.origin}:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix these entries and run again.`,
    );
  }
}

/** Parses config text (JSON); a syntax error names the origin and the JSON problem. */
export function parseConfigText(text: string, origin: string): AuditorConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `Configuration ${origin} is not valid JSON: ${(err as Error).message}. Fix the file and run again.`,
    );
  }
  return parseConfig(value, origin);
}

/** Resolves the per-cluster settings the snapshot carries, applying global defaults. */
export function settingsFor(config: AuditorConfig, cluster: ClusterConfig): AuditSettings {
  const property = cluster.tokenSecret?.property ?? config.tokenSecret.property;
  const namespace = cluster.clusterAgent?.namespace ?? config.clusterAgent.namespace;
  const serviceName = cluster.clusterAgent?.serviceName ?? config.clusterAgent.serviceName;
  return {
    tokenSecretId: cluster.tokenSecret?.id ?? config.tokenSecret.id,
    ...(property ? { tokenSecretProperty: property } : {}),
    ...keySettings('apiKey', cluster.apiKeySecret, config.apiKeySecret),
    ...keySettings('appKey', cluster.appKeySecret, config.appKeySecret),
    clusterAgent: {
      ...(namespace ? { namespace } : {}),
      ...(serviceName ? { serviceName } : {}),
      port: cluster.clusterAgent?.port ?? config.clusterAgent.port ?? DEFAULT_CLUSTER_AGENT_PORT,
    },
  };
}

function keySettings<P extends 'apiKey' | 'appKey'>(
  prefix: P,
  cluster: { id?: string | undefined; property?: string | undefined } | undefined,
  global: { id: string; property?: string | undefined },
): Partial<AuditSettings> {
  const property = cluster?.property ?? global.property;
  return {
    [`${prefix}SecretId`]: cluster?.id ?? global.id,
    ...(property ? { [`${prefix}SecretProperty`]: property } : {}),
  };
}

/** Attempts per operation, first try included: throttling and 5xx get a few backed-off retries. */
export const AWS_MAX_ATTEMPTS = 4;
