import { runChecks } from '../../../lambda/checks/runner.js';
import { tokenRefResolves } from '../../../lambda/checks/token/token-ref-resolves.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { failed } from '../../support/snapshot-builder.js';
import {
  CANARY,
  build,
  datadogNamespace,
  externalSecret,
  fargateApp,
  golangNamespace,
  healthyDocs,
  namespace,
  secret,
  summary,
  syncedSecret,
  tokenRef,
} from './support.js';

const POD = 'golang/golang-app-7d9f8b6c5-abcde';
const appKeyRef = (optional?: boolean): Raw => ({
  name: 'DD_APP_KEY',
  valueFrom: {
    secretKeyRef: { name: 'dd-app', key: 'app-key', ...(optional ? { optional } : {}) },
  },
});

describe('token-ref-resolves', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'refs to existing Secrets and keys pass, one result per DD_* ref',
      docs: healthyDocs(),
      expected: [
        'PASS resolves:cluster-agent.DD_API_KEY datadog/datadog-agent-cluster-agent-6b9f7c5d4-x2k8q',
        'PASS resolves:cluster-agent.DD_CLUSTER_AGENT_AUTH_TOKEN datadog/datadog-agent-cluster-agent-6b9f7c5d4-x2k8q',
        `PASS resolves:datadog-agent.DD_API_KEY ${POD}`,
        `PASS resolves:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
      ],
    },
    {
      name: "the field report's go-secrets ref (ESO writes golang-secrets) fails",
      docs: golangNamespace(CANARY.token, {}, { env: [tokenRef('go-secrets')] }),
      expected: [
        `PASS resolves:datadog-agent.DD_API_KEY ${POD}`,
        `FAIL missing-secret:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
      ],
    },
    {
      name: 'a Secret without the referenced key fails',
      docs: [
        namespace('golang'),
        ...fargateApp('golang'),
        syncedSecret('golang', 'golang-secrets', { datadog_api_key: CANARY.apiKey }),
      ],
      expected: [
        `PASS resolves:datadog-agent.DD_API_KEY ${POD}`,
        `FAIL missing-key:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
      ],
    },
    {
      name: 'an optional token ref to a missing Secret fails with its own message id',
      docs: golangNamespace(CANARY.token, {}, { env: [tokenRef('go-secrets', 'token', true)] }),
      expected: [
        `PASS resolves:datadog-agent.DD_API_KEY ${POD}`,
        `FAIL missing-optional-secret:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
      ],
    },
    {
      name: 'an optional ref to a missing key fails with its own message id',
      docs: golangNamespace(CANARY.token, {}, { env: [tokenRef('golang-secrets', 'tok', true)] }),
      expected: [
        `PASS resolves:datadog-agent.DD_API_KEY ${POD}`,
        `FAIL missing-optional-key:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
      ],
    },
    {
      name: 'an envFrom Secret of a Datadog container that exists passes',
      docs: [
        ...golangNamespace(CANARY.token, {}, { envFrom: [{ secretRef: { name: 'agent-env' } }] }),
        secret('golang', 'agent-env', { DD_SITE: 'datadoghq.eu' }),
      ],
      expected: [
        `PASS resolves:datadog-agent.DD_API_KEY ${POD}`,
        `PASS resolves:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
        `PASS envfrom-resolves:datadog-agent.envFrom.agent-env ${POD}`,
      ],
    },
    {
      name: 'a missing envFrom Secret of a Datadog container fails',
      docs: golangNamespace(CANARY.token, {}, { envFrom: [{ secretRef: { name: 'agent-env' } }] }),
      expected: [
        `PASS resolves:datadog-agent.DD_API_KEY ${POD}`,
        `PASS resolves:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
        `FAIL missing-envfrom-secret:datadog-agent.envFrom.agent-env ${POD}`,
      ],
    },
    {
      name: 'a missing optional envFrom Secret fails with its own message id',
      docs: golangNamespace(
        CANARY.token,
        {},
        { envFrom: [{ secretRef: { name: 'agent-env', optional: true } }] },
      ),
      expected: [
        `PASS resolves:datadog-agent.DD_API_KEY ${POD}`,
        `PASS resolves:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
        `FAIL missing-optional-envfrom-secret:datadog-agent.envFrom.agent-env ${POD}`,
      ],
    },
    {
      name: 'pods that finished are not evaluated',
      docs: fargateApp('golang', { env: [tokenRef('go-secrets')] }).map((d) =>
        d.kind === 'Pod' ? { ...d, status: { ...d.status, phase: 'Succeeded' } } : d,
      ),
      expected: [],
    },
    {
      name: 'a cluster without Datadog pods yields nothing',
      docs: [namespace('default')],
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(tokenRefResolves.run(build(docs)))).toEqual(expected);
  });

  it('names the missing Secret, the pod, its Deployment and the closest Secret with the key', () => {
    const r = tokenRefResolves
      .run(build(golangNamespace(CANARY.token, {}, { env: [tokenRef('go-secrets')] })))
      .find((x) => x.status === 'FAIL')!;
    expect(r.severity).toBeUndefined(); // critical: the pod cannot start
    expect(r.message).toContain(
      'Pod golang/golang-app-7d9f8b6c5-abcde (Deployment golang/golang-app) container datadog-agent env DD_CLUSTER_AGENT_AUTH_TOKEN references Secret "go-secrets" (key "token"), which does not exist in namespace golang.',
    );
    expect(r.message).toContain('CreateContainerConfigError');
    expect(r.message).toContain(
      'Closest Secret with key "token" in golang: "golang-secrets" (written by ExternalSecret golang/golang-secrets).',
    );
    expect(r.remediation).toContain(
      'Set DD_CLUSTER_AGENT_AUTH_TOKEN.valueFrom.secretKeyRef.name to "golang-secrets" in the pod template of Deployment golang/golang-app',
    );
    expect(r.remediation).toContain(
      'or set spec.target.name of ExternalSecret golang/golang-secrets to "go-secrets"',
    );
  });

  it('hints at an ExternalSecret target that is not created yet', () => {
    const r = tokenRefResolves
      .run(
        build([
          namespace('golang'),
          ...fargateApp('golang', { env: [tokenRef('go-secrets')] }),
          externalSecret('golang', 'golang-secrets'),
        ]),
      )
      .find((x) => x.messageId.startsWith('missing-secret:datadog-agent.DD_CLUSTER'))!;
    expect(r.message).toContain(
      '"golang-secrets" (target of ExternalSecret golang/golang-secrets; not created yet)',
    );
  });

  it('says when no Secret in the namespace has the key', () => {
    const r = tokenRefResolves
      .run(build([namespace('golang'), ...fargateApp('golang', { env: [tokenRef('go-secrets')] })]))
      .find((x) => x.messageId.startsWith('missing-secret:datadog-agent.DD_CLUSTER'))!;
    expect(r.message).toContain('No Secret in golang is known to have key "token".');
    expect(r.remediation).toContain('Create Secret golang/go-secrets with key "token"');
  });

  it('rates a missing optional ref by what the variable carries', () => {
    const token = tokenRefResolves
      .run(build(golangNamespace(CANARY.token, {}, { env: [tokenRef('nope', 'token', true)] })))
      .find((x) => x.status === 'FAIL')!;
    expect(token.severity).toBe('high');
    expect(token.message).toContain(
      'starts without DD_CLUSTER_AGENT_AUTH_TOKEN and cannot authenticate',
    );
    const appKey = tokenRefResolves
      .run(
        build(
          golangNamespace(CANARY.token, {}, { env: [tokenRef('golang-secrets'), appKeyRef(true)] }),
        ),
      )
      .find((x) => x.status === 'FAIL')!;
    expect(appKey.messageId).toBe('missing-optional-secret:datadog-agent.DD_APP_KEY');
    expect(appKey.severity).toBe('medium');
  });

  it('suggests the near-identical key when only the spelling differs', () => {
    const r = tokenRefResolves
      .run(
        build([
          namespace('golang'),
          ...fargateApp('golang', { env: [tokenRef('golang-secrets', 'Token')] }),
          syncedSecret('golang', 'golang-secrets', {
            token: CANARY.token,
            datadog_api_key: CANARY.apiKey,
          }),
        ]),
      )
      .find((x) => x.status === 'FAIL')!;
    expect(r.remediation).toContain(
      'set DD_CLUSTER_AGENT_AUTH_TOKEN.valueFrom.secretKeyRef.key to "token"',
    );
  });

  it('reports a Secret the auditor could not read as an error, never a pass', () => {
    const snapshot = build(healthyDocs());
    const lookup = snapshot.kube.secrets.find((l) => l.name === 'golang-secrets')!;
    lookup.result = {
      status: 'error',
      error: {
        source: 'kubernetes',
        kind: 'secrets',
        namespace: 'golang',
        name: 'golang-secrets',
        status: 403,
        code: 'Forbidden',
        message: 'secrets "golang-secrets" is forbidden',
      },
    };
    expect(summary(tokenRefResolves.run(snapshot)).filter((s) => s.includes('golang-app'))).toEqual(
      [
        `ERROR unreadable:datadog-agent.DD_API_KEY ${POD}`,
        `ERROR unreadable:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN ${POD}`,
      ],
    );
  });

  it('is not evaluated when pods could not be listed', () => {
    const mine = runChecks(build(healthyDocs(), { kube: { pods: failed('pods') } }), [
      tokenRefResolves,
    ]).filter((f) => f.checkId === 'token-ref-resolves');
    expect(mine.map((f) => `${f.status} ${f.messageId}`)).toEqual(['ERROR not-evaluated']);
  });

  it('keeps the same result when the Cluster Agent namespace is added (results are per pod)', () => {
    const alone = tokenRefResolves.run(build(golangNamespace()));
    const both = tokenRefResolves.run(build([...datadogNamespace(), ...golangNamespace()]));
    expect(summary(both)).toEqual(expect.arrayContaining(summary(alone)));
  });
});
