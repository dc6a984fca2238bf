import { runChecks } from '../../../lambda/checks/runner.js';
import { tokenConsumersMatch } from '../../../lambda/checks/token/token-consumers-match.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { digestSecret } from '../../../lambda/snapshot/secret-digest.js';
import type { BuildOptions } from '../../support/snapshot-builder.js';
import { failed } from '../../support/snapshot-builder.js';
import type { TokenSource } from '../../../lambda/snapshot/snapshot.js';
import {
  CANARY,
  build,
  datadogNamespace,
  fargateApp,
  golangNamespace,
  healthyDocs,
  namespace,
  secret,
  summary,
  syncedSecret,
  tokenRef,
} from './support.js';

type Opts = BuildOptions & { source?: Partial<TokenSource> };

const unavailable: Opts = {
  aws: {
    tokenSource: {
      status: 'error',
      error: {
        source: 'aws',
        kind: 'secretsmanager:GetSecretValue',
        code: 'AccessDeniedException',
        message: 'denied',
      },
    },
  },
};

/** A rotation 20 minutes before the audit: Secrets Manager now holds the (current) canary. */
const recentRotation: Opts = { source: { lastChangedDate: '2026-11-24T01:40:00.000Z' } };

function run(docs: Raw[], opts: Opts = {}) {
  return tokenConsumersMatch.run(build(docs, opts));
}

describe('token-consumers-match', () => {
  it.each<{ name: string; docs: Raw[]; opts?: Opts; expected: string[] }>([
    {
      name: 'every token Secret equal to Secrets Manager passes',
      docs: healthyDocs(),
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'PASS matches-source:token golang/golang-secrets',
      ],
    },
    {
      name: 'an app namespace holding the old token long after the change is a critical mismatch',
      docs: [...datadogNamespace(), ...golangNamespace(CANARY.oldToken)],
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'copies that still equal the Cluster Agent within refreshInterval plus backoff are sync pending',
      docs: [
        ...datadogNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
        ...golangNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
      ],
      opts: recentRotation,
      expected: [
        'FAIL sync-pending:token datadog/datadog-secrets',
        'FAIL sync-pending:token golang/golang-secrets',
      ],
    },
    {
      name: "a copy that differs from the Cluster Agent's token while its pods run is critical within the grace",
      docs: [
        ...datadogNamespace(CANARY.token, { refreshTime: '2026-11-24T01:45:00Z' }),
        ...golangNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
      ],
      opts: recentRotation,
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'a Cluster Agent copy that rejects running agents is critical within the grace',
      docs: [
        ...datadogNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
        ...golangNamespace(CANARY.token, { refreshTime: '2026-11-24T01:45:00Z' }),
      ],
      opts: recentRotation,
      expected: [
        'FAIL mismatch:token datadog/datadog-secrets',
        'PASS matches-source:token golang/golang-secrets',
      ],
    },
    {
      name: 'a failing ExternalSecret holding the old token gets no grace',
      docs: [
        ...datadogNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
        ...golangNamespace(CANARY.oldToken, {
          refreshTime: '2026-11-24T01:30:00Z',
          ready: { status: 'False', reason: 'SecretSyncedError', message: 'AccessDenied' },
        }),
      ],
      opts: recentRotation,
      expected: [
        'FAIL sync-pending:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'an ExternalSecret without a Ready condition gets no grace',
      docs: [
        ...datadogNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
        ...golangNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z', ready: null }),
      ],
      opts: recentRotation,
      expected: [
        'FAIL sync-pending:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'a mismatch past refreshInterval plus backoff escalates to a critical mismatch',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T00:20:00Z' }),
      ],
      opts: { source: { lastChangedDate: '2026-11-24T00:30:00.000Z' } },
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'a short refreshInterval gives a short grace (15m + 5m < 30m)',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.oldToken, {
          refreshInterval: '15m',
          refreshTime: '2026-11-24T01:25:00Z',
        }),
      ],
      opts: { source: { lastChangedDate: '2026-11-24T01:30:00.000Z' } },
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'a refresh after the change that still differs gets no grace',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:50:00Z' }),
      ],
      opts: recentRotation,
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'an ExternalSecret that syncs once (refreshInterval 0) gets no grace',
      docs: [...datadogNamespace(), ...golangNamespace(CANARY.oldToken, { refreshInterval: '0' })],
      opts: recentRotation,
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'a hand-made Secret no ExternalSecret writes gets no grace',
      docs: [
        ...datadogNamespace(),
        namespace('golang'),
        ...fargateApp('golang', { env: [tokenRef('dd-token')] }),
        secret('golang', 'dd-token', { token: CANARY.oldToken }, { manager: 'kubectl' }),
      ],
      opts: recentRotation,
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/dd-token',
      ],
    },
    {
      name: "a Cluster Agent Secret that differs is reported on the Cluster Agent's Secret",
      docs: [...datadogNamespace(CANARY.oldToken), ...golangNamespace()],
      expected: [
        'FAIL mismatch:token datadog/datadog-secrets',
        'PASS matches-source:token golang/golang-secrets',
      ],
    },
    {
      name: 'without Secrets Manager, a node agent diverging from the Cluster Agent still fails',
      docs: [...datadogNamespace(), ...golangNamespace(CANARY.oldToken)],
      opts: unavailable,
      expected: [
        'PASS cluster-agent-reference:token datadog/datadog-secrets',
        'FAIL differs-from-cluster-agent:token golang/golang-secrets',
      ],
    },
    {
      name: 'without Secrets Manager, consumers equal to the Cluster Agent pass',
      docs: healthyDocs(),
      opts: unavailable,
      expected: [
        'PASS cluster-agent-reference:token datadog/datadog-secrets',
        'PASS matches-cluster-agent:token golang/golang-secrets',
      ],
    },
    {
      name: 'an unusable Secrets Manager value (binary) falls back to comparing consumers',
      docs: [...datadogNamespace(), ...golangNamespace(CANARY.oldToken)],
      opts: { source: { valueKind: 'binary', current: undefined } },
      expected: [
        'PASS cluster-agent-reference:token datadog/datadog-secrets',
        'FAIL differs-from-cluster-agent:token golang/golang-secrets',
      ],
    },
    {
      name: 'without Secrets Manager and without a Cluster Agent, diverging consumers all fail',
      docs: [
        ...golangNamespace(CANARY.oldToken),
        namespace('web'),
        ...fargateApp('web', { env: [tokenRef('web-secrets')] }),
        syncedSecret('web', 'web-secrets', { token: CANARY.token }),
      ],
      opts: unavailable,
      expected: [
        'FAIL consumers-diverge:token golang/golang-secrets',
        'FAIL consumers-diverge:token web/web-secrets',
      ],
    },
    {
      name: 'a token read through envFrom is compared under its variable name',
      docs: [
        ...datadogNamespace(),
        namespace('golang'),
        ...fargateApp('golang', {
          env: [],
          envFrom: [{ secretRef: { name: 'agent-env' } }],
        }),
        syncedSecret('golang', 'agent-env', { DD_CLUSTER_AGENT_AUTH_TOKEN: CANARY.oldToken }),
      ],
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:DD_CLUSTER_AGENT_AUTH_TOKEN golang/agent-env',
      ],
    },
    {
      name: "a pod asking for an injected sidecar is checked against its namespace's datadog-secret",
      docs: [
        ...datadogNamespace(),
        namespace('shop'),
        ...fargateApp('shop', {
          labels: { 'agent.datadoghq.com/sidecar': 'fargate' },
          containers: [{ name: 'app', image: 'shop:1', env: [] }],
        }),
        secret('shop', 'datadog-secret', { token: CANARY.oldToken, 'api-key': CANARY.apiKey }),
      ],
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token shop/datadog-secret',
      ],
    },
    {
      name: 'a workload template without running pods is still compared',
      docs: [...datadogNamespace(), ...golangNamespace(CANARY.oldToken, {}, { noPods: true })],
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'an ExternalSecret target nobody reads is still compared (it maps the token)',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.oldToken, {}, { env: [tokenRef('go-secrets')] }),
      ],
      expected: [
        'PASS matches-source:token datadog/datadog-secrets',
        'FAIL mismatch:token golang/golang-secrets',
      ],
    },
    {
      name: 'a Secret that does not exist is left to token-ref-resolves',
      docs: [...datadogNamespace(), ...fargateApp('golang', { env: [tokenRef('go-secrets')] })],
      expected: ['PASS matches-source:token datadog/datadog-secrets'],
    },
    {
      name: 'a cluster without token consumers yields nothing',
      docs: [namespace('default')],
      expected: [],
    },
  ])('$name', ({ docs, opts, expected }) => {
    expect(summary(run(docs, opts))).toEqual(expected);
  });

  it('says "sync pending", the deadline and the escalation, at medium severity', () => {
    const results = run(
      [
        ...datadogNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
        ...golangNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
      ],
      recentRotation,
    );
    const r = results.find((x) => x.status === 'FAIL' && x.resource.namespace === 'golang')!;
    expect(r.severity).toBe('medium');
    expect(r.message).toMatch(/^Sync pending: /);
    expect(r.message).toContain('Secret golang/golang-secrets key "token"');
    expect(r.message).toContain('changed at 2026-11-24T01:40:00.000Z (20m ago)');
    expect(r.message).toContain(
      'within the sync grace of ExternalSecret golang/golang-secrets (refreshInterval 1h + 5m backoff)',
    );
    expect(r.message).toContain('until 2026-11-24T02:45:00.000Z');
    expect(r.message).toContain('critical');
    expect(r.remediation).toContain(
      'kubectl -n golang annotate externalsecret golang-secrets force-sync=$(date +%s) --overwrite',
    );
  });

  it('says why no grace applies to a failing ExternalSecret, at critical severity', () => {
    const r = run(
      [
        ...datadogNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
        ...golangNamespace(CANARY.oldToken, {
          refreshTime: '2026-11-24T01:30:00Z',
          ready: { status: 'False', reason: 'SecretSyncedError', message: 'AccessDenied' },
        }),
      ],
      recentRotation,
    ).find((x) => x.resource.namespace === 'golang')!;
    expect(r.severity).toBeUndefined();
    expect(r.message).not.toMatch(/Sync pending/);
    expect(r.message).toContain(
      'no grace applies: ExternalSecret golang/golang-secrets is not Ready (Ready False, SecretSyncedError: AccessDenied)',
    );
  });

  it('says a copy rejected by the Cluster Agent now is an outage within the grace', () => {
    const r = run(
      [
        ...datadogNamespace(CANARY.token, { refreshTime: '2026-11-24T01:45:00Z' }),
        ...golangNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T01:30:00Z' }),
      ],
      recentRotation,
    ).find((x) => x.status === 'FAIL')!;
    expect(r.severity).toBeUndefined();
    expect(r.message).toContain(
      "no grace applies: it differs from the Cluster Agent's current token while pods golang/golang-app-7d9f8b6c5-abcde read it, an outage now",
    );
  });

  it('names the namespace, Secret, key and the pods that get 403 in a critical mismatch', () => {
    const docs = [
      ...datadogNamespace(),
      ...golangNamespace(CANARY.oldToken, { refreshTime: '2026-11-24T00:20:00Z' }, { pods: 2 }),
    ];
    const r = run(docs, { source: { lastChangedDate: '2026-11-24T00:30:00.000Z' } }).find(
      (x) => x.status === 'FAIL',
    )!;
    expect(r.severity).toBeUndefined(); // the check's own: critical
    expect(tokenConsumersMatch.severity).toBe('critical');
    expect(r.message).toContain('Secret golang/golang-secrets key "token" differs from');
    expect(r.message).toContain(
      'pods golang/golang-app-7d9f8b6c5-abcde, golang/golang-app-7d9f8b6c5-fghij get 403 invalid session token now',
    );
    expect(r.message).toContain(
      'past the sync grace of ExternalSecret golang/golang-secrets (refreshInterval 1h + 5m backoff)',
    );
    expect(r.remediation).toContain('kubectl -n golang rollout restart deployment/golang-app');
    expect(r.remediation).toContain('secretKey "token" of ExternalSecret golang/golang-secrets');
  });

  it('names the agents a stale Cluster Agent rejects', () => {
    const [r] = run([...datadogNamespace(CANARY.oldToken), ...golangNamespace()]);
    expect(r!.message).toContain("This is the Cluster Agent's own token");
    expect(r!.message).toContain('including pods golang/golang-app-7d9f8b6c5-abcde');
  });

  it('notes when a consumer still equals the Cluster Agent although both differ from Secrets Manager', () => {
    const results = run([
      ...datadogNamespace(CANARY.oldToken),
      ...golangNamespace(CANARY.oldToken),
    ]);
    expect(summary(results)).toEqual([
      'FAIL mismatch:token datadog/datadog-secrets',
      'FAIL mismatch:token golang/golang-secrets',
    ]);
    expect(results[1]!.message).toContain("still equals the Cluster Agent's token");
  });

  it('offers a ready-to-apply ExternalSecret for a hand-made Secret', () => {
    const r = run([
      ...datadogNamespace(),
      namespace('golang'),
      ...fargateApp('golang', { env: [tokenRef('dd-token')] }),
      secret('golang', 'dd-token', { token: CANARY.oldToken }, { manager: 'kubectl' }),
    ]).find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain('No ExternalSecret writes this Secret');
    expect(r.remediation).toContain('kind: ExternalSecret');
    expect(r.remediation).toContain('    name: dd-token');
    expect(r.remediation).toContain(
      '    - secretKey: token\n      remoteRef:\n        key: datadog/cluster-agent-token',
    );
  });

  it('says Secrets Manager was unavailable when comparing consumers with each other', () => {
    const r = run([...datadogNamespace(), ...golangNamespace(CANARY.oldToken)], unavailable).find(
      (x) => x.status === 'FAIL',
    )!;
    expect(r.message).toContain('Secrets Manager unavailable');
    expect(r.message).toContain(
      'differs from the Cluster Agent\'s token (Secret datadog/datadog-secrets key "token")',
    );
    expect(r.message).toContain('Pods golang/golang-app-7d9f8b6c5-abcde get 403');
  });

  it('recognises a consumer that already holds the AWSPENDING version', () => {
    const r = run([...datadogNamespace(), ...golangNamespace(CANARY.oldToken)], {
      source: { pending: digestSecret(CANARY.oldToken) },
    }).find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain('AWSPENDING');
  });

  it('is not evaluated when pods could not be listed', () => {
    const snapshot = build(healthyDocs(), { kube: { pods: failed('pods') } });
    const mine = runChecks(snapshot, [tokenConsumersMatch]).filter(
      (f) => f.checkId === 'token-consumers-match',
    );
    expect(mine.map((f) => `${f.status} ${f.messageId}`)).toEqual(['ERROR not-evaluated']);
  });
});
