/**
 * Turns AWS SDK errors into CollectionFailures whose message says what failed and what to do.
 * Only the AWS error message of an error *response* is quoted (those never carry secret values);
 * anything else is reduced to its name.
 */
import type { CollectionFailure } from '../../snapshot/snapshot.js';
import { AWS_MAX_ATTEMPTS } from '../../config/config.js';

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
