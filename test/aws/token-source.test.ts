import {
  DecryptionFailure,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createAwsClients } from '../../lambda/collect/aws/clients.js';
import { collectTokenSource } from '../../lambda/collect/aws/token-source.js';
import { digestSecret } from '../../lambda/snapshot/secret-digest.js';
import type { AuditSettings, Collected, TokenSource } from '../../lambda/snapshot/snapshot.js';
import { sdkError } from '../support/aws-fixture.js';

const CANARY = 'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c';
const CANARY_OLD = 'CANARY-dd-cluster-agent-token-OLD-0b1c2d3e4f5a6b7c';
const SECRET_ID = 'datadog/cluster-agent-token';
const ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog/cluster-agent-token-Xk3pQ9';
const SETTINGS: AuditSettings = { tokenSecretId: SECRET_ID, clusterAgent: { port: 5005 } };

/** Every encoding a leaked value could take in a report or log. */
function leakForms(value: string): string[] {
  const b = Buffer.from(value, 'utf8');
  return [
    value,
    b.toString('base64'),
    b.toString('base64url'),
    b.toString('hex'),
    encodeURIComponent(value),
  ];
}

function expectNoLeak(result: Collected<TokenSource>): void {
  const text = JSON.stringify(result);
  for (const canary of [CANARY, CANARY_OLD]) {
    for (const form of leakForms(canary)) expect(text).not.toContain(form);
    // Also the distinctive tail, in case something truncates or re-encodes the head.
    expect(text).not.toContain(canary.slice(-16));
  }
}

const sm = mockClient(SecretsManagerClient);
const clients = createAwsClients({ region: 'eu-west-1' });

function describeWith(stages: Record<string, string[]>, extra: object = {}) {
  sm.on(DescribeSecretCommand, { SecretId: SECRET_ID }).resolves({
    ARN,
    Name: SECRET_ID,
    LastChangedDate: new Date('2026-10-01T08:00:00.000Z'),
    RotationEnabled: true,
    VersionIdsToStages: stages,
    ...extra,
  });
}

function currentIs(value: { SecretString?: string; SecretBinary?: Uint8Array }) {
  sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' }).resolves({
    ARN,
    Name: SECRET_ID,
    VersionId: 'v-current',
    VersionStages: ['AWSCURRENT'],
    ...value,
  });
}

beforeEach(() => sm.reset());
afterAll(() => sm.restore());

describe('collectTokenSource: values', () => {
  it('digests a plain string secret and keeps its metadata, not its value', async () => {
    currentIs({ SecretString: CANARY });
    describeWith({ 'v-current': ['AWSCURRENT'] });

    const result = await collectTokenSource(clients, SETTINGS);

    expect(result).toEqual({
      status: 'ok',
      value: {
        secretId: SECRET_ID,
        arn: ARN,
        valueKind: 'string',
        current: digestSecret(CANARY),
        lastChangedDate: '2026-10-01T08:00:00.000Z',
        rotationEnabled: true,
        versionStages: { 'v-current': ['AWSCURRENT'] },
      },
    });
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expectNoLeak(result);
  });

  it('digests only the configured JSON property of a JSON secret', async () => {
    currentIs({ SecretString: JSON.stringify({ token: CANARY, apiKey: CANARY_OLD }) });
    describeWith({ 'v-current': ['AWSCURRENT'] });

    const result = await collectTokenSource(clients, { ...SETTINGS, tokenSecretProperty: 'token' });

    expect(result.status).toBe('ok');
    const value = (result as { value: TokenSource }).value;
    expect(value).toMatchObject({ property: 'token', valueKind: 'string' });
    expect(value.current).toEqual(digestSecret(CANARY));
    expectNoLeak(result);
  });

  it.each([
    {
      what: 'lacks the property',
      secret: JSON.stringify({ other: CANARY }),
      kind: 'json-property-missing',
    },
    { what: 'is not JSON', secret: CANARY, kind: 'not-json' },
    { what: 'is a JSON array', secret: JSON.stringify([CANARY]), kind: 'not-json' },
    {
      what: 'holds a non-string property',
      secret: JSON.stringify({ token: { v: CANARY } }),
      kind: 'json-property-not-string',
    },
  ])('reports $kind, without a digest, when the secret $what', async ({ secret, kind }) => {
    currentIs({ SecretString: secret });
    describeWith({ 'v-current': ['AWSCURRENT'] });

    const result = await collectTokenSource(clients, { ...SETTINGS, tokenSecretProperty: 'token' });

    expect(result.status).toBe('ok');
    const value = (result as { value: TokenSource }).value;
    expect(value.valueKind).toBe(kind);
    expect(value.current).toBeUndefined();
    expectNoLeak(result);
  });

  it('digests the bytes of a binary secret and says it is binary', async () => {
    currentIs({ SecretBinary: new Uint8Array(Buffer.from(CANARY)) });
    describeWith({ 'v-current': ['AWSCURRENT'] });

    const result = await collectTokenSource(clients, SETTINGS);

    expect(result).toMatchObject({
      status: 'ok',
      value: { valueKind: 'binary', current: digestSecret(CANARY) },
    });
    expectNoLeak(result);
  });
});

describe('collectTokenSource: rotation', () => {
  it('digests the AWSPENDING version too while a rotation is in progress', async () => {
    currentIs({ SecretString: CANARY_OLD });
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' }).resolves({
      VersionId: 'v-next',
      SecretString: CANARY,
    });
    describeWith({ 'v-current': ['AWSCURRENT'], 'v-next': ['AWSPENDING'] });

    const result = await collectTokenSource(clients, SETTINGS);

    expect(result).toMatchObject({
      status: 'ok',
      value: { current: digestSecret(CANARY_OLD), pending: digestSecret(CANARY) },
    });
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { VersionStage: 'AWSPENDING' });
    expectNoLeak(result);
  });

  it('does not read AWSPENDING when it labels the current version', async () => {
    currentIs({ SecretString: CANARY });
    describeWith({ 'v-current': ['AWSCURRENT', 'AWSPENDING'], 'v-old': ['AWSPREVIOUS'] });

    const result = await collectTokenSource(clients, SETTINGS);

    expect(result.status).toBe('ok');
    expect((result as { value: TokenSource }).value.pending).toBeUndefined();
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('treats an AWSPENDING label without a stored value as no pending value yet', async () => {
    currentIs({ SecretString: CANARY });
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' }).rejects(
      new ResourceNotFoundException({
        message:
          "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
        $metadata: {},
      }),
    );
    describeWith({ 'v-current': ['AWSCURRENT'], 'v-next': ['AWSPENDING'] });

    const result = await collectTokenSource(clients, SETTINGS);

    expect(result.status).toBe('ok');
    expect((result as { value: TokenSource }).value.pending).toBeUndefined();
  });
});

describe('collectTokenSource: failures', () => {
  it.each([
    {
      what: 'the secret does not exist',
      error: new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      }),
      code: 'NotFound',
      advice: /Create the secret or set tokenSecret\.id/,
    },
    {
      what: 'the auditor may not read it',
      error: sdkError(
        'AccessDeniedException',
        'User: arn:aws:sts::123456789012:assumed-role/auditor/s is not authorized to perform: secretsmanager:GetSecretValue',
      ),
      code: 'AccessDenied',
      advice: /Allow secretsmanager:GetSecretValue on secret datadog\/cluster-agent-token/,
    },
    {
      what: 'KMS cannot decrypt it',
      error: new DecryptionFailure({
        message:
          "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
        $metadata: { httpStatusCode: 400 },
      }),
      code: 'DecryptionFailure',
      advice: /Allow kms:Decrypt on the KMS key of secret datadog\/cluster-agent-token/,
    },
    {
      what: 'the KMS key policy denies the auditor',
      error: sdkError('AccessDeniedException', 'Access to KMS is not allowed'),
      code: 'DecryptionFailure',
      advice: /Allow kms:Decrypt/,
    },
    {
      what: 'AWS keeps throttling after the SDK retries',
      error: sdkError('ThrottlingException', 'Rate exceeded'),
      code: 'Throttled',
      advice: /after 4 attempts/,
    },
  ])('records $code when $what, naming the secret and the fix', async ({ error, code, advice }) => {
    sm.on(GetSecretValueCommand).rejects(error);
    describeWith({ 'v-current': ['AWSCURRENT'] });

    const result = await collectTokenSource(clients, SETTINGS);

    expect(result).toEqual({
      status: 'error',
      error: expect.objectContaining({
        source: 'aws',
        kind: 'secretsmanager:GetSecretValue',
        name: SECRET_ID,
        code,
      }),
    });
    const message = (result as { error: { message: string } }).error.message;
    expect(message).toContain(`Reading Secrets Manager secret ${SECRET_ID} in eu-west-1`);
    expect(message).toMatch(advice);
    expectNoLeak(result);
  });

  it('records a DescribeSecret denial under its own action after reading the value', async () => {
    currentIs({ SecretString: CANARY });
    sm.on(DescribeSecretCommand).rejects(sdkError('AccessDeniedException', 'not authorized'));

    const result = await collectTokenSource(clients, SETTINGS);

    expect(result).toMatchObject({
      status: 'error',
      error: { kind: 'secretsmanager:DescribeSecret', code: 'AccessDenied' },
    });
    expect((result as { error: { message: string } }).error.message).toContain(
      'Allow secretsmanager:DescribeSecret on secret datadog/cluster-agent-token',
    );
    expectNoLeak(result);
  });

  it('never quotes the text of an error that is not an AWS error response', async () => {
    // A thrown error whose text holds the value (e.g. a parser echoing its input) must not leak.
    sm.on(GetSecretValueCommand).rejects(new SyntaxError(`Unexpected token in ${CANARY}`));
    describeWith({ 'v-current': ['AWSCURRENT'] });

    const result = await collectTokenSource(clients, SETTINGS);

    expect(result.status).toBe('error');
    expectNoLeak(result);
  });
});
