/**
 * The copy model and the checks that read pods use the one owner lookup (lambda/workloads): a
 * pod belongs to the workload its controller ownerReference names, not to whichever collected
 * workload any of its owner references happens to name.
 */
import { runChecks } from '../../lambda/checks/runner.js';
import { tokenNotPlaintext } from '../../lambda/checks/token/token-not-plaintext.js';
import { tokenRefResolves } from '../../lambda/checks/token/token-ref-resolves.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { copyModel } from '../../lambda/snapshot/copies/model.js';
import { readerDetail, restartCommands } from '../../lambda/snapshot/copies/readers.js';
import { itemsOf } from '../../lambda/snapshot/snapshot.js';
import { ownerWorkload, workloadIndex } from '../../lambda/snapshot/workloads/owners.js';
import { CANARY, build, fargateApp, namespace, secret, tokenRef } from '../checks/token/support.js';

/**
 * `golang-app` (Deployment, pod through ReplicaSet golang-app-7d9f8b6c5) and `cache` (Deployment,
 * no pods); the golang-app pod's owner references are `owners` (the controller among them).
 */
function withOwners(owners: Raw[], env?: Raw[]): Raw[] {
  const [app, pod] = fargateApp('golang', env ? { env } : {});
  const [cache] = fargateApp('golang', { name: 'cache', noPods: true });
  const p = pod as { metadata: Raw };
  return [
    namespace('golang'),
    app!,
    cache!,
    { ...pod, metadata: { ...p.metadata, ownerReferences: owners } },
    secret('golang', 'golang-secrets', { token: CANARY.token, datadog_api_key: CANARY.apiKey }),
  ];
}

/** First a non-controller reference to Deployment cache, then the controlling ReplicaSet. */
const CACHE_FIRST = [
  { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cache' },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'golang-app-7d9f8b6c5', controller: true },
];

describe('one owner lookup for the copy model and the checks', () => {
  it('a pod whose first owner reference is not its controller reads as its controller workload', () => {
    const s = build(withOwners(CACHE_FIRST));
    const pod = itemsOf(s.kube.pods).find((p) => p.meta.name.startsWith('golang-app-'))!;
    expect(ownerWorkload(pod, workloadIndex(s))?.meta.name).toBe('golang-app');

    const token = copyModel(s).keys.token.find((k) => k.secret === 'golang-secrets')!;
    const fromPod = token.users.filter((u) => u.pod);
    expect(fromPod.map((u) => u.workload?.meta.name)).toEqual(['golang-app']);
    // The pod covers golang-app's template; cache has no pods, so its template reads the key.
    expect(token.users.filter((u) => !u.pod).map(readerDetail)).toEqual([
      'Deployment golang/cache (datadog-agent)',
    ]);
    expect(restartCommands(fromPod)).toEqual([
      'kubectl -n golang rollout restart deployment/golang-app',
    ]);
  });

  it('token-ref-resolves names the controller workload as the place to fix the pod spec', () => {
    const s = build(withOwners(CACHE_FIRST, [tokenRef('go-secrets')]));
    const fail = runChecks(s, [tokenRefResolves]).find(
      (r) => r.status === 'FAIL' && r.messageId.endsWith('DD_CLUSTER_AGENT_AUTH_TOKEN'),
    )!;
    expect(fail.message).toContain('(Deployment golang/golang-app)');
    expect(fail.message).not.toContain('golang/cache');
    expect(fail.remediation).toContain('the pod template of Deployment golang/golang-app');
  });

  it('token-not-plaintext reports a literal in a pod whose controller is not a collected workload', () => {
    // An Argo Rollout controls the pod; the collected Deployment is only a non-controller owner,
    // so its template is not where the pod's literal lives.
    const owners = [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cache' },
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'shop', controller: true },
    ];
    const s = build(
      withOwners(owners, [{ name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: CANARY.token }]),
    );
    // The runner files pod findings under the pod's workload (the Rollout).
    const failures = runChecks(s, [tokenNotPlaintext])
      .filter((r) => r.status === 'FAIL')
      .map((r) => `${r.messageId} ${r.resource.kind}/${r.resource.name}`);
    expect(failures).toEqual([
      'literal:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN Deployment/golang-app',
      'literal:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN Rollout/shop',
    ]);
  });
});
