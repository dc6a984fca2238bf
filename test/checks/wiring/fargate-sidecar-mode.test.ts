import { fargateSidecarMode } from '../../../lambda/checks/wiring/fargate-sidecar-mode.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { ok, snapshotFromManifests } from '../../support/snapshot-builder.js';
import { fargateApp, sidecarEnv, summary, type EnvEntry } from '../../rbac/world.js';

const nodename = (e: Partial<EnvEntry>): EnvEntry => ({
  name: 'DD_KUBERNETES_KUBELET_NODENAME',
  ...e,
});

describe('fargate-sidecar-mode', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'DD_EKS_FARGATE=true and the node name from spec.nodeName pass',
      docs: fargateApp(),
      expected: ['PASS ok:datadog-agent'],
    },
    {
      name: 'a missing DD_EKS_FARGATE fails',
      docs: fargateApp({ env: sidecarEnv({ DD_EKS_FARGATE: null }) }),
      expected: ['FAIL eks-fargate-missing:datadog-agent'],
    },
    {
      name: 'DD_EKS_FARGATE="false" fails',
      docs: fargateApp({
        env: sidecarEnv({ DD_EKS_FARGATE: { name: 'DD_EKS_FARGATE', value: 'false' } }),
      }),
      expected: ['FAIL eks-fargate-not-true:datadog-agent'],
    },
    {
      name: 'DD_EKS_FARGATE="1" is true for the agent (strconv.ParseBool)',
      docs: fargateApp({
        env: sidecarEnv({ DD_EKS_FARGATE: { name: 'DD_EKS_FARGATE', value: '1' } }),
      }),
      expected: ['PASS ok:datadog-agent'],
    },
    {
      name: 'the last definition of a repeated variable wins',
      docs: fargateApp({ env: [...sidecarEnv(), { name: 'DD_EKS_FARGATE', value: 'false' }] }),
      expected: ['FAIL eks-fargate-not-true:datadog-agent'],
    },
    {
      name: 'a missing node name fails',
      docs: fargateApp({ env: sidecarEnv({ DD_KUBERNETES_KUBELET_NODENAME: null }) }),
      expected: ['FAIL nodename-missing:datadog-agent'],
    },
    {
      name: 'a literal node name fails even when it matches the current node',
      docs: fargateApp({
        env: sidecarEnv({
          DD_KUBERNETES_KUBELET_NODENAME: nodename({
            value: 'fargate-ip-10-0-1-23.ap-northeast-1.compute.internal',
          }),
        }),
      }),
      expected: ['FAIL nodename-literal:datadog-agent'],
    },
    {
      name: 'a fieldRef to another field fails',
      docs: fargateApp({
        env: sidecarEnv({
          DD_KUBERNETES_KUBELET_NODENAME: nodename({
            valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } },
          }),
        }),
      }),
      expected: ['FAIL nodename-wrong-fieldpath:datadog-agent'],
    },
    {
      name: 'both missing yields two failures',
      docs: fargateApp({ env: [] }),
      expected: ['FAIL eks-fargate-missing:datadog-agent', 'FAIL nodename-missing:datadog-agent'],
    },
    {
      name: 'DD_EKS_FARGATE possibly set by an envFrom ConfigMap is reported as unverified',
      docs: fargateApp({ env: sidecarEnv({ DD_EKS_FARGATE: null }) }).map((d) =>
        d.kind === 'Pod'
          ? {
              ...d,
              spec: {
                ...d.spec,
                containers: d.spec.containers.map((c: Raw) =>
                  c.name === 'datadog-agent'
                    ? { ...c, envFrom: [{ configMapRef: { name: 'dd-env' } }] }
                    : c,
                ),
              },
            }
          : d,
      ),
      expected: ['FAIL eks-fargate-unverified:datadog-agent'],
    },
    {
      name: 'an agent not on Fargate is not evaluated',
      docs: fargateApp({ env: [] }).map((d) =>
        d.kind === 'Pod'
          ? {
              ...d,
              metadata: { ...d.metadata, labels: {} },
              spec: { ...d.spec, nodeName: 'ip-10-0-0-1.ec2.internal' },
            }
          : d,
      ),
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(fargateSidecarMode.run(snapshotFromManifests(docs)))).toEqual(expected);
  });

  it('reports a workload once, under the Deployment, with a ready-to-paste env snippet', () => {
    const results = fargateSidecarMode.run(
      snapshotFromManifests(
        fargateApp({
          deployment: true,
          env: sidecarEnv({
            DD_KUBERNETES_KUBELET_NODENAME: nodename({ value: 'fargate-ip-10-0-9-9.ec2.internal' }),
          }),
        }),
      ),
    );
    expect(results).toHaveLength(1);
    const [fail] = results;
    expect(fail!.resource).toEqual({ kind: 'Deployment', namespace: 'golang', name: 'app' });
    expect(fail!.severity).toBeUndefined();
    expect(fargateSidecarMode.severity).toBe('critical');
    expect(fail!.message).toContain('literal "fargate-ip-10-0-9-9.ec2.internal"');
    expect(fail!.message).toContain('this pod runs on fargate-ip-10-0-1-23');
    expect(fail!.remediation).toContain('container datadog-agent of Deployment golang/app');
    expect(fail!.remediation).toContain('fieldPath: spec.nodeName');
  });

  it('points an admission-injected sidecar at the injection profile, not the Deployment template', () => {
    const docs = fargateApp({ deployment: true, env: [] }).map((d) =>
      d.kind === 'Deployment'
        ? {
            ...d,
            spec: {
              ...d.spec,
              template: {
                ...d.spec.template,
                spec: {
                  ...d.spec.template.spec,
                  containers: [{ name: 'app', image: 'golang-app:1.0' }],
                },
              },
            },
          }
        : d,
    );
    const [fail] = fargateSidecarMode.run(snapshotFromManifests(docs));
    expect(fail!.remediation).toContain('agentSidecarInjection');
  });

  it.each([
    ['golang', {}, 1],
    ['gol*', { app: 'app' }, 1],
    ['golang', { app: 'other' }, 0],
    ['java', {}, 0],
  ])(
    'evaluates a Deployment without pods when Fargate profile selector %s %j selects its template',
    (namespace, labels, expected) => {
      const docs = fargateApp({ deployment: true, env: [] }).filter((d) => d.kind !== 'Pod');
      const snapshot = snapshotFromManifests(docs, {
        aws: {
          fargateProfiles: ok([
            {
              name: 'fp',
              status: 'ACTIVE',
              subnets: [],
              selectors: [{ namespace, labels }],
              healthIssues: [],
            },
          ]),
        },
      });
      expect(fargateSidecarMode.run(snapshot).filter((r) => r.status === 'FAIL')).toHaveLength(
        expected * 2,
      );
    },
  );
});
