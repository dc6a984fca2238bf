/**
 * No check output may carry a secret value: every failure path of the token and ExternalSecret
 * checks runs over manifests full of the canary values, and the whole serialised result (messages,
 * remediations, resources, message ids) is searched for each canary in every encoding we can think
 * of, and for its digest.
 */
import { createHash } from 'node:crypto';
import { runChecks } from '../../../lambda/checks/runner.js';
import { digestSecret } from '../../../lambda/snapshot/secret-digest.js';
import type { ClusterSnapshot } from '../../../lambda/snapshot/snapshot.js';
import { fixtureSnapshot, ok } from '../../support/snapshot-builder.js';
import {
  CANARY,
  TOKEN_CHECKS,
  build,
  clusterAgent,
  datadogNamespace,
  fargateApp,
  golangNamespace,
  namespace,
  secret,
  syncedSecret,
  tokenRef,
  tokenSourceOf,
} from './support.js';

function forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const sha = createHash('sha256').update(bytes).digest('hex');
  return [
    value,
    value.toLowerCase(),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    encodeURIComponent(value),
    // The tail is what makes each canary unique; a truncated echo would still be a leak.
    value.slice(-16),
    sha,
    sha.slice(0, 12),
  ];
}

const unavailable = {
  status: 'error' as const,
  error: {
    source: 'aws' as const,
    kind: 'secretsmanager:GetSecretValue',
    code: 'AccessDenied',
    message: 'denied',
  },
};

const chartSecret = secret(
  'datadog',
  'datadog-agent-cluster-agent',
  { token: CANARY.token },
  {
    labels: { 'app.kubernetes.io/managed-by': 'Helm' },
    annotations: { 'meta.helm.sh/release-name': 'datadog-agent' },
    manager: 'helm',
  },
);

const SCENARIOS: { name: string; snapshot: () => ClusterSnapshot }[] = [
  { name: 'healthy', snapshot: () => build([...datadogNamespace(), ...golangNamespace()]) },
  {
    name: 'stale token in one namespace',
    snapshot: () => build([...datadogNamespace(), ...golangNamespace(CANARY.oldToken)]),
  },
  {
    name: 'stale Cluster Agent, pending rotation',
    snapshot: () =>
      build([...datadogNamespace(CANARY.oldToken), ...golangNamespace()], {
        source: { pending: digestSecret(CANARY.oldToken) },
      }),
  },
  {
    name: 'sync pending',
    snapshot: () =>
      build([...datadogNamespace(CANARY.oldToken), ...golangNamespace(CANARY.oldToken)], {
        source: { lastChangedDate: '2026-11-24T01:40:00.000Z' },
      }),
  },
  {
    name: 'Secrets Manager unavailable, consumers diverge',
    snapshot: () =>
      build([...datadogNamespace(), ...golangNamespace(CANARY.oldToken)], {
        aws: { tokenSource: unavailable },
      }),
  },
  {
    name: 'literal token, API key and app key in pod specs',
    snapshot: () =>
      build([
        namespace('golang'),
        ...fargateApp('golang', {
          env: [
            { name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: CANARY.token },
            { name: 'DD_API_KEY', value: CANARY.apiKey },
            { name: 'DD_APP_KEY', value: CANARY.appKey },
          ],
        }),
        ...clusterAgent('datadog', [
          { name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: CANARY.oldToken },
        ]),
      ]),
  },
  {
    name: 'dangling refs, missing keys, envFrom',
    snapshot: () =>
      build([
        namespace('golang'),
        ...fargateApp('golang', {
          env: [tokenRef('go-secrets'), tokenRef('golang-secrets', 'tok')],
          envFrom: [{ secretRef: { name: 'agent-env' } }, { secretRef: { name: 'gone' } }],
        }),
        syncedSecret('golang', 'golang-secrets', { token: CANARY.token }),
        syncedSecret('golang', 'agent-env', { DD_CLUSTER_AGENT_AUTH_TOKEN: CANARY.oldToken }),
      ]),
  },
  {
    name: 'chart-generated token Secret and a hand-made one',
    snapshot: () =>
      build([
        namespace('datadog'),
        ...clusterAgent('datadog', [tokenRef('datadog-agent-cluster-agent')]),
        chartSecret,
        ...golangNamespace(CANARY.token, {}, { env: [tokenRef('go-secrets')] }),
        secret('golang', 'go-secrets', { token: CANARY.oldToken }, { manager: 'kubectl' }),
      ]),
  },
  {
    name: 'ExternalSecrets failing, stale, mis-mapped',
    snapshot: () =>
      build(
        [
          ...datadogNamespace(CANARY.token, {
            data: [{ secretKey: 'token', key: 'datadog/old', property: 'x' }],
            refreshTime: '2026-11-20T00:00:00Z',
          }),
          ...golangNamespace(CANARY.oldToken, {
            refreshInterval: '0',
            ready: {
              status: 'False',
              reason: 'SecretSyncedError',
              message: 'could not get secret data',
            },
          }).filter((d) => d.kind !== 'SecretStore'),
        ],
        { source: { lastChangedDate: '2026-11-24T01:40:00.000Z' } },
      ),
  },
  {
    name: 'pods started before their token Secret changed',
    snapshot: () =>
      build(
        [
          ...datadogNamespace(),
          ...golangNamespace().filter((d) => d.kind !== 'Secret'),
          syncedSecret(
            'golang',
            'golang-secrets',
            { token: CANARY.token, datadog_api_key: CANARY.apiKey },
            '2026-11-22T09:00:00.000Z',
          ),
        ],
        { source: { lastChangedDate: '2026-11-22T08:58:00.000Z' } },
      ),
  },
  {
    name: 'a too-short token with a newline in Secrets Manager',
    snapshot: () =>
      build([...datadogNamespace(`${CANARY.token}\n`), ...golangNamespace()], {
        source: { current: digestSecret(`${CANARY.token}\n`) },
      }),
  },
  ...(['healthy', 'field-report', 'token-stale'] as const).map((name) => ({
    name: `fixture ${name}`,
    snapshot: () => fixtureSnapshot(name, { aws: { tokenSource: ok(tokenSourceOf()) } }),
  })),
];

describe('no secret value in any token check output', () => {
  it.each(SCENARIOS)('$name: no canary in any form in the results', ({ snapshot }) => {
    const findings = runChecks(snapshot(), TOKEN_CHECKS);
    expect(findings.length).toBeGreaterThan(0);
    const text = JSON.stringify(findings);
    for (const canary of Object.values(CANARY)) {
      for (const form of forms(canary)) expect(text).not.toContain(form);
    }
    // Also what a failed check would print: no crash hides a leak.
    expect(findings.filter((f) => f.messageId === 'check-crashed')).toEqual([]);
  });

  it('exercises the failure paths it claims to (the scenarios fail in many ways)', () => {
    const ids = new Set(
      SCENARIOS.flatMap(({ snapshot }) =>
        runChecks(snapshot(), TOKEN_CHECKS)
          .filter((f) => f.status !== 'PASS')
          .map((f) => `${f.checkId}:${f.messageId.replace(/:.*/, '')}`),
      ),
    );
    const expected = [
      'externalsecret-fresh:not-refreshed-after-change',
      'externalsecret-fresh:stale',
      'externalsecret-mapping:unmanaged-token-secret',
      'externalsecret-mapping:wrong-remote-key',
      'externalsecret-synced:not-ready',
      'externalsecret-synced:store-missing',
      'token-consumers-match:differs-from-cluster-agent',
      'token-consumers-match:mismatch',
      'token-consumers-match:sync-pending',
      'token-not-chart-generated:chart-generated',
      'token-not-plaintext:literal',
      'token-ref-resolves:missing-envfrom-secret',
      'token-ref-resolves:missing-key',
      'token-ref-resolves:missing-secret',
      'token-source:rotation-pending',
      'token-source:whitespace',
      'token-stale-in-pods:started-before-change',
    ];
    expect(expected.filter((id) => !ids.has(id))).toEqual([]);
  });
});
