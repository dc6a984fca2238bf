import { runChecks } from '../../../lambda/checks/runner.js';
import { tokenNotPlaintext } from '../../../lambda/checks/token/token-not-plaintext.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { failed } from '../../support/snapshot-builder.js';
import {
  CANARY,
  build,
  clusterAgent,
  fargateApp,
  golangNamespace,
  healthyDocs,
  namespace,
  summary,
} from './support.js';

const literal = (name: string, value: string): Raw => ({ name, value });

/** A bare pod (no owner) with an agent container. */
function barePod(env: Raw[]): Raw {
  const [, pod] = fargateApp('golang', { env });
  return { ...pod, metadata: { ...pod.metadata, name: 'debug-agent', ownerReferences: [] } };
}

describe('token-not-plaintext', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'credentials read from Secrets pass, per workload and variable',
      docs: golangNamespace(),
      expected: [
        'PASS from-secret:datadog-agent.DD_API_KEY golang/golang-app',
        'PASS from-secret:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN golang/golang-app',
      ],
    },
    {
      name: 'a literal DD_CLUSTER_AGENT_AUTH_TOKEN in a Deployment fails',
      docs: golangNamespace(
        CANARY.token,
        {},
        { env: [literal('DD_CLUSTER_AGENT_AUTH_TOKEN', CANARY.token)] },
      ),
      expected: [
        'PASS from-secret:datadog-agent.DD_API_KEY golang/golang-app',
        'FAIL literal:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN golang/golang-app',
      ],
    },
    {
      name: 'a literal DD_API_KEY fails',
      docs: [
        namespace('golang'),
        ...fargateApp('golang', { env: [literal('DD_API_KEY', CANARY.apiKey)] }),
      ],
      expected: [
        'PASS from-secret:datadog-agent.DD_API_KEY golang/golang-app',
        'FAIL literal:datadog-agent.DD_API_KEY golang/golang-app',
      ],
    },
    {
      name: 'a literal in the Cluster Agent fails on its Deployment',
      docs: clusterAgent('datadog', [literal('DD_CLUSTER_AGENT_AUTH_TOKEN', CANARY.token)]),
      expected: [
        'PASS from-secret:cluster-agent.DD_API_KEY datadog/datadog-agent-cluster-agent',
        'FAIL literal:cluster-agent.DD_CLUSTER_AGENT_AUTH_TOKEN datadog/datadog-agent-cluster-agent',
      ],
    },
    {
      name: 'a literal in a pod without a workload fails on the pod',
      docs: [barePod([literal('DD_CLUSTER_AGENT_AUTH_TOKEN', CANARY.token)])],
      expected: [
        'PASS from-secret:datadog-agent.DD_API_KEY golang/debug-agent',
        'FAIL literal:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN golang/debug-agent',
      ],
    },
    {
      name: 'an empty literal is still a literal',
      docs: golangNamespace(
        CANARY.token,
        {},
        { env: [literal('DD_CLUSTER_AGENT_AUTH_TOKEN', '')] },
      ),
      expected: [
        'PASS from-secret:datadog-agent.DD_API_KEY golang/golang-app',
        'FAIL literal:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN golang/golang-app',
      ],
    },
    {
      name: 'a cluster without Datadog credentials in pod specs yields nothing',
      docs: [namespace('default')],
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(tokenNotPlaintext.run(build(docs)))).toEqual(expected);
  });

  it('says whether the literal is the live token, without printing it', () => {
    const live = tokenNotPlaintext
      .run(
        build(
          golangNamespace(
            CANARY.token,
            {},
            { env: [literal('DD_CLUSTER_AGENT_AUTH_TOKEN', CANARY.token)] },
          ),
        ),
      )
      .find((r) => r.status === 'FAIL')!;
    expect(live.message).toContain(
      'It equals the token in Secrets Manager, so the live token is exposed.',
    );
    expect(live.remediation).toContain('valueFrom:\n    secretKeyRef:');
    const old = tokenNotPlaintext
      .run(
        build(
          golangNamespace(
            CANARY.token,
            {},
            { env: [literal('DD_CLUSTER_AGENT_AUTH_TOKEN', CANARY.oldToken)] },
          ),
        ),
      )
      .find((r) => r.status === 'FAIL')!;
    expect(old.message).toContain('differs from the token in Secrets Manager');
    for (const r of [live, old]) {
      expect(`${r.message}${r.remediation}`).not.toContain('CANARY');
    }
  });

  it('is high severity', () => {
    expect(tokenNotPlaintext.severity).toBe('high');
  });

  it('is not evaluated when pods could not be listed', () => {
    const mine = runChecks(build(healthyDocs(), { kube: { pods: failed('pods') } }), [
      tokenNotPlaintext,
    ]);
    expect(mine.filter((f) => f.checkId === 'token-not-plaintext').map((f) => f.messageId)).toEqual(
      ['not-evaluated'],
    );
  });
});
