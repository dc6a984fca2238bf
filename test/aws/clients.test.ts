import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import 'aws-sdk-client-mock-jest';
import { createAwsClients, memoizeCredentials } from '../../lambda/collect/aws/clients.js';
import { AWS_MAX_ATTEMPTS } from '../../lambda/config/config.js';
import { describeCluster } from '../../lambda/collect/aws/collect.js';
import {
  loadAwsFixture,
  mockAwsFromFixture,
  NestedAssumeRoleCommand,
} from '../support/aws-fixture.js';
import { FIXTURES_DIR } from '../support/snapshot-builder.js';

const ENV_KEYS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_EKS',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_EC2_METADATA_DISABLED',
];
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

describe('createAwsClients against a local endpoint', () => {
  let server: Server;
  let requests: { method?: string; url?: string; authorization?: string; body: string }[];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        requests.push({
          method: req.method,
          url: req.url,
          authorization: String(req.headers.authorization ?? ''),
          body,
        });
        const fault = FAULTS[req.url ?? ''];
        if (fault) {
          res.writeHead(fault.status, {
            'content-type': 'application/json',
            'x-amzn-errortype': fault.name,
          });
          res.end(JSON.stringify({ message: fault.message }));
          return;
        }
        if (body.includes('Action=AssumeRole')) {
          res.writeHead(200, { 'content-type': 'text/xml' });
          res.end(ASSUME_ROLE_XML);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ cluster: { name: 'from-local-endpoint', version: '1.31' } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  beforeEach(() => {
    requests = [];
    const { port } = server.address() as AddressInfo;
    process.env.AWS_ENDPOINT_URL_EKS = `http://127.0.0.1:${port}`;
    process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALENDPOINT';
    process.env.AWS_SECRET_ACCESS_KEY = 'local-endpoint-secret';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends EKS calls to the AWS_ENDPOINT_URL_EKS override, signed, and counts them', async () => {
    const clients = createAwsClients({ region: 'eu-west-1' });
    const res = await clients.eks.send(new DescribeClusterCommand({ name: 'field-report' }));

    expect(res.cluster?.name).toBe('from-local-endpoint');
    expect(requests).toEqual([
      expect.objectContaining({ method: 'GET', url: '/clusters/field-report' }),
    ]);
    expect(requests[0]?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCALENDPOINT\/\d{8}\/eu-west-1\/eks\/aws4_request/,
    );
    expect(clients.calls.count).toBe(1);
  });

  it.each([
    ['a 503', 'unavailable', 'ServerError', 503],
    ['throttling', 'throttled', 'Throttled', 429],
  ])(
    'retries %s a bounded number of times, then records it as a failure',
    async (_what, name, code, status) => {
      const clients = createAwsClients({ region: 'eu-west-1' });

      const { cluster } = await describeCluster(clients, name);

      expect(requests).toHaveLength(AWS_MAX_ATTEMPTS);
      expect(clients.calls.count).toBe(1);
      expect(cluster).toMatchObject({
        status: 'error',
        error: { kind: 'eks:DescribeCluster', name, code, status },
      });
    },
  );

  it('signs EKS calls with the credentials of the assumed role, fetched from the STS override', async () => {
    process.env.AWS_ENDPOINT_URL_STS = process.env.AWS_ENDPOINT_URL_EKS;
    const roleArn = 'arn:aws:iam::210987654321:role/eks-datadog-auditor-read';

    const clients = createAwsClients({ region: 'eu-west-1', roleArn });
    await clients.eks.send(new DescribeClusterCommand({ name: 'field-report' }));

    expect(requests.map((r) => r.method)).toEqual(['POST', 'GET']);
    expect(decodeURIComponent(requests[0]?.body ?? '')).toContain(`RoleArn=${roleArn}`);
    expect(requests[0]?.authorization).toContain('Credential=AKIDLOCALENDPOINT/');
    expect(requests[1]?.authorization).toContain('Credential=ASIALOCALASSUMED0001/');
  });
});

const FAULTS: Record<string, { status: number; name: string; message: string }> = {
  '/clusters/unavailable': {
    status: 503,
    name: 'ServiceUnavailableException',
    message: 'Service unavailable',
  },
  '/clusters/throttled': { status: 429, name: 'ThrottlingException', message: 'Rate exceeded' },
};

const ASSUME_ROLE_XML = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIALOCALASSUMED0001</AccessKeyId>
      <SecretAccessKey>assumed-secret</SecretAccessKey>
      <SessionToken>assumed-session-token</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::210987654321:assumed-role/eks-datadog-auditor-read/eks-datadog-auditor</Arn>
      <AssumedRoleId>AROALOCAL:eks-datadog-auditor</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>local-1</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;

describe('createAwsClients with a role to assume', () => {
  it('assumes the configured role (cross-account) before any other call', async () => {
    const mocks = mockAwsFromFixture(loadAwsFixture(`${FIXTURES_DIR}healthy`));
    try {
      const roleArn = 'arn:aws:iam::210987654321:role/eks-datadog-auditor-read';
      const clients = createAwsClients({ region: 'eu-west-1', roleArn, sessionName: 'audit-42' });

      const creds = await clients.credentials();

      expect(creds.accessKeyId).toBe('ASIAFIXTUREASSUMED01');
      expect(mocks.nestedSts).toHaveReceivedCommandTimes(NestedAssumeRoleCommand, 1);
      expect(mocks.nestedSts).toHaveReceivedCommandWith(NestedAssumeRoleCommand, {
        RoleArn: roleArn,
        RoleSessionName: 'audit-42',
      });
    } finally {
      mocks.restore();
    }
  });

  it('reuses assumed credentials until shortly before they expire', async () => {
    let t = Date.parse('2026-11-24T02:00:00Z');
    let calls = 0;
    const provider = memoizeCredentials(
      async () => {
        calls += 1;
        return {
          accessKeyId: `AKID${calls}`,
          secretAccessKey: 'x',
          expiration: new Date(t + 60 * 60_000),
        };
      },
      () => t,
    );

    const [a, b] = await Promise.all([provider(), provider()]);
    t += 50 * 60_000;
    const c = await provider();
    t += 6 * 60_000;
    const d = await provider();

    expect([a.accessKeyId, b.accessKeyId, c.accessKeyId, d.accessKeyId]).toEqual([
      'AKID1',
      'AKID1',
      'AKID1',
      'AKID2',
    ]);
  });
});
