/**
 * Fault matrix, AWS side: SDK errors injected through aws-sdk-client-mock (the fixture's `Faults`,
 * instance-level failures for one cluster), and where the SDK's own behaviour is the point
 * (throttling retries, the AssumeRole credential chain) the real SDK client against a local HTTP
 * endpoint. Delivery faults (SNS, S3) run a whole Lambda invocation.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import {
  AssumeRoleError,
  createAwsClients,
  type AwsClients,
} from '../../lambda/collect/aws/clients.js';
import { AWS_MAX_ATTEMPTS } from '../../lambda/config/config.js';
import { awsErrorCode } from '../../lambda/collect/aws/errors.js';
import { describeCluster } from '../../lambda/collect/aws/collect.js';
import { CHECKS } from '../../lambda/checks/index.js';
import { LATEST_WRITE_ATTEMPTS } from '../../lambda/deliver/archive.js';
import { renderEmail } from '../../lambda/report/email.js';
import type { ClusterReport } from '../../lambda/report/types.js';
import type { DataKey } from '../../lambda/snapshot/snapshot.js';
import { loadAwsFixture, sdkError, type AwsFixture } from '../support/aws-fixture.js';
import { FIXTURES_DIR } from '../support/snapshot-builder.js';
import { conditionalRequestConflict } from '../report/fake-s3.js';
import { Book, faultCase, finalCanarySearch } from './book.js';
import { auditCase, handlerCase, notEvaluated, statusOf } from './harness.js';

const book = new Book(import.meta.url);
finalCanarySearch(book);

const TOKEN_SECRET = 'datadog/cluster-agent-token';
const CANARY_TOKEN = 'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c';
const ROLE = 'arn:aws:iam::210987654321:role/auditor-reader';

const tokenSecret = (f: AwsFixture) => f.SecretsManager![TOKEN_SECRET]!;
const needing = (...keys: DataKey[]) =>
  CHECKS.filter((c) => c.requires.some((k) => keys.includes(k)))
    .map((c) => c.id)
    .sort();
const oneLine = (s: string) => s.replace(/\s+/g, ' ');

function expectIncomplete(cluster: ClusterReport, reason: RegExp): void {
  expect(cluster.status).toBe('ERROR');
  const email = oneLine(renderEmail(cluster, undefined));
  expect(email).toMatch(/^AUDIT INCOMPLETE: /);
  expect(email).toMatch(reason);
}

// ---------------------------------------------------------------------------------------------
// A local stand-in for the EKS endpoint, for the real SDK client (no mocks in between)
// ---------------------------------------------------------------------------------------------

interface FakeEks {
  url: string;
  requests: string[];
  /** Answer the next `n` requests with 429 ThrottlingException. */
  throttle: number;
  close(): Promise<void>;
}

async function fakeEks(): Promise<FakeEks> {
  const cluster = loadAwsFixture(`${FIXTURES_DIR}/healthy`).DescribeCluster.cluster;
  const state = { throttle: 0, requests: [] as string[] };
  const server: Server = createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    if (state.throttle > 0) {
      state.throttle -= 1;
      res.writeHead(429, {
        'content-type': 'application/json',
        'x-amzn-errortype': 'ThrottlingException',
      });
      res.end(JSON.stringify({ message: 'Rate exceeded' }));
      return;
    }
    const body = {
      cluster: {
        ...cluster,
        createdAt: Math.floor(new Date(cluster.createdAt as Date).getTime() / 1000),
      },
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    get throttle() {
      return state.throttle;
    },
    set throttle(n: number) {
      state.throttle = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Static credentials and a local EKS endpoint for the SDK, restored afterwards. */
async function withRealSdk<T>(eks: FakeEks, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_ENDPOINT_URL_EKS: eks.url,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/**
 * The SDK's own retry strategy with a backoff that waits on no clock: it records the delay base the
 * SDK chose for each retry (its throttling base, not the 50 ms of other retryable errors; see
 * @smithy/core retry/util-retry/retries-2026-config.ts `throttlingDelay`) and returns 0 ms.
 */
function recordingBackoff() {
  const waits: { retry: number; delayBaseMs: number }[] = [];
  let delayBaseMs = 0;
  const backoff = {
    setDelayBase: (ms: number) => void (delayBaseMs = ms),
    computeNextBackoffDelay: (retry: number) => {
      waits.push({ retry, delayBaseMs });
      return 0;
    },
  };
  return { backoff, waits };
}

/** The SDK's delay base for throttling errors; before retry n it waits up to base * 2^n. */
const SDK_THROTTLING_DELAY_MS = 1000;

/** Clients whose EKS client fails DescribeCluster with `err` (this instance only). */
function failingDescribe(err: Error) {
  return (region: string): AwsClients => {
    const clients = createAwsClients({ region });
    const send = clients.eks.send.bind(clients.eks);
    // An own property, so the class-level fixture mocks of the other clusters stay in place.
    Object.defineProperty(clients.eks, 'send', {
      value: (command: unknown, ...rest: unknown[]) =>
        command instanceof DescribeClusterCommand
          ? Promise.reject(err)
          : (send as (...a: unknown[]) => unknown)(command, ...rest),
    });
    return clients;
  };
}

describe('fault matrix: AWS', () => {
  faultCase(
    book,
    'aws',
    'throttling: the SDK client retries a throttled call itself and the call succeeds',
    async (c) => {
      const eks = await fakeEks();
      try {
        eks.throttle = 1;
        c.inject();
        const { backoff, waits } = recordingBackoff();
        const described = await withRealSdk(eks, () =>
          describeCluster(
            createAwsClients({ region: 'eu-west-1', retryBackoff: backoff }),
            'healthy',
          ),
        );
        c.record('snapshot-part', described.cluster);
        expect(eks.requests).toEqual(['GET /clusters/healthy', 'GET /clusters/healthy']);
        expect(described.cluster.status).toBe('ok');
        // One backoff before the retry, at the SDK's throttling base (recorded, not waited out).
        expect(waits).toEqual([{ retry: 0, delayBaseMs: SDK_THROTTLING_DELAY_MS }]);
      } finally {
        await eks.close();
      }
    },
  );

  faultCase(
    book,
    'aws',
    `throttling that does not stop: the SDK gives up after ${AWS_MAX_ATTEMPTS} attempts and the kind is recorded as Throttled`,
    async (c) => {
      const eks = await fakeEks();
      try {
        eks.throttle = 100;
        c.inject();
        const { backoff, waits } = recordingBackoff();
        const described = await withRealSdk(eks, () =>
          describeCluster(
            createAwsClients({ region: 'eu-west-1', retryBackoff: backoff }),
            'healthy',
          ),
        );
        c.record('snapshot-part', described.cluster);
        expect(eks.requests).toHaveLength(AWS_MAX_ATTEMPTS);
        // A throttling backoff before each retry, growing with the retry (recorded, not waited).
        expect(waits).toEqual(
          Array.from({ length: AWS_MAX_ATTEMPTS - 1 }, (_, retry) => ({
            retry,
            delayBaseMs: SDK_THROTTLING_DELAY_MS,
          })),
        );
        expect(described.cluster).toMatchObject({
          status: 'error',
          error: { kind: 'eks:DescribeCluster', code: 'Throttled', status: 429 },
        });
        if (described.cluster.status === 'error') {
          expect(described.cluster.error.message).toContain(
            `still throttled after ${AWS_MAX_ATTEMPTS} attempts`,
          );
        }
      } finally {
        await eks.close();
      }
    },
    15_000,
  );

  faultCase(
    book,
    'aws',
    'throttling on EC2 within a whole audit: that kind ERROR, the checks needing it not evaluated, the rest run',
    async (c) => {
      c.inject();
      const o = await auditCase(c, {
        aws: (f) => {
          f.Faults = {
            DescribeSecurityGroups: {
              name: 'RequestLimitExceeded',
              message: 'Request limit exceeded.',
              status: 503,
            },
          };
        },
      });
      expect(o.cluster.errors.map((e) => `${e.kind} ${e.code}`)).toEqual([
        'ec2:DescribeSecurityGroups Throttled',
      ]);
      expect(notEvaluated(o.cluster)).toEqual(needing('aws.securityGroups'));
      expect(statusOf(o.cluster, 'token-consumers-match')).toEqual(['PASS']);
      expectIncomplete(o.cluster, /RequestLimitExceeded/);
    },
  );

  faultCase(
    book,
    'aws',
    'AccessDenied on DescribeCluster: that cluster is ERROR naming the IAM action, the other cluster is audited in full',
    async (c) => {
      c.inject();
      const denied = sdkError(
        'AccessDeniedException',
        'User: arn:aws:sts::123456789012:assumed-role/eks-datadog-auditor/run is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:eu-west-1:123456789012:cluster/payments',
        403,
      );
      const o = await auditCase(c, [
        { fixture: 'healthy' },
        {
          fixture: 'healthy',
          name: 'payments',
          noKubeAccess: true,
          awsClients: failingDescribe(denied),
        },
      ]);
      const [healthy, payments] = o.report.clusters as [ClusterReport, ClusterReport];
      expect(payments.findings.map((f) => `${f.status} ${f.checkId} ${f.messageId}`)).toEqual([
        'ERROR audit-cluster unreachable',
      ]);
      expect(payments.findings[0]!.message).toContain('eks:DescribeCluster');
      expectIncomplete(payments, /Allow eks:DescribeCluster/);
      expect(healthy.status).toBe('PASS');
      expect(healthy.errors).toEqual([]);
    },
  );

  faultCase(
    book,
    'aws',
    'ResourceNotFound on the token secret: token-source FAIL "missing" with the create command, the audit incomplete',
    async (c) => {
      c.inject();
      const o = await auditCase(c, {
        aws: (f) => {
          delete f.SecretsManager![TOKEN_SECRET];
        },
      });
      expect(o.cluster.errors.map((e) => `${e.kind} ${e.name} ${e.code}`)).toEqual([
        `secretsmanager:GetSecretValue ${TOKEN_SECRET} NotFound`,
      ]);
      const source = o.cluster.findings.filter((f) => f.checkId === 'token-source');
      expect(source.map((f) => `${f.status} ${f.messageId}`)).toEqual(['FAIL missing']);
      expect(source[0]!.remediation).toContain(`create-secret --name ${TOKEN_SECRET}`);
      expectIncomplete(o.cluster, /can't find the specified secret/);
    },
  );

  faultCase(
    book,
    'aws',
    'a binary secret: token-source FAIL "binary", the bytes reduced to a digest and never shown',
    async (c) => {
      c.inject();
      const o = await auditCase(c, {
        aws: (f) => {
          const s = tokenSecret(f);
          s.GetSecretValue = {
            ...s.GetSecretValue,
            SecretString: undefined,
            SecretBinary: new Uint8Array(Buffer.from(CANARY_TOKEN, 'utf8')),
          };
        },
      });
      expect(
        o.cluster.findings
          .filter((f) => f.checkId === 'token-source')
          .map((f) => `${f.status} ${f.messageId}`),
      ).toEqual(['FAIL binary']);
      expect(o.cluster.status).toBe('FAIL');
    },
  );

  faultCase(
    book,
    'aws',
    'a JSON secret without the configured property: token-source FAIL "property-missing", nothing of the document shown',
    async (c) => {
      c.inject();
      const o = await auditCase(c, {
        cluster: { tokenSecret: { property: 'token' } },
        aws: (f) => {
          const s = tokenSecret(f);
          s.GetSecretValue = {
            ...s.GetSecretValue,
            SecretString: JSON.stringify({ clusterAgentToken: CANARY_TOKEN }),
          };
        },
      });
      const source = o.cluster.findings.filter((f) => f.checkId === 'token-source');
      expect(source.map((f) => `${f.status} ${f.messageId}`)).toEqual(['FAIL property-missing']);
      expect(source[0]!.message).toContain('no property "token"');
      expect(source[0]!.message).not.toContain('clusterAgentToken');
    },
  );

  faultCase(
    book,
    'aws',
    'a JSON property that is not a string, and a value that is not JSON: FAIL, never the value',
    async (c) => {
      c.inject(2);
      for (const [value, messageId] of [
        [JSON.stringify({ token: { nested: CANARY_TOKEN } }), 'property-not-string'],
        [`token=${CANARY_TOKEN}`, 'not-json'],
      ] as const) {
        const o = await auditCase(c, {
          cluster: { tokenSecret: { property: 'token' } },
          aws: (f) => {
            const s = tokenSecret(f);
            s.GetSecretValue = { ...s.GetSecretValue, SecretString: value };
          },
        });
        expect(
          o.cluster.findings
            .filter((f) => f.checkId === 'token-source')
            .map((f) => `${f.status} ${f.messageId}`),
        ).toEqual([`FAIL ${messageId}`]);
      }
    },
  );

  faultCase(
    book,
    'aws',
    'KMS decrypt failure: ERROR DecryptionFailure whose fix names kms:Decrypt on the key, also when AWS calls it AccessDenied',
    async (c) => {
      c.inject(2);
      for (const fault of [
        {
          name: 'DecryptionFailure',
          message:
            "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
        },
        { name: 'AccessDeniedException', message: 'Access to KMS is not allowed' },
      ]) {
        const o = await auditCase(c, {
          aws: (f) => {
            f.Faults = { GetSecretValue: fault };
          },
        });
        expect(o.cluster.errors.map((e) => `${e.kind} ${e.code}`)).toEqual([
          'secretsmanager:GetSecretValue DecryptionFailure',
        ]);
        expect(o.cluster.errors[0]!.message).toContain(
          'Allow kms:Decrypt on the KMS key of secret datadog/cluster-agent-token',
        );
        expect(
          o.cluster.findings
            .filter((f) => f.checkId === 'token-source')
            .map((f) => `${f.status} ${f.messageId}`),
        ).toEqual(['ERROR unreadable']);
        expectIncomplete(o.cluster, /kms:Decrypt/);
      }
    },
  );

  faultCase(
    book,
    'aws',
    'assume-role denied: the cross-account cluster is ERROR saying which role could not be assumed, and EKS is never called',
    async (c) => {
      c.inject();
      const eks = await fakeEks();
      try {
        const o = await withRealSdk(eks, () =>
          auditCase(c, {
            noKubeAccess: true,
            realEks: true,
            cluster: { roleArn: ROLE },
            aws: (f) => {
              f.Faults = {
                AssumeRole: {
                  name: 'AccessDenied',
                  message: `User: arn:aws:sts::123456789012:assumed-role/eks-datadog-auditor/run is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
                  status: 403,
                },
              };
            },
          }),
        );
        expect(eks.requests).toEqual([]);
        expect(o.cluster.findings.map((f) => `${f.status} ${f.checkId}`)).toEqual([
          'ERROR audit-cluster',
        ]);
        const message = oneLine(o.cluster.findings[0]!.message);
        expect(message).toContain(`could not assume role ${ROLE}`);
        expect(message).toContain("Allow sts:AssumeRole on that role for the auditor's IAM role");
        // The call that failed is not what to fix: the auditor may well call DescribeCluster.
        expect(message).not.toContain('Allow eks:DescribeCluster');
        expectIncomplete(o.cluster, /trust policy/);
        // STS being slow or throttling is not a denial: it keeps its own code (and hint).
        const throttled = new AssumeRoleError(
          ROLE,
          sdkError('ThrottlingException', 'Rate exceeded', 400),
        );
        expect(awsErrorCode(throttled)).toBe('Throttled');
        expect(throttled.message).toBe(
          `could not assume role ${ROLE} (ThrottlingException: Rate exceeded)`,
        );
      } finally {
        await eks.close();
      }
    },
  );

  faultCase(
    book,
    'aws',
    'an on-demand dry run over a broken secret: the summary returned carries the whole report, nothing archived or published',
    async (c) => {
      c.inject();
      const h = await handlerCase(c, {
        event: { clusters: ['field-report'], dryRun: true, notify: 'always' },
        clusters: [
          {
            fixture: 'field-report',
            aws: (f) => {
              f.Faults = {
                GetSecretValue: { name: 'DecryptionFailure', message: 'KMS key disabled' },
              };
            },
          },
        ],
      });
      expect(h.error).toBeUndefined();
      expect(h.result).toMatchObject({
        ok: true,
        dryRun: true,
        published: 0,
        clusters: [{ status: 'ERROR' }],
      });
      expect(h.objects.size).toBe(0);
      expect(h.published).toEqual([]);
      const report = h.result && h.result.ok ? h.result.report : undefined;
      expect(report?.clusters[0]?.findings.length).toBeGreaterThan(10);
    },
  );

  faultCase(
    book,
    'aws',
    'SNS publish failure: the invocation fails, after the report was archived',
    async (c) => {
      c.inject();
      const h = await handlerCase(c, {
        publishError: sdkError(
          'AuthorizationErrorException',
          'User is not authorized to perform: SNS:Publish on resource: arn:aws:sns:eu-west-1:123456789012:eks-datadog-auditor',
          403,
        ),
      });
      expect(h.result).toBeUndefined();
      expect(h.error?.name).toBe('DeliveryError');
      expect(h.error?.message).toContain('sns:Publish');
      const puts = h.sequence.filter((s) => s.startsWith('put '));
      // The dated JSON, latest.json, and the HTML page beside the dated JSON.
      expect(puts).toHaveLength(3);
      expect(h.sequence.indexOf('publish')).toBeGreaterThan(h.sequence.indexOf(puts[2]!));
      expect([...h.objects.keys()].sort()).toEqual([
        expect.stringMatching(/^reports\/field-report\/2026\/11\/24\/.+\.html$/),
        expect.stringMatching(/^reports\/field-report\/2026\/11\/24\/.+\.json$/),
        'reports/field-report/latest.json',
      ]);
    },
  );

  faultCase(
    book,
    'aws',
    'S3 write conflict on latest.json, a newer run won the race: its latest.json is kept, this run stays in its dated key',
    async (c) => {
      c.inject();
      let raced = false;
      const h = await handlerCase(c, {
        beforePut: (key, bucket) => {
          if (!key.endsWith('/latest.json') || raced) return;
          raced = true;
          const dated = [...bucket.objects.keys()].find((k) => !k.endsWith('latest.json'))!;
          const newer = JSON.parse(bucket.objects.get(dated)!.body);
          bucket.put(
            key,
            JSON.stringify({
              ...newer,
              runId: '2026-11-24T03-00-00Z-ffffff',
              startedAt: '2026-11-24T03:00:00.000Z',
            }),
          );
        },
      });
      expect(h.error).toBeUndefined();
      expect(h.result).toMatchObject({
        ok: true,
        clusters: [{ latest: 'newer-run-kept', published: true }],
      });
      expect(JSON.parse(h.objects.get('reports/field-report/latest.json')!).runId).toBe(
        '2026-11-24T03-00-00Z-ffffff',
      );
    },
  );

  faultCase(
    book,
    'aws',
    `S3 write conflict on every attempt at latest.json: ${LATEST_WRITE_ATTEMPTS} attempts, then left to the other writers with a warning`,
    async (c) => {
      c.inject();
      let conflicts = 0;
      const h = await handlerCase(c, {
        beforePut: (key) => {
          if (!key.endsWith('/latest.json')) return;
          conflicts += 1;
          throw conditionalRequestConflict();
        },
      });
      expect(conflicts).toBe(LATEST_WRITE_ATTEMPTS);
      expect(h.result).toMatchObject({
        ok: true,
        clusters: [{ latest: 'contended', published: true }],
      });
      expect(h.result && 'warnings' in h.result ? h.result.warnings.join(' ') : '').toContain(
        'kept changing',
      );
    },
  );

  faultCase(
    book,
    'aws',
    'S3 write conflict on the dated report (it exists): never overwritten, the invocation fails naming the key',
    async (c) => {
      c.inject();
      let existing = '';
      const h = await handlerCase(c, {
        beforePut: (key, bucket) => {
          if (key.endsWith('latest.json') || bucket.objects.has(key)) return;
          existing = key;
          bucket.put(key, '{"evidence":"an earlier write of this very run"}');
        },
      });
      expect(h.error?.name).toBe('DeliveryError');
      expect(h.error?.message).toContain(existing);
      expect(h.objects.get(existing)).toBe('{"evidence":"an earlier write of this very run"}');
    },
  );
});
