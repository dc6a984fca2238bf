import aws4 from 'aws4';
import {
  createEksToken,
  decodeEksToken,
  EksTokenProvider,
  resolveStsEndpoint,
} from '../../lambda/collect/aws/eks-token.js';

// AWS's documented example keys, plus a session token with characters that need encoding.
const CREDS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE+session/token=',
};
const NOW = new Date('2026-11-24T02:00:00.000Z');
const AMZ_DATE = '20261124T020000Z';

const ENV_KEYS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_STS'];
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
beforeEach(() => ENV_KEYS.forEach((k) => delete process.env[k]));
afterAll(() => {
  for (const k of ENV_KEYS) if (savedEnv[k] !== undefined) process.env[k] = savedEnv[k];
});

/** The same request signed by aws4, an independent SigV4 implementation. */
function signWithAws4(cluster: string, host = 'sts.eu-west-1.amazonaws.com'): URLSearchParams {
  const signed = aws4.sign(
    {
      host,
      path: `/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60&X-Amz-Date=${AMZ_DATE}`,
      service: 'sts',
      region: 'eu-west-1',
      method: 'GET',
      signQuery: true,
      headers: { 'x-k8s-aws-id': cluster },
    },
    CREDS,
  );
  return new URL(`https://${host}${signed.path}`).searchParams;
}

describe('createEksToken', () => {
  it('produces the signature aws4 computes for the same presigned request', async () => {
    const { token } = await createEksToken({
      clusterName: 'field-report',
      region: 'eu-west-1',
      credentials: CREDS,
      now: () => NOW,
    });
    const ours = decodeEksToken(token).searchParams;
    const theirs = signWithAws4('field-report');

    expect(ours.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(theirs.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(ours.get('X-Amz-Credential')).toBe(theirs.get('X-Amz-Credential'));
    expect(ours.get('X-Amz-Security-Token')).toBe(CREDS.sessionToken);
    expect(ours.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(ours.get('X-Amz-Signature')).toBe(theirs.get('X-Amz-Signature'));
  });

  it('binds the token to the cluster: another cluster name gives another signature', async () => {
    const { token } = await createEksToken({
      clusterName: 'healthy',
      region: 'eu-west-1',
      credentials: CREDS,
      now: NOW,
    });
    const signature = decodeEksToken(token).searchParams.get('X-Amz-Signature');

    expect(signature).toBe(signWithAws4('healthy').get('X-Amz-Signature'));
    expect(signature).not.toBe(signWithAws4('field-report').get('X-Amz-Signature'));
  });

  it('encodes a regional GetCallerIdentity URL as k8s-aws-v1. + unpadded base64url', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'field-report',
      region: 'eu-west-1',
      credentials: CREDS,
      now: () => NOW,
    });

    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = decodeEksToken(token);
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261124/eu-west-1/sts/aws4_request',
      'X-Amz-Date': AMZ_DATE,
      'X-Amz-Expires': '60',
      'X-Amz-Security-Token': CREDS.sessionToken,
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(expiresAt.toISOString()).toBe('2026-11-24T02:14:00.000Z');
  });

  it('signs for the STS endpoint named by AWS_ENDPOINT_URL_STS', async () => {
    process.env.AWS_ENDPOINT_URL_STS = 'http://127.0.0.1:4566';
    const { token } = await createEksToken({
      clusterName: 'field-report',
      region: 'eu-west-1',
      credentials: CREDS,
      now: () => NOW,
    });
    const url = decodeEksToken(token);

    expect(url.origin).toBe('http://127.0.0.1:4566');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      signWithAws4('field-report', '127.0.0.1:4566').get('X-Amz-Signature'),
    );
  });

  it('resolves the partition-correct regional STS host without calling AWS', async () => {
    await expect(resolveStsEndpoint('cn-north-1', CREDS)).resolves.toBe(
      'https://sts.cn-north-1.amazonaws.com.cn',
    );
    await expect(resolveStsEndpoint('us-east-1', CREDS)).resolves.toBe(
      'https://sts.us-east-1.amazonaws.com',
    );
  });
});

describe('EksTokenProvider', () => {
  function provider() {
    let now = NOW;
    const p = new EksTokenProvider({
      clusterName: 'field-report',
      region: 'eu-west-1',
      credentials: CREDS,
      now: () => now,
    });
    return { p, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
  }
  const dateOf = (token: string) => decodeEksToken(token).searchParams.get('X-Amz-Date');

  it('reuses one token until a minute before its 14-minute lifetime ends', async () => {
    const { p, advance } = provider();
    const first = await p.get();
    advance(12 * 60_000 + 59_000);
    expect(await p.get()).toBe(first);
    advance(2_000);
    const second = await p.get();

    expect(second).not.toBe(first);
    expect(dateOf(second)).toBe('20261124T021301Z');
  });

  it('signs a fresh token after invalidate (the API server said 401)', async () => {
    const { p, advance } = provider();
    const first = await p.get();
    advance(1_000);
    expect(await p.get()).toBe(first);
    p.invalidate();
    const second = await p.get();

    expect(dateOf(second)).toBe('20261124T020001Z');
  });

  it('shares one signing between concurrent callers', async () => {
    const { p } = provider();
    const tokens = await Promise.all([p.get(), p.get(), p.get()]);
    expect(new Set(tokens).size).toBe(1);
  });
});
