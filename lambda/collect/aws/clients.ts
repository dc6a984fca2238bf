/**
 * AWS SDK v3 clients for one cluster's region, sharing one credential source. Endpoints follow the
 * SDK's own resolution, so `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` (and the shared
 * config file's `endpoint_url`) work without anything of ours on top.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { StandardRetryStrategy } from '@smithy/core/retry';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  MetadataBearer,
  Pluggable,
  StandardRetryBackoffStrategy,
} from '@smithy/types';
import { AWS_MAX_ATTEMPTS } from '../../config/config.js';

export interface AwsClients {
  region: string;
  eks: EKSClient;
  ec2: EC2Client;
  secretsManager: SecretsManagerClient;
  sts: STSClient;
  /** Memoized: the EKS token signer calls it directly, outside any client's own cache. */
  credentials: AwsCredentialIdentityProvider;
  /** API operations sent through these clients (one per `send`, retries not counted). */
  calls: { count: number };
}

export interface AwsClientOptions {
  region: string;
  /** Role to assume first (cross-account); the default chain's credentials call AssumeRole. */
  roleArn?: string;
  sessionName?: string;
  /**
   * Backoff of the SDK's standard retry strategy (same attempts, same retry rules, own capacity per
   * client). Default: the SDK's jittered exponential backoff. Tests pass one that records the delay
   * the SDK asks for and returns 0, so no test waits out real backoff.
   */
  retryBackoff?: StandardRetryBackoffStrategy;
}

const RETRY_MODE = 'standard';
const DEFAULT_SESSION_NAME = 'eks-datadog-auditor';
/** Refresh temporary credentials this long before they expire. */
const CREDENTIAL_REFRESH_MS = 5 * 60_000;

export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const credentials = memoizeCredentials(
    opts.roleArn
      ? explainAssumeRole(
          fromTemporaryCredentials({
            params: {
              RoleArn: opts.roleArn,
              RoleSessionName: opts.sessionName ?? DEFAULT_SESSION_NAME,
            },
            masterCredentials: fromNodeProviderChain(),
            clientConfig: { region: opts.region, maxAttempts: AWS_MAX_ATTEMPTS },
          }),
          opts.roleArn,
        )
      : fromNodeProviderChain(),
  );
  const calls = { count: 0 };
  // A strategy object per client, as the SDK makes one per client from maxAttempts and retryMode.
  const config = () => ({
    region: opts.region,
    credentials,
    maxAttempts: AWS_MAX_ATTEMPTS,
    retryMode: RETRY_MODE,
    ...(opts.retryBackoff
      ? {
          retryStrategy: new StandardRetryStrategy({
            maxAttempts: AWS_MAX_ATTEMPTS,
            backoff: opts.retryBackoff,
          }),
        }
      : {}),
  });
  return {
    region: opts.region,
    eks: countCalls(new EKSClient(config()), calls),
    ec2: countCalls(new EC2Client(config()), calls),
    secretsManager: countCalls(new SecretsManagerClient(config()), calls),
    sts: countCalls(new STSClient(config()), calls),
    credentials,
    calls,
  };
}

/**
 * The configured role could not be assumed. Every call of the cluster fails with this error, and
 * without it the failure reads as the call's own (`eks:DescribeCluster` denied), whose fix is
 * wrong: what to change is sts:AssumeRole on that role and the role's trust policy.
 */
export class AssumeRoleError extends Error {
  override name = 'AssumeRoleError';
  /** Copied from STS's answer, so the AWS message is quoted like any error response. */
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { httpStatusCode?: number };
  constructor(
    readonly roleArn: string,
    cause: unknown,
  ) {
    const e = (cause ?? {}) as {
      name?: string;
      message?: string;
      $fault?: 'client' | 'server';
      $metadata?: { httpStatusCode?: number };
    };
    // Only an STS error response's message is quoted; anything else is reduced to its name.
    const detail =
      e.$fault && e.message ? `${e.name ?? 'Error'}: ${e.message}` : (e.name ?? 'Error');
    super(`could not assume role ${roleArn} (${detail.replace(/\.$/, '')})`, { cause });
    if (e.$fault) this.$fault = e.$fault;
    if (e.$metadata) this.$metadata = { httpStatusCode: e.$metadata.httpStatusCode };
  }
}

function explainAssumeRole(
  provider: AwsCredentialIdentityProvider,
  roleArn: string,
): AwsCredentialIdentityProvider {
  return async (...args) => {
    try {
      return await provider(...args);
    } catch (err) {
      throw new AssumeRoleError(roleArn, err);
    }
  };
}

/** Counts operations at the initialize step, so SDK retries of one call count once. */
function countCalls<
  C extends { middlewareStack: { use(p: Pluggable<object, MetadataBearer>): void } },
>(client: C, calls: { count: number }): C {
  client.middlewareStack.use({
    applyToStack(stack) {
      stack.add(
        (next) => async (args) => {
          calls.count += 1;
          return next(args);
        },
        { step: 'initialize', name: 'auditorCallCounter' },
      );
    },
  });
  return client;
}

/**
 * Caches credentials until shortly before they expire; concurrent callers share one refresh, so
 * a burst of token requests makes one AssumeRole call, not one each.
 */
export function memoizeCredentials(
  provider: AwsCredentialIdentityProvider,
  now: () => number = Date.now,
): AwsCredentialIdentityProvider {
  let cached: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const fresh = (c: AwsCredentialIdentity) =>
    !c.expiration || c.expiration.getTime() - now() > CREDENTIAL_REFRESH_MS;
  return async () => {
    if (cached && fresh(cached)) return cached;
    pending ??= provider()
      .then((c) => (cached = c))
      .finally(() => (pending = undefined));
    return pending;
  };
}
