import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { FargateProfile } from '../../../lambda/snapshot/snapshot.js';
import { fargateProfileCoverage } from '../../../lambda/checks/fargate/fargate-profile-coverage.js';
import {
  agentContainer,
  appContainer,
  baseAws,
  clusterAgent,
  daemonSetAgentPod,
  node,
  outcomes,
  profile,
  runOn,
  sidecarPod,
} from '../../net/manifests.js';
import { ok } from '../../support/snapshot-builder.js';

const PROFILE_LABEL = 'eks.amazonaws.com/fargate-profile';
const running = (name: string, profileName = 'fp-apps', labels: Record<string, string> = {}) =>
  sidecarPod({
    name,
    nodeName: `fargate-ip-10-0-33-${name.length}`,
    podIP: '10.0.33.7',
    labels: { [PROFILE_LABEL]: profileName, ...labels },
  });
const golang = (labels: Record<string, string> = {}) => ({ namespace: 'golang', labels });

/** A Deployment with an agent sidecar and no pods yet. */
function sidecarDeployment(templateLabels: Record<string, string>): Raw {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'golang-app', namespace: 'golang' },
    spec: {
      selector: { matchLabels: { app: 'golang-app' } },
      template: {
        metadata: { labels: { app: 'golang-app', ...templateLabels } },
        spec: { serviceAccountName: 'golang-app', containers: [appContainer, agentContainer] },
      },
    },
  };
}

describe('fargate-profile-coverage', () => {
  it.each<{
    name: string;
    docs: Raw[];
    profiles: FargateProfile[];
    expected: string[];
    text?: string;
  }>([
    {
      name: 'an agent sidecar pod selected by an ACTIVE profile passes',
      docs: [running('app-1')],
      profiles: [profile('fp-apps', { selectors: [golang()] })],
      expected: ['PASS:matched'],
    },
    {
      name: 'a wildcard namespace selects the pod',
      docs: [running('app-1')],
      profiles: [profile('fp-apps', { selectors: [{ namespace: 'go*', labels: {} }] })],
      expected: ['PASS:matched'],
      text: 'namespace go*',
    },
    {
      name: 'a wildcard label value selects the pod',
      docs: [running('app-1')],
      profiles: [profile('fp-apps', { selectors: [golang({ app: 'golang-?pp' })] })],
      expected: ['PASS:matched'],
    },
    {
      name: 'a selector label the pod lacks leaves a running pod uncovered after its next restart',
      docs: [running('app-1')],
      profiles: [profile('fp-apps', { selectors: [golang({ 'compute-type': 'fargate' })] })],
      expected: ['FAIL:unmatched'],
      text: 'no longer selects namespace golang',
    },
    {
      name: 'a running pod whose profile was deleted and that no other profile selects fails',
      docs: [running('app-1', 'fp-gone')],
      profiles: [profile('fp-other', { selectors: [{ namespace: 'other', labels: {} }] })],
      expected: ['FAIL:unmatched'],
      text: 'its profile fp-gone no longer exists',
    },
    {
      name: 'a running pod whose profile was replaced by another ACTIVE one passes',
      docs: [running('app-1', 'fp-old')],
      profiles: [profile('fp-new', { selectors: [golang()] })],
      expected: ['PASS:matched'],
      text: 'fp-new',
    },
    {
      name: 'a profile that is not ACTIVE does not count',
      docs: [running('app-1')],
      profiles: [profile('fp-apps', { status: 'DELETING', selectors: [golang()] })],
      expected: ['FAIL:unmatched'],
      text: 'its profile fp-apps is DELETING',
    },
    {
      name: 'a Pending sidecar pod that no profile selects fails with the create-fargate-profile command',
      docs: [sidecarPod({ name: 'app-1', phase: 'Pending' })],
      profiles: [profile('fp-datadog', { selectors: [{ namespace: 'datadog', labels: {} }] })],
      expected: ['FAIL:pending-unmatched'],
      text: 'will never be scheduled',
    },
    {
      name: 'two ACTIVE profiles selecting one pod are reported as info',
      docs: [running('app-1')],
      profiles: [
        profile('fp-apps', { selectors: [golang()] }),
        profile('fp-wild', { selectors: [{ namespace: '*', labels: {} }] }),
      ],
      expected: ['PASS:matched', 'FAIL:overlap'],
    },
    {
      name: 'a template pinning a profile that does not select it fails',
      docs: [sidecarDeployment({ [PROFILE_LABEL]: 'fp-datadog' })],
      profiles: [
        profile('fp-apps', { selectors: [golang()] }),
        profile('fp-datadog', { selectors: [{ namespace: 'datadog', labels: {} }] }),
      ],
      expected: ['FAIL:pinned-profile-unmatched'],
    },
    {
      name: 'a Cluster Agent on Fargate is evaluated too',
      docs: [
        ...clusterAgent({ nodeName: 'fargate-ip-10-0-2-9', labels: { [PROFILE_LABEL]: 'fp-dd' } }),
      ],
      profiles: [profile('fp-dd', { selectors: [{ namespace: 'datadog', labels: {} }] })],
      expected: ['PASS:matched'],
      text: 'Datadog Cluster Agent',
    },
    {
      name: 'DaemonSet agents and a Cluster Agent on EC2 nodes are not Fargate pods',
      docs: [
        daemonSetAgentPod('datadog-agent-abcde', 'ip-10-0-1-5', '10.0.1.30'),
        ...clusterAgent({ nodeName: 'ip-10-0-1-5', podIP: '10.0.1.31' }),
        node('ip-10-0-1-5', { instanceId: 'i-0123456789abcdef0' }),
      ],
      profiles: [],
      expected: [],
    },
  ])('$name', ({ docs, profiles, expected, text }) => {
    const results = runOn(fargateProfileCoverage, docs, baseAws({ fargateProfiles: ok(profiles) }));
    expect(outcomes(results)).toEqual(expected);
    if (text) expect(results.map((r) => r.message).join('\n')).toContain(text);
  });

  it('reports overlapping profiles as an info FAIL that names both selectors', () => {
    const results = runOn(
      fargateProfileCoverage,
      [running('app-1')],
      baseAws({
        fargateProfiles: ok([
          profile('fp-apps', { selectors: [golang()] }),
          profile('fp-wild', { selectors: [{ namespace: 'go*', labels: {} }] }),
        ]),
      }),
    );
    const overlap = results.find((r) => r.messageId === 'overlap')!;
    expect(overlap).toMatchObject({ status: 'FAIL', severity: 'info' });
    expect(overlap.message).toContain('fp-apps: namespace golang; fp-wild: namespace go*');
  });

  it('suggests a profile for the namespace with the role and subnets of an existing one', () => {
    const [result] = runOn(
      fargateProfileCoverage,
      [sidecarPod({ name: 'app-1', phase: 'Pending' })],
      baseAws({
        fargateProfiles: ok([
          profile('fp-datadog', { selectors: [{ namespace: 'datadog', labels: {} }] }),
        ]),
      }),
    );
    expect(result!.remediation).toContain(
      `aws eks create-fargate-profile --region eu-west-1 --cluster-name test-cluster --fargate-profile-name datadog-golang --pod-execution-role-arn arn:aws:iam::123456789012:role/test-fargate-pod-execution --subnets subnet-0a0000000000000a1 subnet-0b0000000000000b2 --selectors '[{"namespace":"golang"}]'`,
    );
  });
});
