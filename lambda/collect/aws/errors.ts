/**
 * Turns AWS SDK errors into CollectionFailures whose message says what failed and what to do.
 * Only the AWS error message of an error *response* is quoted (those never carry secret values);
 * anything else is reduced to its name.
 */
import type { CollectionFailure } from '../../snapshot/snapshot.js';
import { AWS_MAX_ATTEMPTS } from './clients.js';

const CODES: [RegExp, string][] = [
  [/^(ResourceNotFoundException|NotFoundException|NoSuchEntity)$|\.NotFound$/, 'NotFound'],
  [
    /^(AccessDenied(Exception)?|UnauthorizedOperation|AuthFailure|UnauthorizedException)$/,
    'AccessDenied',
  ],
  [/^(DecryptionFailure|KMS\w*|KmsException)$/, 'DecryptionFailure'],
  [
    /^(Throttling(Exception)?|TooManyRequestsException|RequestLimitExceeded|ThrottledException|SlowDown)$/,
    'Throttled',
  ],
  [
    /^(ExpiredToken(Exception)?|RequestExpired|InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch)$/,
    'InvalidCredentials',
  ],
  [/^CredentialsProviderError$/, 'NoCredentials'],
  [/^(TimeoutError|RequestTimeout|RequestTimeoutException)$|ETIMEDOUT/, 'Timeout'],
  [/^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EPIPE|NetworkingError)$/, 'Network'],
  [
    /^(InvalidRequestException|InvalidParameterException|InvalidParameterValue|ValidationException)$/,
    'InvalidRequest',
  ],
  [
    /^(InternalServiceError|InternalFailure|ServerException|ServiceUnavailable(Exception)?|InternalError)$/,
    'ServerError',
  ],
];

interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** The SDK's error name, or the socket error code for network failures. */
export function awsErrorName(err: unknown): string {
  const e = (err ?? {}) as SdkErrorLike;
  if (e.code && /^E[A-Z]+$/.test(e.code)) return e.code;
  return e.name || 'Error';
}

/** A short, stable code: NotFound, AccessDenied, Throttled, ... or the SDK error name itself. */
export function awsErrorCode(err: unknown): string {
  const name = awsErrorName(err);
  if (name === 'AssumeRoleError') {
    // STS's own answer decides: a denial is about the role; throttling or a timeout is just that.
    const cause = awsErrorCode((err as { cause?: unknown }).cause);
    return cause === 'AccessDenied' ? 'AssumeRoleFailed' : cause;
  }
  return CODES.find(([re]) => re.test(name))?.[1] ?? name;
}

export interface FailureContext {
  /** `eks:DescribeCluster`, `ec2:DescribeSecurityGroups`, ... (also the IAM action named in hints). */
  kind: string;
  /** The object concerned: cluster, profile, secret id. */
  name?: string;
  /** What was being done, for the message: `Reading EKS cluster prod in eu-west-1`. */
  what: string;
  /** Extra hint per code, overriding the generic one. */
  hints?: Partial<Record<string, string>>;
  /** Code to record instead of the one derived from the error name. */
  code?: string;
}

export function awsFailure(err: unknown, ctx: FailureContext): CollectionFailure {
  const e = (err ?? {}) as SdkErrorLike;
  const code = ctx.code ?? awsErrorCode(err);
  const name = awsErrorName(err);
  const quoted = e.$fault && typeof e.message === 'string' ? `: ${clip(e.message)}` : '';
  const hint = ctx.hints?.[code] ?? genericHint(code, ctx.kind);
  const status = e.$metadata?.httpStatusCode;
  return {
    source: 'aws',
    kind: ctx.kind,
    ...(ctx.name !== undefined ? { name: ctx.name } : {}),
    ...(status !== undefined ? { status } : {}),
    code,
    message: `${ctx.what} failed with ${name}${quoted}. ${hint}`,
  };
}

function genericHint(code: string, kind: string): string {
  switch (code) {
    case 'AccessDenied':
      return `Allow ${kind} for the auditor's IAM role.`;
    case 'Throttled':
      return `AWS still throttled after ${AWS_MAX_ATTEMPTS} attempts; run again later or audit fewer clusters at once (clusterConcurrency).`;
    case 'AssumeRoleFailed':
      return "Allow sts:AssumeRole on that role for the auditor's IAM role, and make the role's trust policy trust the auditor's role (and the external id, if it requires one).";
    case 'NoCredentials':
    case 'InvalidCredentials':
      return 'Check the AWS credentials the auditor runs with (environment, profile or role) and that they have not expired.';
    case 'Timeout':
    case 'Network':
      return 'Check network access to the AWS endpoint for this region (NAT or VPC endpoint) and run again.';
    case 'NotFound':
      return 'Check the name and region in the auditor configuration.';
    case 'ServerError':
      return 'AWS failed on its side; run again later.';
    default:
      return 'Run again; if it persists, check the auditor role and the AWS Health Dashboard.';
  }
}

/** The AWS error message, for classifying only (never copied into output unchecked). */
export function awsErrorMessage(err: unknown): string {
  const message = (err as SdkErrorLike | undefined)?.message;
  return typeof message === 'string' ? message : '';
}

function clip(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return oneLine.length > 300 ? `${oneLine.slice(0, 297)}...` : oneLine;
}

/** Where a failure happened, for remediations that name it. */
export interface FailurePlace {
  cluster: string;
  region?: string;
}

/**
 * What to fix for an AWS collection failure, by class: what is missing (the cluster or secret
 * name, the region, the IAM permission, the KMS key), never "transient or unexpected" for a
 * failure that says what it is.
 */
export function awsRemediation(
  f: Pick<CollectionFailure, 'kind' | 'name' | 'code'>,
  place: FailurePlace,
): string {
  const region = place.region ?? 'the configured region';
  const service = f.kind.split(':')[0] ?? '';
  const object = f.name ? ` ${f.name}` : '';
  switch (f.code) {
    case 'NotFound':
      if (service === 'secretsmanager') {
        return `Secrets Manager has no secret${object} in ${region} for the auditor's account: create it there, or set tokenSecret.id (or clusters[].tokenSecret.id for cluster ${place.cluster}) to the secret that holds the Cluster Agent token, in that cluster's region.`;
      }
      if (service === 'eks') {
        return `EKS has no ${f.kind === 'eks:DescribeCluster' ? 'cluster' : 'resource'}${object} in ${region} (${f.kind}): check clusters[].name and clusters[].region for cluster ${place.cluster} in the auditor configuration, and the account the auditor (or its roleArn) runs in.`;
      }
      return `${f.kind} found no${object} in ${region}: the cluster ${place.cluster} references an object that no longer exists; check its VPC configuration and the region in the auditor configuration.`;
    case 'AccessDenied':
      return `Grant the IAM permission ${f.kind}${f.name ? ` on ${f.name}` : ''} (region ${region}) to the auditor's IAM role, or to the role in clusters[].roleArn for cluster ${place.cluster} when it is cross-account; the CDK stack grants it for the clusters in its configuration, so redeploy after adding a cluster.`;
    case 'AssumeRoleFailed':
      return `Allow sts:AssumeRole on the roleArn of cluster ${place.cluster} for the auditor's IAM role, and make that role's trust policy trust the auditor's role.`;
    case 'DecryptionFailure':
      return `Grant kms:Decrypt on the KMS key that encrypts secret${object} (region ${region}) to the auditor's IAM role, in both the IAM policy and the key policy, and check that the key is enabled.`;
    case 'Throttled':
      return `AWS throttled ${f.kind} in ${region} after ${AWS_MAX_ATTEMPTS} attempts: re-run later, lower clusterConcurrency, or ask for a higher ${f.kind} request quota in that account.`;
    case 'NoCredentials':
    case 'InvalidCredentials':
      return `The auditor has no valid AWS credentials for ${f.kind} in ${region}: check the environment, profile or role it runs with and that they have not expired.`;
    case 'Timeout':
    case 'Network':
      return `The ${service || 'AWS'} endpoint in ${region} was unreachable from the auditor: give its subnets a NAT gateway or a ${service || 'service'} VPC endpoint, then re-run.`;
    case 'ServerError':
      return `AWS failed on its side for ${f.kind} in ${region}: re-run later; check the AWS Health Dashboard if it persists.`;
    case 'InvalidRequest':
      return `AWS refused the ${f.kind} request for${object || ` cluster ${place.cluster}`}: check the name or ARN in the auditor configuration.`;
    default:
      return `${f.kind} failed with ${f.code} in ${region}: re-run; if it persists, check the auditor role's permissions for ${f.kind}.`;
  }
}
