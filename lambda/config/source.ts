/**
 * Where a deployed function reads its configuration: an SSM parameter (AUDITOR_CONFIG_PARAMETER),
 * an S3 object when it outgrows a parameter (AUDITOR_CONFIG_S3, `s3://bucket/key`), or, for small
 * configurations and older stacks, the JSON itself (AUDITOR_CONFIG). Whatever the source, the text
 * goes through the one zod schema (parseConfigText), so a bad field fails the same way everywhere.
 *
 * A warm container keeps what it read for a bounded age (AUDITOR_CONFIG_MAX_AGE_SECONDS, default 5
 * minutes: the SSM parameter through Powertools Parameters' cache, the S3 object alike), so a
 * change reaches every container within that age. A failed read is never kept: the next
 * invocation reads again.
 */
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { gunzipSync } from 'node:zlib';
import { ConfigError, parseConfig, parseConfigText, type AuditorConfig } from './config.js';

export const CONFIG_ENV = 'AUDITOR_CONFIG';
export const CONFIG_PARAMETER_ENV = 'AUDITOR_CONFIG_PARAMETER';
export const CONFIG_S3_ENV = 'AUDITOR_CONFIG_S3';
/** How long a warm container keeps the configuration it read, in seconds. */
export const CONFIG_MAX_AGE_ENV = 'AUDITOR_CONFIG_MAX_AGE_SECONDS';
export const DEFAULT_CONFIG_MAX_AGE_SECONDS = 300;
/** Set by the stack beside a parameter or S3 source: values only known at deploy time. */
export const TOPIC_ARN_ENV = 'AUDITOR_TOPIC_ARN';
export const ARCHIVE_BUCKET_ENV = 'AUDITOR_ARCHIVE_BUCKET';
/** Marks a parameter value holding gzip + base64 of the configuration JSON. */
export const GZIP_PREFIX = 'gzip:';

/** The stored text as JSON text (a large configuration is stored compressed). */
export function decodeStored(text: string): string {
  return text.startsWith(GZIP_PREFIX)
    ? gunzipSync(Buffer.from(text.slice(GZIP_PREFIX.length), 'base64')).toString('utf8')
    : text;
}

/** parseConfigText, with the deploy-time topic and bucket from the environment filled in. */
function parseStored(text: string, origin: string, env: NodeJS.ProcessEnv): AuditorConfig {
  let value: unknown;
  try {
    value = JSON.parse(decodeStored(text));
  } catch (err) {
    throw new ConfigError(
      `Configuration ${origin} is not valid JSON: ${(err as Error).message}. Fix it and run again.`,
    );
  }
  const topicArn = env[TOPIC_ARN_ENV];
  const archiveBucket = env[ARCHIVE_BUCKET_ENV];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    value = {
      ...value,
      ...(topicArn ? { topicArn } : {}),
      ...(archiveBucket ? { archiveBucket } : {}),
    };
  }
  return parseConfig(value, origin);
}

export interface ConfigClients {
  ssm(): SSMClient;
  s3(): S3Client;
}

/** Reads and validates `AUDITOR_CONFIG` (the JSON config itself). */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuditorConfig {
  const text = env[CONFIG_ENV];
  if (!text || !text.trim()) {
    throw new ConfigError(
      `${CONFIG_ENV} is not set: the function needs its configuration as JSON in this environment variable (the CDK stack sets it from auditor.config.json).`,
    );
  }
  return parseConfigText(text, `environment variable ${CONFIG_ENV}`);
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) {
    throw new ConfigError(
      `${CONFIG_S3_ENV} must be an S3 URI such as s3://my-bucket/config/auditor.config.json, not "${uri}".`,
    );
  }
  return { bucket: m[1]!, key: m[2]! };
}

/** The cache age from the environment: a whole number of seconds, 0 reads on every invocation. */
export function configMaxAgeSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[CONFIG_MAX_AGE_ENV]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_CONFIG_MAX_AGE_SECONDS;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(
      `${CONFIG_MAX_AGE_ENV} must be a whole number of seconds (0 or more), not "${raw}".`,
    );
  }
  return Number(raw);
}

export interface ConfigReaderOptions {
  /** Seconds a read configuration is kept. Default: {@link CONFIG_MAX_AGE_ENV}, else 300. */
  maxAgeSeconds?: number;
}

/**
 * The configuration reader of one container: each call returns the configuration from the first
 * source the environment names (parameter, S3, inline JSON), read again once it is older than the
 * cache age. A failed or invalid read throws a ConfigError for that call only and is never cached.
 */
export function configReader(
  clients: ConfigClients,
  env: NodeJS.ProcessEnv = process.env,
  options: ConfigReaderOptions = {},
): () => Promise<AuditorConfig> {
  const maxAge = options.maxAgeSeconds ?? configMaxAgeSeconds(env);
  let ssm: SSMProvider | undefined;
  let s3Cache: { text: string; until: number } | undefined;
  // The last text and its parse: the same text is not parsed again.
  let parsed: { text: string; config: AuditorConfig } | undefined;
  const parse = (text: string, origin: string): AuditorConfig => {
    if (parsed?.text !== text) parsed = { text, config: parseStored(text, origin, env) };
    return parsed.config;
  };

  return async () => {
    const parameter = env[CONFIG_PARAMETER_ENV];
    if (parameter) {
      ssm ??= new SSMProvider({ awsSdkV3Client: clients.ssm() });
      let text: string | undefined;
      try {
        text = await ssm.get(parameter, { decrypt: true, maxAge });
      } catch (err) {
        const cause = ((err as Error).cause as Error | undefined) ?? (err as Error);
        throw new ConfigError(
          `Cannot read the configuration parameter ${parameter} (${cause.name}: ${cause.message}): check that it exists in this region and that the function role may ssm:GetParameter on it; the next invocation reads it again.`,
        );
      }
      if (!text) throw new ConfigError(`The configuration parameter ${parameter} is empty.`);
      return parse(text, `SSM parameter ${parameter}`);
    }
    const s3Location = env[CONFIG_S3_ENV];
    if (s3Location) {
      const { bucket, key } = parseS3Uri(s3Location);
      if (!s3Cache || s3Cache.until <= Date.now()) {
        s3Cache = undefined;
        let text: string | undefined;
        try {
          const res = await clients.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          text = await res.Body?.transformToString('utf8');
        } catch (err) {
          throw new ConfigError(
            `Cannot read the configuration object ${s3Location} (${(err as Error).name}: ${(err as Error).message}): check that it exists and that the function role may s3:GetObject on it; the next invocation reads it again.`,
          );
        }
        if (!text) throw new ConfigError(`The configuration object ${s3Location} is empty.`);
        if (maxAge > 0) s3Cache = { text, until: Date.now() + maxAge * 1000 };
        return parse(text, `S3 object ${s3Location}`);
      }
      return parse(s3Cache.text, `S3 object ${s3Location}`);
    }
    if (env[CONFIG_ENV]) return loadConfigFromEnv(env);
    throw new ConfigError(
      `No configuration: set ${CONFIG_PARAMETER_ENV} (an SSM parameter name), ${CONFIG_S3_ENV} (s3://bucket/key) or ${CONFIG_ENV} (the JSON itself). The CDK stack sets one of them.`,
    );
  };
}

/** The configuration from the first source the environment names, read now (no cache). */
export function loadConfig(
  clients: ConfigClients,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AuditorConfig> {
  return configReader(clients, env, { maxAgeSeconds: 0 })();
}
