import { tokenSource } from '../../../lambda/checks/token/token-source.js';
import { digestSecret } from '../../../lambda/snapshot/secret-digest.js';
import type { Collected, TokenSource } from '../../../lambda/snapshot/snapshot.js';
import { ok } from '../../support/snapshot-builder.js';
import { CANARY, build, failures, healthyDocs, summary, tokenSourceOf } from './support.js';

function withSource(source: Collected<TokenSource>, property?: string) {
  return build(healthyDocs(), {
    aws: { tokenSource: source },
    ...(property ? { settings: { tokenSecretProperty: property } } : {}),
  });
}

const awsError = (code: string, status?: number): Collected<TokenSource> => ({
  status: 'error',
  error: {
    source: 'aws',
    kind: 'secretsmanager:GetSecretValue',
    code,
    ...(status ? { status } : {}),
    message: `${code} for datadog/cluster-agent-token`,
  },
});

describe('token-source', () => {
  it.each([
    {
      name: 'a 54-character string token passes',
      source: ok(tokenSourceOf()),
      expected: ['PASS valid datadog/cluster-agent-token'],
    },
    {
      name: 'a token shorter than 32 characters fails critical',
      source: ok(tokenSourceOf({ current: digestSecret('only-twenty-chars-xx') })),
      expected: ['FAIL too-short datadog/cluster-agent-token'],
    },
    {
      name: 'a trailing newline fails high',
      source: ok(tokenSourceOf({ current: digestSecret(`${CANARY.token}\n`) })),
      expected: ['FAIL whitespace datadog/cluster-agent-token'],
    },
    {
      name: 'leading spaces fail high',
      source: ok(tokenSourceOf({ current: digestSecret(`  ${CANARY.token}`) })),
      expected: ['FAIL whitespace datadog/cluster-agent-token'],
    },
    {
      name: 'a control character fails high',
      source: ok(tokenSourceOf({ current: digestSecret(`${CANARY.token}\u0000x`) })),
      expected: ['FAIL non-printable datadog/cluster-agent-token'],
    },
    {
      name: 'a short token with a newline reports both problems',
      source: ok(tokenSourceOf({ current: digestSecret('short\n') })),
      expected: [
        'FAIL too-short datadog/cluster-agent-token',
        'FAIL whitespace datadog/cluster-agent-token',
      ],
    },
    {
      name: 'a SecretBinary value fails',
      source: ok(tokenSourceOf({ valueKind: 'binary', current: undefined })),
      expected: ['FAIL binary datadog/cluster-agent-token'],
    },
    {
      name: 'a configured property over a non-JSON value fails',
      source: ok(tokenSourceOf({ valueKind: 'not-json', property: 'token', current: undefined })),
      property: 'token',
      expected: ['FAIL not-json datadog/cluster-agent-token'],
    },
    {
      name: 'a missing JSON property fails',
      source: ok(
        tokenSourceOf({
          valueKind: 'json-property-missing',
          property: 'token',
          current: undefined,
        }),
      ),
      property: 'token',
      expected: ['FAIL property-missing datadog/cluster-agent-token'],
    },
    {
      name: 'a JSON property that is not a string fails',
      source: ok(
        tokenSourceOf({
          valueKind: 'json-property-not-string',
          property: 'token',
          current: undefined,
        }),
      ),
      property: 'token',
      expected: ['FAIL property-not-string datadog/cluster-agent-token'],
    },
    {
      name: 'a valid token read from a JSON property passes',
      source: ok(tokenSourceOf({ property: 'token' })),
      property: 'token',
      expected: ['PASS valid datadog/cluster-agent-token'],
    },
    {
      name: 'a pending rotation that differs from AWSCURRENT is reported as info beside the pass',
      source: ok(tokenSourceOf({ pending: digestSecret(CANARY.oldToken) })),
      expected: [
        'PASS valid datadog/cluster-agent-token',
        'FAIL rotation-pending datadog/cluster-agent-token',
      ],
    },
    {
      name: 'an AWSPENDING equal to AWSCURRENT is no rotation',
      source: ok(tokenSourceOf({ pending: digestSecret(CANARY.token) })),
      expected: ['PASS valid datadog/cluster-agent-token'],
    },
    {
      name: 'a string value without a digest cannot be evaluated',
      source: ok(tokenSourceOf({ current: undefined })),
      expected: ['ERROR no-current-version datadog/cluster-agent-token'],
    },
    {
      name: 'a secret that does not exist fails',
      source: awsError('ResourceNotFoundException', 400),
      expected: ['FAIL missing datadog/cluster-agent-token'],
    },
    {
      name: 'a secret the auditor may not read is an error, not a pass',
      source: awsError('AccessDeniedException', 400),
      expected: ['ERROR unreadable datadog/cluster-agent-token'],
    },
    {
      name: 'a source that was not collected (kubeconfig mode) is an info-level error',
      source: { status: 'not-installed', detail: 'AWS side not collected' } as const,
      expected: ['ERROR not-collected datadog/cluster-agent-token'],
    },
  ])('$name', ({ source, property, expected }) => {
    expect(summary(tokenSource.run(withSource(source, property)))).toEqual(expected);
  });

  it('gives each failure mode the severity its impact deserves', () => {
    const sev = (s: Collected<TokenSource>) =>
      failures(tokenSource.run(withSource(s))).map((f) => f.replace(/^.*@/, ''));
    expect(
      failures(tokenSource.run(withSource(ok(tokenSourceOf({ current: digestSecret('x') }))))),
    ).toEqual(['too-short datadog/cluster-agent-token']);
    expect(sev(ok(tokenSourceOf({ current: digestSecret(`${CANARY.token}\n`) })))).toEqual([
      'high',
    ]);
    expect(sev(ok(tokenSourceOf({ pending: digestSecret(CANARY.oldToken) })))).toEqual(['info']);
    expect(sev({ status: 'not-installed', detail: 'x' })).toEqual(['info']);
    expect(tokenSource.severity).toBe('critical');
  });

  it('names the secret, the length and the fix without any value', () => {
    const [r] = tokenSource.run(
      withSource(ok(tokenSourceOf({ current: digestSecret('short-token') }))),
    );
    expect(r!.message).toContain('datadog/cluster-agent-token');
    expect(r!.message).toContain('11 characters');
    expect(r!.remediation).toContain('put-secret-value --secret-id datadog/cluster-agent-token');
    expect(`${r!.message}${r!.remediation}`).not.toContain('short-token');
  });
});

describe('token-source rotation settings', () => {
  it.each([
    [{ rotationEnabled: false }, 'Rotation: off; last changed 2026-10-01T08:00:00.000Z.'],
    [
      {
        rotationEnabled: true,
        lastRotatedDate: '2026-11-01T00:00:00.000Z',
        nextRotationDate: '2026-12-01T00:00:00.000Z',
      },
      'Rotation: on; last rotated 2026-11-01T00:00:00.000Z; next rotation 2026-12-01T00:00:00.000Z',
    ],
    [{ rotationEnabled: true }, 'Rotation: on; last rotated never; next rotation not scheduled'],
  ])('reports rotation %j in the source finding', (over, text) => {
    const [r] = tokenSource.run(buildRotation(over));
    expect(r!.status).toBe('PASS');
    expect(r!.message).toContain(text);
  });
});

function buildRotation(over: Partial<TokenSource>) {
  return build(healthyDocs(), { aws: { tokenSource: ok(tokenSourceOf(over)) } });
}
