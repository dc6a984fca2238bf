/**
 * The Datadog Operator in the checks: the literal-token check, the Operator-generated token in
 * token-not-chart-generated, the DatadogAgent as the Cluster Agent's token reader in the shared
 * token model, and the exports setup detection and the key-consumer model build on.
 */
import { operatorSetups } from '../../../lambda/snapshot/operator.js';
import { operatorTokenNotLiteral } from '../../../lambda/checks/operator/operator-token-not-literal.js';
import { runChecks } from '../../../lambda/checks/runner.js';
import { tokenConsumersMatch } from '../../../lambda/checks/token/token-consumers-match.js';
import { tokenNotChartGenerated } from '../../../lambda/checks/token/token-not-chart-generated.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { failed } from '../../support/snapshot-builder.js';
import {
  CANARY,
  build,
  clusterAgent,
  externalSecret,
  golangNamespace,
  namespace,
  secret,
  summary,
  syncedSecret,
  tokenRef,
} from '../token/support.js';
import { clusterAgentKeys, copyModel, tokenKeys } from '../../../lambda/snapshot/copies/model.js';
import { readerLabel } from '../../../lambda/snapshot/copies/readers.js';

const LITERAL = 'CANARY-operator-literal-token-3e5a7c9b1d2f';

function dda(
  global: Raw,
  o: { name?: string; ns?: string; status?: Raw; override?: Raw } = {},
): Raw {
  return {
    apiVersion: 'datadoghq.com/v2alpha1',
    kind: 'DatadogAgent',
    metadata: { name: o.name ?? 'datadog', namespace: o.ns ?? 'datadog', uid: 'dda-1' },
    spec: { global, ...(o.override ? { override: o.override } : {}) },
    ...(o.status ? { status: o.status } : {}),
  };
}

/** The Operator's token Secret `<name>-token`, as it writes it (no ESO, no Helm metadata). */
function operatorSecret(
  name = 'datadog-token',
  token = 'Q2VuZXJhdGVkUmFuZG9tVG9rZW4xMjM0NTY3OA',
): Raw {
  return secret('datadog', name, { token }, { manager: 'datadog-operator' });
}

/** The Cluster Agent as the Operator renders it, reading `secret`/`key`. */
const operatorCa = (secretName: string, key = 'token'): Raw[] => [
  namespace('datadog'),
  ...clusterAgent('datadog', [tokenRef(secretName, key)]),
];

describe('operator-token-not-literal', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'a DatadogAgent naming clusterAgentTokenSecret passes',
      docs: [dda({ clusterAgentTokenSecret: { secretName: 'dca', keyName: 'dca-token' } })],
      expected: ['PASS no-literal datadog/datadog'],
    },
    {
      name: 'a DatadogAgent with neither passes here (the generated token is token-not-chart-generated)',
      docs: [dda({})],
      expected: ['PASS no-literal datadog/datadog'],
    },
    {
      name: 'a literal clusterAgentToken fails',
      docs: [dda({ clusterAgentToken: LITERAL })],
      expected: ['FAIL literal datadog/datadog'],
    },
    {
      name: 'a literal shadowed by clusterAgentTokenSecret still fails (the resource still holds it)',
      docs: [
        dda({
          clusterAgentToken: LITERAL,
          clusterAgentTokenSecret: { secretName: 'dca', keyName: 'dca-token' },
        }),
      ],
      expected: ['FAIL literal-shadowed datadog/datadog'],
    },
    {
      name: 'one result per DatadogAgent',
      docs: [dda({ clusterAgentToken: LITERAL }), dda({}, { name: 'second', ns: 'monitoring' })],
      expected: ['FAIL literal datadog/datadog', 'PASS no-literal monitoring/second'],
    },
    { name: 'no DatadogAgent: nothing to evaluate', docs: golangNamespace(), expected: [] },
  ])('$name', ({ docs, expected }) => {
    expect(summary(operatorTokenNotLiteral.run(build(docs)))).toEqual(expected);
  });

  it('names the field and the Secret to use, never the value, and asks to rotate', () => {
    const [r] = operatorTokenNotLiteral.run(build([dda({ clusterAgentToken: LITERAL })]));
    expect(r!.severity ?? operatorTokenNotLiteral.severity).toBe('high');
    expect(r!.message).toContain('spec.global.clusterAgentToken');
    expect(r!.message).toContain(`${LITERAL.length} bytes`);
    expect(r!.message).toContain('Secret datadog/datadog-token key "token"');
    expect(r!.remediation).toContain(
      'spec.global.clusterAgentTokenSecret: {secretName: datadog-cluster-agent-token, keyName: token}',
    );
    expect(r!.remediation).toContain('kind: ExternalSecret');
    expect(r!.remediation).toContain('rotate');
    expect(JSON.stringify(r)).not.toContain(LITERAL);
  });

  it('is not evaluated when DatadogAgents could not be listed', () => {
    const s = build([namespace('datadog')], {
      kube: { datadogAgents: failed('datadogagents.datadoghq.com') },
    });
    const mine = runChecks(s, [operatorTokenNotLiteral]);
    expect(
      mine
        .filter((f) => f.checkId === 'operator-token-not-literal')
        .map((f) => `${f.status} ${f.messageId}`),
    ).toEqual(['ERROR not-evaluated']);
  });

  it('has nothing to say when the Operator is not installed', () => {
    const s = build([namespace('datadog')], {
      kube: { datadogAgents: { status: 'not-installed', detail: 'no CRD' } },
    });
    expect(
      runChecks(s, [operatorTokenNotLiteral]).filter(
        (f) => f.checkId === 'operator-token-not-literal',
      ),
    ).toEqual([]);
  });
});

describe('token-not-chart-generated on the Operator', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'the token the Operator generated into <name>-token fails',
      docs: [
        ...operatorCa('datadog-token'),
        operatorSecret(),
        dda({}, { status: { clusterAgent: { generatedToken: 'x' } } }),
      ],
      expected: ['FAIL operator-generated:token datadog/datadog-token'],
    },
    {
      name: 'clusterAgentTokenSecret without keyName is ignored by the Operator: generated, fails',
      docs: [
        ...operatorCa('datadog-token'),
        operatorSecret(),
        dda({ clusterAgentTokenSecret: { secretName: 'dca' } }),
      ],
      expected: ['FAIL operator-generated:token datadog/datadog-token'],
    },
    {
      name: 'a literal clusterAgentToken is left to operator-token-not-literal',
      docs: [...operatorCa('datadog-token'), operatorSecret(), dda({ clusterAgentToken: LITERAL })],
      expected: [],
    },
    {
      name: 'clusterAgentTokenSecret written by an ExternalSecret passes, whatever its keyName',
      docs: [
        ...operatorCa('datadog-dca', 'dca-token'),
        syncedSecret('datadog', 'datadog-dca', { 'dca-token': CANARY.token }),
        externalSecret('datadog', 'datadog-dca', {
          data: [{ secretKey: 'dca-token', key: 'datadog/cluster-agent-token' }],
        }),
        dda({ clusterAgentTokenSecret: { secretName: 'datadog-dca', keyName: 'dca-token' } }),
      ],
      expected: ['PASS existing-secret:dca-token datadog/datadog-dca'],
    },
    {
      name: 'a <name>-token Secret an ExternalSecret writes is not generated',
      docs: [
        ...operatorCa('datadog-token'),
        syncedSecret('datadog', 'datadog-token', { token: CANARY.token }),
        externalSecret('datadog', 'datadog-token'),
        dda({}),
      ],
      expected: ['PASS existing-secret:token datadog/datadog-token'],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(tokenNotChartGenerated.run(build(docs)))).toEqual(expected);
  });

  it('points at spec.global.clusterAgentTokenSecret with both fields and an ExternalSecret', () => {
    const [r] = tokenNotChartGenerated.run(
      build([...operatorCa('datadog-token'), operatorSecret(), dda({})]),
    );
    expect(r!.message).toContain('DatadogAgent datadog/datadog');
    expect(r!.message).toContain('status.clusterAgent.generatedToken');
    expect(r!.remediation).toContain(
      'In DatadogAgent datadog/datadog set spec.global.clusterAgentTokenSecret: {secretName: datadog-cluster-agent-token, keyName: token} (both fields)',
    );
    expect(r!.remediation).toContain('kind: ExternalSecret');
  });
});

describe('the DatadogAgent in the shared token model', () => {
  it("makes clusterAgentTokenSecret the Cluster Agent's key before any Cluster Agent pod runs, following keyName", () => {
    const s = build([
      namespace('datadog'),
      syncedSecret('datadog', 'datadog-dca', { 'dca-token': CANARY.token }),
      dda({ clusterAgentTokenSecret: { secretName: 'datadog-dca', keyName: 'dca-token' } }),
    ]);
    const ca = clusterAgentKeys(tokenKeys(s));
    expect(ca.map((k) => `${k.namespace}/${k.secret}/${k.key}`)).toEqual([
      'datadog/datadog-dca/dca-token',
    ]);
    expect(ca[0]!.users.map((u) => `${u.via} ${readerLabel(u)}`)).toEqual([
      'datadogagent DatadogAgent datadog/datadog',
    ]);
    expect(ca[0]!.digest).toBeDefined();
  });

  it('does not count the DatadogAgent again once its Cluster Agent pods read the key', () => {
    const s = build([
      ...operatorCa('datadog-dca', 'dca-token'),
      syncedSecret('datadog', 'datadog-dca', { 'dca-token': CANARY.token }),
      dda({ clusterAgentTokenSecret: { secretName: 'datadog-dca', keyName: 'dca-token' } }),
    ]);
    const [k] = clusterAgentKeys(tokenKeys(s));
    expect(k!.users.map((u) => u.via)).toEqual(['env']);
  });

  it('compares the DatadogAgent token Secret with Secrets Manager like every copy', () => {
    const stale = build([
      namespace('datadog'),
      syncedSecret('datadog', 'datadog-dca', { 'dca-token': CANARY.oldToken }),
      dda({ clusterAgentTokenSecret: { secretName: 'datadog-dca', keyName: 'dca-token' } }),
    ]);
    expect(summary(tokenConsumersMatch.run(stale))).toEqual([
      'FAIL mismatch:dca-token datadog/datadog-dca',
    ]);
    const fresh = build([
      namespace('datadog'),
      syncedSecret('datadog', 'datadog-dca', { 'dca-token': CANARY.token }),
      dda({ clusterAgentTokenSecret: { secretName: 'datadog-dca', keyName: 'dca-token' } }),
    ]);
    expect(summary(tokenConsumersMatch.run(fresh))).toEqual([
      'PASS matches-source:dca-token datadog/datadog-dca',
    ]);
  });

  it('leaves out a DatadogAgent whose Cluster Agent is disabled', () => {
    const s = build([
      namespace('datadog'),
      dda({}, { override: { clusterAgent: { disabled: true } } }),
    ]);
    expect(clusterAgentKeys(tokenKeys(s))).toEqual([]);
  });
});

describe('what setup detection and the key-consumer model get', () => {
  const s = build([
    namespace('datadog'),
    secret('datadog', 'datadog-keys', { 'api-key': CANARY.apiKey }),
    dda(
      {
        credentials: {
          apiSecret: { secretName: 'datadog-keys', keyName: 'api-key' },
          appKey: 'CANARY-literal-app-key',
        },
      },
      { name: 'b' },
    ),
    dda({}, { name: 'a', ns: 'monitoring' }),
  ]);

  it('lists every DatadogAgent, sorted', () => {
    expect(operatorSetups(s)).toEqual([
      { namespace: 'datadog', name: 'b' },
      { namespace: 'monitoring', name: 'a' },
    ]);
  });

  it('records the API and app key Secrets of spec.global.credentials with their digests', () => {
    const { keys } = copyModel(s);
    const read = [...keys['api-key'], ...keys['app-key']].flatMap((k) =>
      k.users
        .filter((u) => u.via === 'datadogagent')
        .map((u) => ({ k, u, text: `${k.value} ${k.namespace}/${k.secret}/${k.key} ${u.field}` })),
    );
    expect(read.map((r) => r.text)).toEqual([
      'api-key datadog/datadog-keys/api-key spec.global.credentials.apiSecret',
      'app-key datadog/b-secret/app_key spec.global.credentials.appKey',
    ]);
    expect(read[0]!.k.digest?.length).toBe(CANARY.apiKey.length);
    expect(readerLabel(read[0]!.u)).toBe('DatadogAgent datadog/b');
    expect(
      JSON.stringify(read.map((r) => ({ ...r.k, users: r.k.users.map(readerLabel) }))),
    ).not.toContain('CANARY-literal-app-key');
  });
});
