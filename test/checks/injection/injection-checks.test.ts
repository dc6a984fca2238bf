/**
 * The injection checks on variations of the injection-healthy fixture: each row changes what the
 * chart, the Cluster Agent or a user would change, and names the results it must give.
 */
import { join } from 'node:path';
import type { Check } from '../../../lambda/checks/check.js';
import { injectionConfigValid } from '../../../lambda/checks/injection/injection-config-valid.js';
import { injectionPodsInjected } from '../../../lambda/checks/injection/injection-pods-injected.js';
import { injectionSecretReady } from '../../../lambda/checks/injection/injection-secret-ready.js';
import { injectionSidecarUrl } from '../../../lambda/checks/injection/injection-sidecar-url.js';
import { injectionStatusAnnotations } from '../../../lambda/checks/injection/injection-status-annotations.js';
import { injectionWebhookRegistered } from '../../../lambda/checks/injection/injection-webhook-registered.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import {
  FIXTURES_DIR,
  loadManifests,
  snapshotFromManifests,
} from '../../support/snapshot-builder.js';

const base = (): Raw[] => loadManifests(join(FIXTURES_DIR, 'injection-healthy'));
const APP_POD = 'golang-app-7d9f8b6c5-kx4wz';

type Edit = (docs: Raw[]) => Raw[];

/** Sets (or removes, with null) env vars on the Cluster Agent container of the Deployment and its pod. */
const caEnv =
  (vars: Record<string, string | null>): Edit =>
  (docs) =>
    docs.map((d) => {
      if (d.metadata?.namespace !== 'datadog' || !['Deployment', 'Pod'].includes(d.kind)) return d;
      const copy = structuredClone(d);
      const spec = d.kind === 'Pod' ? copy.spec : copy.spec.template.spec;
      for (const c of spec.containers) {
        if (c.name !== 'cluster-agent') continue;
        for (const [name, value] of Object.entries(vars)) {
          c.env = c.env.filter((e: Raw) => e.name !== name);
          if (value !== null) c.env.push({ name, value });
        }
      }
      return copy;
    });

const appPod =
  (change: (pod: Raw) => void): Edit =>
  (docs) =>
    docs.map((d) => {
      if (d.kind !== 'Pod' || d.metadata.name !== APP_POD) return d;
      const copy = structuredClone(d);
      change(copy);
      return copy;
    });

const uninjected = appPod((p) => {
  p.spec.containers = p.spec.containers.filter((c: Raw) => c.name !== 'datadog-agent-injected');
});
const without =
  (kind: string, name: string): Edit =>
  (docs) =>
    docs.filter((d) => !(d.kind === kind && d.metadata?.name === name));
const mwc =
  (change: (c: Raw) => void): Edit =>
  (docs) =>
    docs.map((d) => {
      if (d.kind !== 'MutatingWebhookConfiguration') return d;
      const copy = structuredClone(d);
      change(copy);
      return copy;
    });
const secretData =
  (change: (data: Record<string, string>) => void): Edit =>
  (docs) =>
    docs.map((d) => {
      if (d.kind !== 'Secret' || d.metadata.name !== 'datadog-secret') return d;
      const copy = structuredClone(d);
      change(copy.stringData);
      return copy;
    });

/** A sidecar profile that points DD_CLUSTER_AGENT_AUTH_TOKEN at another Secret of the pod's namespace. */
const profileTokenFrom = (secret: string, key: string): Edit =>
  caEnv({
    DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES: JSON.stringify([
      {
        env: [
          {
            name: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
            valueFrom: { secretKeyRef: { name: secret, key } },
          },
        ],
      },
    ]),
  });
const extraSecret =
  (namespace: string, name: string, stringData: Record<string, string>): Edit =>
  (docs) => [
    ...docs,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, uid: `uid-${namespace}-${name}` },
      type: 'Opaque',
      stringData,
    },
  ];

function results(check: Check, ...edits: Edit[]): string[] {
  const docs = edits.reduce((acc, e) => e(acc), base());
  return check.run(snapshotFromManifests(docs)).map((r) => `${r.status} ${r.messageId}`);
}

describe('injection checks on variations of injection-healthy', () => {
  it.each<{ name: string; check: Check; edits: Edit[]; expected: string[] }>([
    // injection-config-valid
    {
      name: 'config: the chart values as rendered pass',
      check: injectionConfigValid,
      edits: [],
      expected: ['PASS on'],
    },
    {
      name: 'config: invalid selectors JSON turns the webhook off',
      check: injectionConfigValid,
      edits: [caEnv({ DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS: '[{"objectSelector":' })],
      expected: ['FAIL selectors-not-json'],
    },
    {
      name: 'config: a provider other than fargate turns the webhook off',
      check: injectionConfigValid,
      edits: [caEnv({ DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROVIDER: 'gke-autopilot' })],
      expected: ['FAIL provider-unsupported'],
    },
    {
      name: 'config: sidecar injection on while the admission controller is off',
      check: injectionConfigValid,
      edits: [caEnv({ DD_ADMISSION_CONTROLLER_ENABLED: 'false' })],
      expected: ['FAIL admission-off'],
    },
    {
      name: 'config: injection switched off on purpose passes as info',
      check: injectionConfigValid,
      edits: [caEnv({ DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_ENABLED: 'false' })],
      expected: ['PASS disabled'],
    },
    // injection-webhook-registered
    {
      name: 'webhook: registered, Service ready, failurePolicy Ignore said as info',
      check: injectionWebhookRegistered,
      edits: [],
      expected: ['PASS ok-failure-policy-ignore'],
    },
    {
      name: 'webhook: failurePolicy Fail passes plainly',
      check: injectionWebhookRegistered,
      edits: [mwc((c) => c.webhooks.forEach((w: Raw) => (w.failurePolicy = 'Fail')))],
      expected: ['PASS ok'],
    },
    {
      name: 'webhook: the configuration the Cluster Agent names is missing',
      check: injectionWebhookRegistered,
      edits: [without('MutatingWebhookConfiguration', 'datadog-webhook')],
      expected: ['FAIL config-missing'],
    },
    {
      name: 'webhook: the admission Service has no ready endpoint',
      check: injectionWebhookRegistered,
      edits: [without('EndpointSlice', 'datadog-agent-cluster-agent-admission-controller-qz5hj')],
      expected: ['FAIL service-not-ready'],
    },
    // injection-pods-injected
    {
      name: 'pods: the injected pod passes for its Deployment',
      check: injectionPodsInjected,
      edits: [],
      expected: ['PASS injected'],
    },
    {
      name: 'pods: a labelled pod without the sidecar fails once for its Deployment',
      check: injectionPodsInjected,
      edits: [uninjected],
      expected: ['FAIL sidecar-missing'],
    },
    {
      name: 'pods: a pod the Cluster Agent annotated as skipped is left to injection-status-annotations',
      check: injectionPodsInjected,
      edits: [
        uninjected,
        appPod((p) => {
          p.metadata.annotations['internal.agent.datadoghq.com/sidecar-injection-status'] =
            'skipped';
        }),
      ],
      expected: [],
    },
    // injection-status-annotations
    {
      name: 'annotations: token_not_found fails with its reason',
      check: injectionStatusAnnotations,
      edits: [
        uninjected,
        appPod((p) => {
          p.metadata.annotations['internal.agent.datadoghq.com/sidecar-injection-status'] =
            'skipped';
          p.metadata.annotations['internal.agent.datadoghq.com/sidecar-injection-error'] =
            'token_not_found';
        }),
      ],
      expected: ['FAIL skipped:token_not_found'],
    },
    {
      name: 'annotations: an unknown reason still fails',
      check: injectionStatusAnnotations,
      edits: [
        uninjected,
        appPod((p) => {
          p.metadata.annotations['internal.agent.datadoghq.com/sidecar-injection-status'] =
            'skipped';
          p.metadata.annotations['internal.agent.datadoghq.com/sidecar-injection-error'] =
            'something_new';
        }),
      ],
      expected: ['FAIL skipped:other'],
    },
    // injection-secret-ready
    {
      name: 'secret: datadog-secret with both keys from Secrets Manager passes',
      check: injectionSecretReady,
      edits: [],
      expected: ['PASS ok'],
    },
    {
      name: 'secret: a datadog-secret without the token key fails',
      check: injectionSecretReady,
      edits: [secretData((d) => delete d['token'])],
      expected: ['FAIL missing-keys'],
    },
    {
      name: 'secret: a hand-made datadog-secret does not follow rotation',
      check: injectionSecretReady,
      edits: [without('ExternalSecret', 'datadog-secret')],
      expected: ['FAIL not-managed'],
    },
    {
      name: 'secret: without Cluster Agent communication only api-key is needed',
      check: injectionSecretReady,
      edits: [
        caEnv({ DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_CLUSTER_AGENT_ENABLED: 'false' }),
        secretData((d) => delete d['token']),
      ],
      expected: ['PASS ok'],
    },
    {
      name: 'secret: a literal token in the sidecar profile fails (value never shown)',
      check: injectionSecretReady,
      edits: [
        caEnv({
          DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES: JSON.stringify([
            {
              env: [{ name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: 'CANARY-literal-profile-token' }],
            },
          ]),
        }),
      ],
      expected: ['FAIL profile-literal:DD_CLUSTER_AGENT_AUTH_TOKEN', 'PASS ok'],
    },
    {
      name: 'secret: a token Secret named only by a profile override is read and missing',
      check: injectionSecretReady,
      edits: [profileTokenFrom('dd-agent-token', 'cluster-agent-token')],
      expected: ['PASS ok', 'FAIL missing'],
    },
    {
      name: 'secret: a hand-made token Secret named by a profile override is read and compared like a copy',
      check: injectionSecretReady,
      edits: [
        profileTokenFrom('dd-agent-token', 'cluster-agent-token'),
        extraSecret('golang', 'dd-agent-token', { 'cluster-agent-token': 'CANARY-profile-copy' }),
      ],
      expected: ['PASS ok', 'FAIL not-managed'],
    },
    {
      name: 'secret: a profile override with the wrong key fails missing-keys on the named Secret',
      check: injectionSecretReady,
      edits: [
        profileTokenFrom('dd-agent-token', 'tokn'),
        extraSecret('golang', 'dd-agent-token', { 'cluster-agent-token': 'CANARY-profile-copy' }),
      ],
      expected: ['PASS ok', 'FAIL missing-keys'],
    },
    // injection-sidecar-url
    {
      name: 'url: the URL built from the Cluster Agent env reaches its Service',
      check: injectionSidecarUrl,
      edits: [],
      expected: ['PASS ok'],
    },
    {
      name: 'url: a wrong DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME names no Service',
      check: injectionSidecarUrl,
      edits: [caEnv({ DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME: 'datadog-cluster-agent' })],
      expected: ['FAIL url-unreachable'],
    },
    {
      name: 'url: a profile override of DD_CLUSTER_AGENT_URL is followed',
      check: injectionSidecarUrl,
      edits: [
        caEnv({
          DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES: JSON.stringify([
            {
              env: [
                {
                  name: 'DD_CLUSTER_AGENT_URL',
                  value: 'https://datadog-agent-cluster-agent.datadog.svc.cluster.local:6006',
                },
              ],
            },
          ]),
        }),
      ],
      expected: ['FAIL url-unreachable'],
    },
  ])('$name', ({ check, edits, expected }) => {
    expect(results(check, ...edits)).toEqual(expected);
  });

  it('never puts a literal profile token into a result', () => {
    const docs = caEnv({
      DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES: JSON.stringify([
        { env: [{ name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: 'CANARY-literal-profile-token' }] },
      ]),
    })(base());
    const snapshot = snapshotFromManifests(docs);
    for (const check of [
      injectionConfigValid,
      injectionSecretReady,
      injectionSidecarUrl,
      injectionWebhookRegistered,
      injectionPodsInjected,
      injectionStatusAnnotations,
    ]) {
      expect(JSON.stringify(check.run(snapshot))).not.toContain('CANARY-literal-profile-token');
    }
  });
});
