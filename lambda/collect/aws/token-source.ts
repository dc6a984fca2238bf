/**
 * The Cluster Agent token as Secrets Manager holds it, reduced to digests inside this module.
 * The raw value lives only inside `reduceValue`; nothing that leaves (results, errors, messages)
 * is derived from it except the digest.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { DEFAULT_API_KEY_SECRET_ID, DEFAULT_APP_KEY_SECRET_ID } from '../../config/config.js';
import { digestSecret } from '../../snapshot/secret-digest.js';
import type {
  AuditSettings,
  Collected,
  SecretDigest,
  TokenSource,
} from '../../snapshot/snapshot.js';
import type { AwsClients } from './clients.js';
import { awsErrorCode, awsErrorMessage, awsFailure } from './errors.js';

type ValueKind = TokenSource['valueKind'];

type Failed = Extract<Collected<TokenSource>, { status: 'error' }>;

class TokenSourceError extends Error {
  constructor(readonly failure: Failed) {
    super(failure.error.message);
  }
}

export async function collectTokenSource(
  clients: AwsClients,
  settings: AuditSettings,
): Promise<Collected<TokenSource>> {
  return collectSecretSource(clients, {
    secretId: settings.tokenSecretId,
    ...(settings.tokenSecretProperty ? { property: settings.tokenSecretProperty } : {}),
    configKey: 'tokenSecret',
    what: 'the Cluster Agent token',
  });
}

/** The Datadog API and application keys, read like the token: digests only. */
export async function collectKeySources(
  clients: AwsClients,
  settings: AuditSettings,
): Promise<{ apiKey: Collected<TokenSource>; appKey: Collected<TokenSource> }> {
  const [apiKey, appKey] = await Promise.all([
    collectSecretSource(clients, {
      secretId: settings.apiKeySecretId ?? DEFAULT_API_KEY_SECRET_ID,
      ...(settings.apiKeySecretProperty ? { property: settings.apiKeySecretProperty } : {}),
      configKey: 'apiKeySecret',
      what: 'the Datadog API key',
      missingIsNotInstalled: true,
    }),
    collectSecretSource(clients, {
      secretId: settings.appKeySecretId ?? DEFAULT_APP_KEY_SECRET_ID,
      ...(settings.appKeySecretProperty ? { property: settings.appKeySecretProperty } : {}),
      configKey: 'appKeySecret',
      what: 'the Datadog application key',
      missingIsNotInstalled: true,
    }),
  ]);
  return { apiKey, appKey };
}

interface SourceSpec {
  secretId: string;
  property?: string;
  /** The config field that names this secret, for hints. */
  configKey: 'tokenSecret' | 'apiKeySecret' | 'appKeySecret';
  what: string;
  /**
   * A secret that does not exist is a fact (`not-installed`), not an error: teams that keep the
   * keys elsewhere get "not evaluated" with how to configure it, not a failure per consumer.
   */
  missingIsNotInstalled?: boolean;
}

/** One Secrets Manager secret reduced to digests, with its rotation settings. */
export async function collectSecretSource(
  clients: AwsClients,
  spec: SourceSpec,
): Promise<Collected<TokenSource>> {
  const { secretId, property } = spec;
  try {
    // GetSecretValue first: it is the call ESO depends on, so its failure is the one to report.
    const current = reduceValue(
      await call(clients, 'secretsmanager:GetSecretValue', secretId, () =>
        clients.secretsManager.send(
          new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
        ),
      ),
      property,
    );
    const described = await call(clients, 'secretsmanager:DescribeSecret', secretId, () =>
      clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId })),
    );
    const versionStages: Record<string, string[]> = {};
    for (const [id, stages] of Object.entries(described.VersionIdsToStages ?? {})) {
      versionStages[id] = [...(stages ?? [])];
    }
    const pending = hasDistinctPending(versionStages)
      ? await readPending(clients, secretId, property)
      : undefined;
    const lastChanged = described.LastChangedDate;
    const source: TokenSource = {
      secretId,
      ...(described.ARN ? { arn: described.ARN } : {}),
      ...(property ? { property } : {}),
      valueKind: current.kind,
      ...(current.digest ? { current: current.digest } : {}),
      ...(pending ? { pending } : {}),
      ...(lastChanged ? { lastChangedDate: toIso(lastChanged) } : {}),
      rotationEnabled: described.RotationEnabled ?? false,
      ...(described.LastRotatedDate ? { lastRotatedDate: toIso(described.LastRotatedDate) } : {}),
      ...(described.NextRotationDate
        ? { nextRotationDate: toIso(described.NextRotationDate) }
        : {}),
      versionStages,
    };
    return { status: 'ok', value: source };
  } catch (err) {
    const failed =
      err instanceof TokenSourceError
        ? err.failure
        : // A bug of ours, not an AWS answer: still a recorded failure, never the error's own text.
          failure(err, 'secretsmanager:GetSecretValue', secretId, clients.region);
    if (spec.missingIsNotInstalled && failed.error.code === 'NotFound') {
      return {
        status: 'not-installed',
        detail: `Secrets Manager has no secret ${secretId} in ${clients.region}, so ${spec.what} was not compared with its copies. If the key lives in another secret, set ${spec.configKey}.id (and ${spec.configKey}.property for a JSON secret) in the auditor config.`,
      };
    }
    return withConfigHint(failed, spec);
  }
}

/** The NotFound hint names the config field of this secret, not always tokenSecret. */
function withConfigHint(failed: Failed, spec: SourceSpec): Failed {
  if (spec.configKey === 'tokenSecret') return failed;
  return {
    ...failed,
    error: {
      ...failed.error,
      message: failed.error.message.replace(
        /set tokenSecret\.id to the secret that holds the Cluster Agent token/,
        `set ${spec.configKey}.id to the secret that holds ${spec.what}`,
      ),
    },
  };
}

/** Rotation in progress: a version labelled AWSPENDING that is not also AWSCURRENT. */
function hasDistinctPending(versionStages: Record<string, string[]>): boolean {
  return Object.values(versionStages).some(
    (stages) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'),
  );
}

async function readPending(
  clients: AwsClients,
  secretId: string,
  property: string | undefined,
): Promise<SecretDigest | undefined> {
  try {
    const res = await clients.secretsManager.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPENDING' }),
    );
    return reduceValue(res, property).digest;
  } catch (err) {
    // The rotation Lambda labels AWSPENDING before it stores a value: nothing to compare yet.
    if (awsErrorCode(err) === 'NotFound') return undefined;
    throw new TokenSourceError(
      failure(err, 'secretsmanager:GetSecretValue', secretId, clients.region, ' (AWSPENDING)'),
    );
  }
}

/** The only place the secret value is looked at: it goes straight into digestSecret. */
function reduceValue(
  res: GetSecretValueCommandOutput,
  property: string | undefined,
): { kind: ValueKind; digest?: SecretDigest } {
  if (typeof res.SecretString === 'string') {
    if (!property) return { kind: 'string', digest: digestSecret(res.SecretString) };
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.SecretString);
    } catch {
      return { kind: 'not-json' };
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'not-json' };
    if (!Object.prototype.hasOwnProperty.call(parsed, property)) {
      return { kind: 'json-property-missing' };
    }
    const value = (parsed as Record<string, unknown>)[property];
    if (typeof value !== 'string') return { kind: 'json-property-not-string' };
    return { kind: 'string', digest: digestSecret(value) };
  }
  if (res.SecretBinary instanceof Uint8Array) {
    return { kind: 'binary', digest: digestSecret(res.SecretBinary) };
  }
  // Neither form present: nothing to digest, and checks see no current value.
  return { kind: 'string' };
}

async function call<T>(
  clients: AwsClients,
  kind: string,
  secretId: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new TokenSourceError(failure(err, kind, secretId, clients.region));
  }
}

function failure(err: unknown, kind: string, secretId: string, region: string, stage = ''): Failed {
  // Secrets Manager reports a KMS key denial as AccessDenied; what to fix is the key, not the secret.
  const kmsDenied = awsErrorCode(err) === 'AccessDenied' && /\bkms\b/i.test(awsErrorMessage(err));
  const kmsHint = `Allow kms:Decrypt on the KMS key of secret ${secretId} for the auditor's IAM role, and check that the key is enabled.`;
  const error = awsFailure(err, {
    kind,
    name: secretId,
    what: `Reading Secrets Manager secret ${secretId}${stage} in ${region}`,
    ...(kmsDenied ? { code: 'DecryptionFailure' } : {}),
    hints: {
      NotFound: `Create the secret or set tokenSecret.id to the secret that holds the Cluster Agent token (region ${region}).`,
      AccessDenied: `Allow ${kind} on secret ${secretId} for the auditor's IAM role (and kms:Decrypt on its key if it uses a customer managed KMS key).`,
      DecryptionFailure: kmsHint,
    },
  });
  return { status: 'error', error };
}

function toIso(d: Date | string): string {
  return d instanceof Date ? d.toISOString() : new Date(d).toISOString();
}
