import type { CheckResult } from '../../config/findings.js';
import { digestsEqual } from '../../snapshot/secret-digest.js';
import type { ClusterSnapshot, TokenSource } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';

/** The Cluster Agent refuses tokens shorter than this (datadog-agent auth token validation). */
export const MIN_TOKEN_LENGTH = 32;

/**
 * The configured Secrets Manager secret is the one source of the Cluster Agent token: it must
 * exist, be readable, hold a string (or the configured JSON property as a string) of at least 32
 * characters without surrounding whitespace. A pending rotation is reported for information.
 */
export const tokenSource: Check = {
  id: 'token-source',
  area: 'token',
  title: 'The Cluster Agent token in Secrets Manager exists and is a valid token',
  severity: 'critical',
  resourceType: 'SecretsManagerSecret',
  risk: 'Every synced copy of the token comes from this secret: if it is missing, shorter than 32 characters or carries a stray newline, the Cluster Agent refuses it or every agent call is answered 403 invalid session token.',
  remediation:
    'Store the token as a plain string of at least 32 alphanumeric characters (no trailing newline) in the configured Secrets Manager secret, or set tokenSecret.property to the JSON key that holds it.',
  // No `requires`: a missing or unreadable secret is this check's own finding, not "not evaluated".
  requires: [],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const id = snapshot.settings.tokenSecretId;
    const property = snapshot.settings.tokenSecretProperty;
    const resource = { kind: 'SecretsManagerSecret', name: id };
    const what = property ? `secret ${id} (JSON property "${property}")` : `secret ${id}`;
    const collected = snapshot.aws.tokenSource;

    if (collected.status === 'not-installed') {
      return [
        {
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: 'not-collected',
          message: `Secrets Manager ${what} was not read on cluster ${snapshot.cluster.name}: ${collected.detail}. The token checks compare the synced Secrets with each other only.`,
          remediation:
            'Run the audit with AWS credentials allowed secretsmanager:GetSecretValue and secretsmanager:DescribeSecret on this secret.',
        },
      ];
    }
    if (collected.status === 'error') {
      const e = collected.error;
      if (/NotFound/i.test(e.code)) {
        return [
          {
            status: 'FAIL',
            resource,
            messageId: 'missing',
            message: `Secrets Manager ${what} does not exist in ${snapshot.cluster.region ?? 'the audited region'} (${e.code}): the ExternalSecrets that map it cannot sync the Cluster Agent token.`,
            remediation: `Create it: aws secretsmanager create-secret --name ${id} --secret-string "$(openssl rand -hex 32)", or set tokenSecret.id in the auditor config to the secret your ExternalSecrets use.`,
          },
        ];
      }
      return [
        {
          status: 'ERROR',
          resource,
          messageId: 'unreadable',
          message: `Could not read Secrets Manager ${what} (${e.code}${e.status ? `, HTTP ${e.status}` : ''}): ${e.message}`,
          remediation: `Allow the auditor role secretsmanager:GetSecretValue and secretsmanager:DescribeSecret on ${id} (and kms:Decrypt on its key when it uses a customer managed key), then re-run.`,
        },
      ];
    }
    return judge(collected.value, what, resource);
  },
};

function judge(
  src: TokenSource,
  what: string,
  resource: { kind: string; name: string },
): CheckResult[] {
  const id = src.secretId;
  const fail = (messageId: string, message: string, remediation: string, severity?: 'high') => ({
    status: 'FAIL' as const,
    ...(severity ? { severity } : {}),
    resource,
    messageId,
    message,
    remediation,
  });
  switch (src.valueKind) {
    case 'binary':
      return [
        fail(
          'binary',
          `Secrets Manager ${what} holds a SecretBinary value: the Cluster Agent token must be a string.`,
          `Store the token as SecretString: aws secretsmanager put-secret-value --secret-id ${id} --secret-string <token>.`,
        ),
      ];
    case 'not-json':
      return [
        fail(
          'not-json',
          `Secrets Manager ${what}: a JSON property is configured, but the secret value is not JSON.`,
          `Either store {"${src.property ?? 'token'}": "<token>"} in ${id}, or remove tokenSecret.property from the auditor config and remoteRef.property from the ExternalSecrets.`,
        ),
      ];
    case 'json-property-missing':
      return [
        fail(
          'property-missing',
          `Secrets Manager ${what}: the JSON document has no property "${src.property ?? ''}".`,
          `Add the property to ${id}, or set tokenSecret.property (and remoteRef.property in the ExternalSecrets) to the key that holds the token.`,
        ),
      ];
    case 'json-property-not-string':
      return [
        fail(
          'property-not-string',
          `Secrets Manager ${what}: property "${src.property ?? ''}" is not a string (number, object or null).`,
          `Store the token in ${id} as a JSON string: {"${src.property ?? 'token'}": "<token>"}.`,
        ),
      ];
    case 'string':
      break;
  }
  const d = src.current;
  if (!d) {
    return [
      {
        status: 'ERROR',
        resource,
        messageId: 'no-current-version',
        message: `Secrets Manager ${what} has no readable AWSCURRENT value.`,
        remediation: `Check the version stages of ${id} (aws secretsmanager describe-secret --secret-id ${id}): one version must carry AWSCURRENT.`,
      },
    ];
  }

  const results: CheckResult[] = [];
  if (d.length < MIN_TOKEN_LENGTH) {
    results.push(
      fail(
        'too-short',
        `Secrets Manager ${what} holds a token of ${d.length} characters; the Cluster Agent refuses tokens shorter than ${MIN_TOKEN_LENGTH}, so every agent call to it fails.`,
        `Replace it with a longer token: aws secretsmanager put-secret-value --secret-id ${id} --secret-string "$(openssl rand -hex 32)" (64 characters), then let the ExternalSecrets sync and restart the agent pods.`,
      ),
    );
  }
  if (d.flags.leadingWhitespace || d.flags.trailingWhitespace) {
    const where = [
      d.flags.leadingWhitespace ? 'leading' : '',
      d.flags.trailingWhitespace ? 'trailing' : '',
    ]
      .filter(Boolean)
      .join(' and ');
    results.push(
      fail(
        'whitespace',
        `Secrets Manager ${what} has ${where} whitespace (often a newline from "echo" or a file): the agents send it verbatim and the Cluster Agent compares byte for byte.`,
        `Rewrite the value without the whitespace: aws secretsmanager put-secret-value --secret-id ${id} --secret-string "$(printf %s "$TOKEN")".`,
        'high',
      ),
    );
  }
  if (d.flags.nonPrintable) {
    results.push(
      fail(
        'non-printable',
        `Secrets Manager ${what} contains control characters or invalid UTF-8: it cannot travel in an HTTP Authorization header.`,
        `Replace it with a printable token: aws secretsmanager put-secret-value --secret-id ${id} --secret-string "$(openssl rand -hex 32)".`,
        'high',
      ),
    );
  }
  if (src.pending && !digestsEqual(src.pending, d)) {
    results.push({
      status: 'FAIL',
      severity: 'info',
      resource,
      messageId: 'rotation-pending',
      message: `Secrets Manager ${what} has an AWSPENDING version that differs from AWSCURRENT: a rotation is in progress. ExternalSecrets sync AWSCURRENT, so consumers change only when the rotation finishes.`,
      remediation: `Let the rotation finish (or cancel it: aws secretsmanager cancel-rotate-secret --secret-id ${id}); after it completes, restart the agent pods so they read the new token.`,
    });
  }
  if (results.every((r) => r.severity === 'info')) {
    results.unshift({
      status: 'PASS',
      resource,
      messageId: 'valid',
      message: `Secrets Manager ${what} holds a ${d.length}-character token without surrounding whitespace. ${rotationText(src)}`,
      remediation: '',
    });
  }
  return results;
}

/** Rotation settings as DescribeSecret reports them, for the source finding. */
export function rotationText(src: TokenSource): string {
  if (!src.rotationEnabled) {
    return `Rotation: off${src.lastRotatedDate ? ` (last rotated ${src.lastRotatedDate})` : ''}${
      src.lastChangedDate ? `; last changed ${src.lastChangedDate}` : ''
    }.`;
  }
  return `Rotation: on; last rotated ${src.lastRotatedDate ?? 'never'}; next rotation ${
    src.nextRotationDate ?? 'not scheduled'
  }: restart the token's readers after each one.`;
}
