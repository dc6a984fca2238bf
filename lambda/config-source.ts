/**
 * Where a deployed function reads its configuration: an SSM parameter (AUDITOR_CONFIG_PARAMETER),
 * an S3 object when it outgrows a parameter (AUDITOR_CONFIG_S3, `s3://bucket/key`), or, for small
 * configurations and older stacks, the JSON itself (AUDITOR_CONFIG). Whatever the source, the text
 * goes through the one zod schema (parseConfigText), so a bad field fails the same way everywhere.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError, parseConfigText, type AuditorConfig } from './config.js';

export const CONFIG_ENV = 'AUDITOR_CONFIG';
export const CONFIG_PARAMETER_ENV = 'AUDITOR_CONFIG_PARAMETER';
export const CONFIG_S3_ENV = 'AUDITOR_CONFIG_S3';

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

/** The configuration from the first source the environment names (parameter, S3, inline JSON). */
export async function loadConfig(
  clients: ConfigClients,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AuditorConfig> {
  const parameter = env[CONFIG_PARAMETER_ENV];
  if (parameter) {
    let text: string | undefined;
    try {
      const res = await clients
        .ssm()
        .send(new GetParameterCommand({ Name: parameter, WithDecryption: true }));
      text = res.Parameter?.Value;
    } catch (err) {
      throw new ConfigError(
        `Cannot read the configuration parameter ${parameter} (${(err as Error).name}: ${(err as Error).message}): check that it exists in this region and that the function role may ssm:GetParameter on it.`,
      );
    }
    if (!text) throw new ConfigError(`The configuration parameter ${parameter} is empty.`);
    return parseConfigText(text, `SSM parameter ${parameter}`);
  }
  const s3Location = env[CONFIG_S3_ENV];
  if (s3Location) {
    const { bucket, key } = parseS3Uri(s3Location);
    let text: string | undefined;
    try {
      const res = await clients.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      text = await res.Body?.transformToString('utf8');
    } catch (err) {
      throw new ConfigError(
        `Cannot read the configuration object ${s3Location} (${(err as Error).name}: ${(err as Error).message}): check that it exists and that the function role may s3:GetObject on it.`,
      );
    }
    if (!text) throw new ConfigError(`The configuration object ${s3Location} is empty.`);
    return parseConfigText(text, `S3 object ${s3Location}`);
  }
  if (env[CONFIG_ENV]) return loadConfigFromEnv(env);
  throw new ConfigError(
    `No configuration: set ${CONFIG_PARAMETER_ENV} (an SSM parameter name), ${CONFIG_S3_ENV} (s3://bucket/key) or ${CONFIG_ENV} (the JSON itself). The CDK stack sets one of them.`,
  );
}
