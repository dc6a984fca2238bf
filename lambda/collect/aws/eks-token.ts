/**
 * EKS IAM authentication: a bearer token that is a presigned STS GetCallerIdentity URL, the same
 * contract as `aws eks get-token` and aws-iam-authenticator. The API server replays the URL to STS
 * and maps the answering identity; the signed `x-k8s-aws-id` header binds it to one cluster.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  QueryParameterBag,
} from '@smithy/types';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** STS accepts at most 60 s for this presigned request; the API server caches the answer. */
const URL_EXPIRES_SECONDS = 60;
/** Tokens are honoured about 15 minutes; we stop using ours a minute earlier. */
const TOKEN_LIFETIME_MS = 14 * 60_000;
/** A cached token is replaced this long before its expiresAt. */
const REFRESH_MARGIN_MS = 60_000;

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /** Signing time: a Date, or a clock (what EksTokenProvider needs to notice time passing). */
  now?: Date | (() => Date);
  /** STS endpoint URL; by default the one the SDK resolves for this region (honours overrides). */
  stsEndpoint?: string;
}

export interface EksToken {
  token: string;
  expiresAt: Date;
}

export async function createEksToken(opts: EksTokenOptions): Promise<EksToken> {
  const now = currentTime(opts.now);
  const endpoint = new URL(
    opts.stsEndpoint ?? (await resolveStsEndpoint(opts.region, opts.credentials)),
  );
  const host = endpoint.host; // includes a non-default port, as the Host header would
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: endpoint.pathname || '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host, [CLUSTER_ID_HEADER]: opts.clusterName },
  });
  const signer = new SignatureV4({
    credentials: opts.credentials,
    region: opts.region,
    service: 'sts',
    sha256: Sha256,
  });
  const signed = await signer.presign(request, {
    expiresIn: URL_EXPIRES_SECONDS,
    signingDate: now,
  });
  const url = `${endpoint.protocol}//${host}${signed.path}?${formatQuery(signed.query ?? {})}`;
  return {
    token: TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS),
  };
}

/** The presigned URL inside a token (for tests and diagnostics; the URL holds no secret key). */
export function decodeEksToken(token: string): URL {
  if (!token.startsWith(TOKEN_PREFIX)) throw new Error(`not an EKS token: missing ${TOKEN_PREFIX}`);
  return new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
}

/** Caches one cluster's token, replacing it before it expires or after a 401. */
export class EksTokenProvider {
  private cached: EksToken | undefined;
  private inFlight: Promise<EksToken> | undefined;
  private endpoint: Promise<string> | undefined;

  constructor(private readonly opts: EksTokenOptions) {}

  async get(): Promise<string> {
    const now = currentTime(this.opts.now);
    if (this.cached && this.cached.expiresAt.getTime() - now.getTime() > REFRESH_MARGIN_MS) {
      return this.cached.token;
    }
    this.inFlight ??= this.refresh().finally(() => (this.inFlight = undefined));
    return (await this.inFlight).token;
  }

  /** Drops the cached token (the API server answered 401): the next get() signs a new one. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async refresh(): Promise<EksToken> {
    this.endpoint ??= this.opts.stsEndpoint
      ? Promise.resolve(this.opts.stsEndpoint)
      : resolveStsEndpoint(this.opts.region, this.opts.credentials);
    const token = await createEksToken({ ...this.opts, stsEndpoint: await this.endpoint });
    this.cached = token;
    return token;
  }
}

/**
 * The STS endpoint the SDK itself would call in this region: regional by default, or whatever
 * AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / the config file's endpoint_url say. Resolved by running
 * the SDK's middleware up to the point where the request is built and stopping there: no network.
 */
export async function resolveStsEndpoint(
  region: string,
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity,
): Promise<string> {
  const client = new STSClient({ region, credentials, maxAttempts: 1 });
  const command = new GetCallerIdentityCommand({});
  let resolved: string | undefined;
  command.middlewareStack.add(
    () => async (args) => {
      const req = args.request;
      if (HttpRequest.isInstance(req)) {
        const port = req.port ? `:${req.port}` : '';
        const path = req.path && req.path !== '/' ? req.path : '';
        resolved = `${req.protocol}//${req.hostname}${port}${path}`;
      }
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'build', name: 'captureStsEndpoint', priority: 'low' },
  );
  try {
    await client.send(command);
  } finally {
    client.destroy();
  }
  if (!resolved) throw new Error(`could not resolve the STS endpoint for region ${region}`);
  return resolved;
}

function currentTime(now: EksTokenOptions['now']): Date {
  if (now instanceof Date) return now;
  return now ? now() : new Date();
}

/** RFC 3986 query encoding, keys sorted, as SigV4 canonicalises it. */
function formatQuery(query: QueryParameterBag): string {
  const enc = (s: string) =>
    encodeURIComponent(s).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return Object.keys(query)
    .sort()
    .flatMap((k) => {
      const v = query[k];
      const values = v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];
      return values.map((x) => `${enc(k)}=${enc(x)}`);
    })
    .join('&');
}
