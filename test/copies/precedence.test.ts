/**
 * Which Secret key a container's variable comes from, as the kubelet decides it
 * (kubernetes/kubernetes `pkg/kubelet/kubelet_pods.go` `makeEnvironmentVariables`): envFrom first,
 * a later source overwriting an earlier one; then env entries in order, each overwriting what came
 * before; an optional secretKeyRef whose Secret or key is missing sets nothing. The copy model's
 * readers and token-ref-resolves must both follow it: before one model they disagreed.
 */
import { tokenKeys } from '../../lambda/snapshot/copies/model.js';
import { readerDetail } from '../../lambda/snapshot/copies/readers.js';
import { tokenConsumersMatch } from '../../lambda/checks/token/token-consumers-match.js';
import { tokenRefResolves } from '../../lambda/checks/token/token-ref-resolves.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import type { ClusterSnapshot } from '../../lambda/snapshot/snapshot.js';
import { failed } from '../support/snapshot-builder.js';
import {
  CANARY,
  build,
  datadogNamespace,
  fargateApp,
  namespace,
  summary,
  syncedSecret,
  tokenRef,
} from '../checks/token/support.js';

const POD = 'golang/golang-app-7d9f8b6c5-abcde';

/** `namespace/secret/key <- reader` for every reader of the token in the golang namespace. */
function tokenReaders(snapshot: ClusterSnapshot): string[] {
  return tokenKeys(snapshot)
    .filter((k) => k.namespace === 'golang')
    .flatMap((k) => k.users.map((u) => `${k.secret}/${k.key} <- ${readerDetail(u)} ${u.via}`));
}

/** The golang app with `env` for the token and `envFrom`, its Secrets as given. */
function app(env: Raw[], envFrom: Raw[], secrets: Record<string, Record<string, string>>): Raw[] {
  return [
    ...datadogNamespace(),
    namespace('golang'),
    ...fargateApp('golang', { env, envFrom }),
    syncedSecret('golang', 'golang-secrets', {
      datadog_api_key: CANARY.apiKey,
      token: CANARY.token,
    }),
    ...Object.entries(secrets).map(([name, data]) => syncedSecret('golang', name, data)),
  ];
}

const AGENT = `Pod ${POD} (datadog-agent)`;

describe("the kubelet's env/envFrom precedence, in the copy model and token-ref-resolves alike", () => {
  it('an optional token ref whose Secret is missing sets nothing: the envFrom Secret supplies the token', () => {
    const snapshot = build(
      app([tokenRef('go-secrets', 'token', true)], [{ secretRef: { name: 'agent-env' } }], {
        'agent-env': { DD_CLUSTER_AGENT_AUTH_TOKEN: CANARY.oldToken },
      }),
    );
    expect(tokenReaders(snapshot)).toEqual([
      `agent-env/DD_CLUSTER_AGENT_AUTH_TOKEN <- ${AGENT} envFrom`,
    ]);
    // So the agent's token is the old one in agent-env, and that is what gets compared.
    expect(summary(tokenConsumersMatch.run(snapshot))).toContain(
      'FAIL mismatch:DD_CLUSTER_AGENT_AUTH_TOKEN golang/agent-env',
    );
    // The dangling optional ref is still reported, with what the kubelet really does.
    const ref = tokenRefResolves
      .run(snapshot)
      .find(
        (r) => r.messageId === 'missing-optional-secret:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN',
      )!;
    expect(ref.message).not.toContain('starts without DD_CLUSTER_AGENT_AUTH_TOKEN');
    expect(ref.message).toContain(
      'the kubelet skips it and the container takes DD_CLUSTER_AGENT_AUTH_TOKEN from envFrom Secret golang/agent-env (key "DD_CLUSTER_AGENT_AUTH_TOKEN") instead',
    );
    expect(ref.severity).toBe('low');
  });

  it('an optional token ref whose key is missing falls back to an earlier env entry of the name', () => {
    const snapshot = build(
      app([tokenRef('golang-secrets'), tokenRef('golang-secrets', 'tok', true)], [], {}),
    );
    expect(tokenReaders(snapshot)).toEqual([`golang-secrets/token <- ${AGENT} env`]);
    const ref = tokenRefResolves
      .run(snapshot)
      .find(
        (r) => r.messageId === 'missing-optional-key:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN',
      )!;
    expect(ref.message).toContain(
      'takes DD_CLUSTER_AGENT_AUTH_TOKEN from Secret golang/golang-secrets key "token" (another env entry) instead',
    );
  });

  it('the last env entry of a name wins over an earlier one', () => {
    const snapshot = build(
      app([tokenRef('old-token'), tokenRef('golang-secrets')], [], {
        'old-token': { token: CANARY.oldToken },
      }),
    );
    expect(tokenReaders(snapshot)).toEqual([`golang-secrets/token <- ${AGENT} env`]);
    expect(summary(tokenConsumersMatch.run(snapshot))).not.toContain(
      'FAIL mismatch:token golang/old-token',
    );
  });

  it('an explicit env entry wins over envFrom', () => {
    const snapshot = build(
      app([tokenRef('golang-secrets')], [{ secretRef: { name: 'agent-env' } }], {
        'agent-env': { DD_CLUSTER_AGENT_AUTH_TOKEN: CANARY.oldToken },
      }),
    );
    expect(tokenReaders(snapshot)).toEqual([`golang-secrets/token <- ${AGENT} env`]);
  });

  it('a later envFrom source wins over an earlier one for the same key, prefixes included', () => {
    const snapshot = build(
      app(
        [],
        [
          { secretRef: { name: 'first' } },
          { prefix: 'DD_', secretRef: { name: 'second' } },
          { secretRef: { name: 'third' } },
        ],
        {
          first: { DD_CLUSTER_AGENT_AUTH_TOKEN: CANARY.oldToken },
          second: { CLUSTER_AGENT_AUTH_TOKEN: CANARY.token },
          third: { DD_SITE: 'datadoghq.eu' },
        },
      ),
    );
    expect(tokenReaders(snapshot)).toEqual([`second/CLUSTER_AGENT_AUTH_TOKEN <- ${AGENT} envFrom`]);
  });

  it('an optional ref to a Secret the auditor could not read stays the reader (unknown is not missing)', () => {
    const snapshot = build(app([tokenRef('go-secrets', 'token', true)], [], {}));
    const lookup = snapshot.kube.secrets.find((l) => l.name === 'go-secrets')!;
    lookup.result = failed<unknown>('secrets') as typeof lookup.result;
    expect(tokenReaders(snapshot)).toEqual([`go-secrets/token <- ${AGENT} env`]);
  });
});
