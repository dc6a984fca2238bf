/**
 * collectKube end to end: the real client against the test API server, inline fixtures, injected
 * faults. Secrets carry canary values that must never appear in what the collector returns.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  createKubePort,
  type ClosableKubePort,
  type RequestTimer,
} from '../../lambda/collect/kube/client.js';
import { KIND_READERS, collectKube, kubeRequestCounts } from '../../lambda/collect/kube/collect.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { KUBE_KINDS } from '../../lambda/collect/kube/kinds.js';
import type { KubeKey, KubeSnapshot } from '../../lambda/snapshot/snapshot.js';
import {
  startTestApiServer,
  type Fault,
  type TestApiServer,
} from '../../lambda/run/demo/kube-api-server.js';
import {
  DEFAULT_SETTINGS,
  FIXTURES_DIR,
  loadManifests,
  snapshotFromManifests,
} from '../support/snapshot-builder.js';
import { FAST_RETRY, OPTIONS, timeoutOn, tokenAccess, yamlDocs } from './support.js';

const TOKEN = 'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c';
const API_KEY = 'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b';
const APP_PASSWORD = 'CANARY-app-db-password-5c4b3a291807';
const CANARIES = [TOKEN, API_KEY, APP_PASSWORD];

/** Every encoding a leaked value could hide in. */
function encodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    value,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    encodeURIComponent(value),
  ];
}

const CLUSTER = `
apiVersion: v1
kind: Namespace
metadata: { name: datadog }
---
apiVersion: v1
kind: Namespace
metadata: { name: golang }
---
apiVersion: v1
kind: Node
metadata:
  name: fargate-ip-10-0-1-23.eu-west-1.compute.internal
  labels: { eks.amazonaws.com/compute-type: fargate }
status: { conditions: [{ type: Ready, status: "True" }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: datadog-cluster-agent, namespace: datadog }
spec:
  replicas: 1
  selector: { matchLabels: { app: datadog-cluster-agent } }
  template:
    metadata: { labels: { app: datadog-cluster-agent } }
    spec:
      serviceAccountName: datadog-cluster-agent
      containers:
        - name: cluster-agent
          image: gcr.io/datadoghq/cluster-agent:7.60.0
          ports: [{ containerPort: 5005, name: agentport }]
          env:
            - name: DD_CLUSTER_AGENT_AUTH_TOKEN
              valueFrom: { secretKeyRef: { name: datadog-secrets, key: token } }
            - name: DD_API_KEY
              valueFrom: { secretKeyRef: { name: datadog-secrets, key: api-key } }
---
apiVersion: v1
kind: Pod
metadata:
  name: datadog-cluster-agent-5f7c9d-abcde
  namespace: datadog
  labels: { app: datadog-cluster-agent }
spec:
  serviceAccountName: datadog-cluster-agent
  containers:
    - name: cluster-agent
      image: gcr.io/datadoghq/cluster-agent:7.60.0
      env:
        - name: DD_CLUSTER_AGENT_AUTH_TOKEN
          valueFrom: { secretKeyRef: { name: datadog-secrets, key: token } }
status: { phase: Running }
---
apiVersion: v1
kind: Pod
metadata:
  name: app-7d9f8b6c5-x2k4p
  namespace: golang
  labels: { app: golang, eks.amazonaws.com/fargate-profile: golang }
spec:
  nodeName: fargate-ip-10-0-1-23.eu-west-1.compute.internal
  containers:
    - name: app
      image: golang-app:1.0
      env:
        - name: DB_PASSWORD
          valueFrom: { secretKeyRef: { name: app-db, key: password } }
    - name: datadog-agent
      image: public.ecr.aws/datadog/agent:7
      env:
        - name: DD_CLUSTER_AGENT_URL
          value: https://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005
        - name: DD_CLUSTER_AGENT_AUTH_TOKEN
          valueFrom: { secretKeyRef: { name: go-secrets, key: token } }
status: { phase: Running }
---
apiVersion: v1
kind: Service
metadata: { name: datadog-agent-cluster-agent, namespace: datadog }
spec:
  selector: { app: datadog-cluster-agent }
  ports: [{ name: agentport, port: 5005, targetPort: 5005, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: datadog-agent-cluster-agent-x7k2p
  namespace: datadog
  labels: { kubernetes.io/service-name: datadog-agent-cluster-agent }
addressType: IPv4
endpoints: [{ addresses: [10.0.1.5], conditions: { ready: true } }]
ports: [{ name: agentport, port: 5005, protocol: TCP }]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: datadog-cluster-agent, namespace: datadog }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: datadog-cluster-agent }
rules:
  - apiGroups: [""]
    resources: [pods, services, nodes]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: datadog-cluster-agent }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: datadog-cluster-agent }
subjects: [{ kind: ServiceAccount, name: datadog-cluster-agent, namespace: datadog }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: datadog-cluster-agent, namespace: datadog }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: datadog-cluster-agent, namespace: datadog }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: datadog-cluster-agent }
subjects: [{ kind: ServiceAccount, name: datadog-cluster-agent, namespace: datadog }]
---
apiVersion: v1
kind: Secret
metadata: { name: datadog-secrets, namespace: datadog }
stringData: { token: ${TOKEN}, api-key: ${API_KEY} }
---
apiVersion: v1
kind: Secret
metadata: { name: golang-secrets, namespace: golang }
stringData: { token: ${TOKEN} }
---
apiVersion: v1
kind: Secret
metadata: { name: app-db, namespace: golang }
stringData: { password: ${APP_PASSWORD} }
`;

const ESO = (version: string) => `
apiVersion: external-secrets.io/${version}
kind: ExternalSecret
metadata: { name: golang-secrets, namespace: golang }
spec:
  refreshInterval: 1h
  secretStoreRef: { name: aws-secrets-manager, kind: ClusterSecretStore }
  target: { name: golang-secrets }
  data:
    - secretKey: token
      remoteRef: { key: datadog/cluster-agent-token }
---
apiVersion: external-secrets.io/${version}
kind: ClusterSecretStore
metadata: { name: aws-secrets-manager }
spec: { provider: { aws: { service: SecretsManager, region: eu-west-1 } } }
---
apiVersion: external-secrets.io/${version}
kind: SecretStore
metadata: { name: local, namespace: golang }
spec: { provider: { aws: { service: ParameterStore, region: eu-west-1 } } }
`;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('collectKube through the real client', () => {
  const servers: TestApiServer[] = [];
  const ports: ClosableKubePort[] = [];
  afterAll(async () => {
    await Promise.all(ports.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.close()));
  });

  async function run(
    opts: {
      yaml?: string;
      crds?: string[];
      faults?: Fault[];
      token?: string;
      options?: Partial<typeof OPTIONS>;
      authenticationMode?: string;
      timer?: RequestTimer;
    } = {},
  ) {
    const server = await startTestApiServer({
      manifests: yamlDocs(opts.yaml ?? `${CLUSTER}---${ESO('v1')}`),
      token: 'good-token',
      ...(opts.crds ? { crds: opts.crds } : {}),
    });
    servers.push(server);
    for (const f of opts.faults ?? []) server.inject(f);
    const options = { ...OPTIONS, ...opts.options };
    const port = createKubePort(
      tokenAccess(server, opts.token ? { token: async () => opts.token! } : {}),
      options,
      ...(opts.timer ? [opts.timer] : []),
    );
    ports.push(port);
    const kube = await collectKube(port, DEFAULT_SETTINGS, options, {
      retry: FAST_RETRY,
      ...(opts.authenticationMode ? { authenticationMode: opts.authenticationMode } : {}),
    });
    return { server, port, kube };
  }

  const value = <K extends KubeKey>(kube: KubeSnapshot, key: K) => {
    const c = kube[key]!;
    if (c.status !== 'ok') throw new Error(`${key} is ${c.status}: ${JSON.stringify(c)}`);
    return c.value as unknown[];
  };

  it('collects every kind and reads only the referenced secrets, by name', async () => {
    const { server, kube } = await run();
    expect(value(kube, 'namespaces')).toHaveLength(2);
    expect(value(kube, 'nodes')).toEqual([expect.objectContaining({ computeType: 'fargate' })]);
    expect(value(kube, 'pods')).toHaveLength(2);
    expect(value(kube, 'deployments')).toEqual([
      expect.objectContaining({ kind: 'Deployment', replicas: 1 }),
    ]);
    expect(value(kube, 'daemonsets')).toEqual([]);
    expect(value(kube, 'statefulsets')).toEqual([]);
    expect(value(kube, 'services')).toHaveLength(1);
    expect(value(kube, 'endpoints')).toEqual([
      expect.objectContaining({
        serviceName: 'datadog-agent-cluster-agent',
        source: 'endpointslices',
        readyAddresses: 1,
      }),
    ]);
    expect(value(kube, 'serviceAccounts')).toHaveLength(1);
    expect(value(kube, 'clusterRoles')).toHaveLength(1);
    expect(value(kube, 'clusterRoleBindings')).toHaveLength(1);
    expect(value(kube, 'roles')).toHaveLength(1);
    expect(value(kube, 'roleBindings')).toHaveLength(1);
    expect(value(kube, 'externalSecrets')).toEqual([
      expect.objectContaining({ apiVersion: 'external-secrets.io/v1' }),
    ]);
    expect(value(kube, 'secretStores')).toHaveLength(1);
    expect(value(kube, 'clusterSecretStores')).toHaveLength(1);
    expect(kube.securityGroupPolicies.status).toBe('not-installed');

    expect(kube.secrets.map((s) => `${s.namespace}/${s.name} ${s.result.status}`)).toEqual([
      'datadog/datadog-secrets found',
      'golang/go-secrets not-found',
      'golang/golang-secrets found',
    ]);
    const dd = kube.secrets[0]!;
    if (dd.result.status !== 'found') throw new Error('unreachable');
    expect(dd.result.secret.data.token?.sha256).toBe(sha256(TOKEN));
    expect(dd.result.secret.data['api-key']?.length).toBe(API_KEY.length);
    expect(dd.references.map((r) => r.via)).toContain('env-secretKeyRef');

    const secretRequests = server.requests.filter((r) => r.path.includes('/secrets/'));
    expect(secretRequests.map((r) => r.path).sort()).toEqual([
      '/api/v1/namespaces/datadog/secrets/datadog-secrets',
      '/api/v1/namespaces/golang/secrets/go-secrets',
      '/api/v1/namespaces/golang/secrets/golang-secrets',
    ]);
  });

  it('lists every kind cluster-wide with GET only, never listing secrets', async () => {
    const { server } = await run();
    expect(server.requests.every((r) => r.method === 'GET')).toBe(true);
    const lists = server.requests.filter((r) => r.query.limit).map((r) => r.path);
    expect(lists).not.toContainEqual(expect.stringMatching(/\/secrets$/));
    expect(lists).not.toContainEqual(expect.stringMatching(/\/namespaces\/[^/]+\//));
    const expected = KUBE_KINDS.filter((k) => k.verbs.includes('list')).map(
      (k) => `${k.group ? `/apis/${k.group}/${k.version}` : '/api/v1'}/${k.resource}`,
    );
    expect(new Set(lists)).toEqual(new Set(expected));
  });

  describe('kube-system/aws-auth', () => {
    const AWS_AUTH_PATH = '/api/v1/namespaces/kube-system/configmaps/aws-auth';
    const AWS_AUTH = `---
apiVersion: v1
kind: ConfigMap
metadata: { name: aws-auth, namespace: kube-system }
data:
  mapRoles: |
    - rolearn: arn:aws:iam::123456789012:role/fargate-exec
      username: system:node:{{SessionName}}
      groups: [system:bootstrappers, system:nodes, system:node-proxier]
    - username: no-arn
`;
    const configMapRequests = (server: TestApiServer) =>
      server.requests.filter((r) => r.path.includes('/configmaps')).map((r) => r.path);

    it('is read with one GET by name and reduced to its role mappings, each with its line', async () => {
      const { server, kube } = await run({
        yaml: `${CLUSTER}---${ESO('v1')}${AWS_AUTH}`,
        authenticationMode: 'CONFIG_MAP',
      });
      expect(configMapRequests(server)).toEqual([AWS_AUTH_PATH]);
      expect(kube.awsAuth).toEqual({
        status: 'ok',
        value: {
          present: true,
          mapRoles: [
            {
              rolearn: 'arn:aws:iam::123456789012:role/fargate-exec',
              username: 'system:node:{{SessionName}}',
              groups: ['system:bootstrappers', 'system:nodes', 'system:node-proxier'],
              line: 1,
            },
          ],
          problems: [
            { line: 4, fatal: false, message: 'the entry has no rolearn: it maps no role' },
          ],
        },
      });
    });

    it('records an absent aws-auth as present: false, not as a failure', async () => {
      const { kube } = await run({ authenticationMode: 'API_AND_CONFIG_MAP' });
      expect(kube.awsAuth).toEqual({
        status: 'ok',
        value: { present: false, mapRoles: [], problems: [] },
      });
    });

    it('records a 403 on aws-auth as a failure naming kube-system/aws-auth', async () => {
      const { kube } = await run({
        authenticationMode: 'CONFIG_MAP',
        faults: [{ path: AWS_AUTH_PATH, status: 403 }],
      });
      expect(kube.awsAuth).toEqual({
        status: 'error',
        error: expect.objectContaining({
          kind: 'configmaps',
          namespace: 'kube-system',
          name: 'aws-auth',
          status: 403,
          code: 'Forbidden',
        }),
      });
    });

    it('is not requested in API mode, where EKS does not read it', async () => {
      const { server, kube } = await run({
        yaml: `${CLUSTER}---${ESO('v1')}${AWS_AUTH}`,
        authenticationMode: 'API',
      });
      expect(configMapRequests(server)).toEqual([]);
      expect(kube.awsAuth).toMatchObject({ status: 'not-installed' });
    });
  });

  it('records a 403 on one kind as that kind’s error and still collects the others', async () => {
    const { kube } = await run({
      faults: [{ path: '/apis/rbac.authorization.k8s.io/v1/roles', status: 403 }],
    });
    expect(kube.roles).toEqual({
      status: 'error',
      error: {
        source: 'kubernetes',
        kind: 'roles.rbac.authorization.k8s.io',
        status: 403,
        code: 'Forbidden',
        message: expect.stringContaining('GET /apis/rbac.authorization.k8s.io/v1/roles failed'),
      },
    });
    const others = Object.entries(kube).filter(
      ([k]) =>
        k !== 'roles' && k !== 'secrets' && k !== 'securityGroupPolicies' && k !== 'datadogAgents',
    );
    expect(others.every(([, v]) => (v as { status: string }).status === 'ok')).toBe(true);
    expect(kube.secrets).toHaveLength(3);
  });

  it('records a timeout on one kind after bounded retries, the rest unaffected', async () => {
    // Services never answer and time out as soon as the server holds them; every other kind has a
    // timeout no slow machine reaches, so only services can time out.
    const services = timeoutOn('/api/v1/services');
    const { server, kube } = await run({
      faults: [services.fault],
      options: { requestTimeoutMs: 150 },
      timer: services.timer,
    });
    expect(kube.services).toMatchObject({
      status: 'error',
      error: { kind: 'services', code: 'Timeout' },
    });
    expect(kube.services.status === 'error' && kube.services.error.status).toBeUndefined();
    expect(kube.services.status === 'error' && kube.services.error.message).toContain(
      'no response within 150 ms',
    );
    expect(server.requests.filter((r) => r.path === '/api/v1/services')).toHaveLength(4);
    expect(services.expired()).toBe(4);
    expect(kube.pods.status).toBe('ok');
    const otherErrors = Object.entries(kube).filter(
      ([k, v]) => k !== 'services' && (v as { status?: string }).status === 'error',
    );
    expect(otherErrors).toEqual([]);
  });

  it('records missing CRDs as not installed and reads only the secrets workloads name', async () => {
    const { server, kube } = await run({ yaml: CLUSTER });
    for (const key of [
      'externalSecrets',
      'secretStores',
      'clusterSecretStores',
      'securityGroupPolicies',
      'datadogAgents',
    ] as const) {
      expect(kube[key]).toEqual({
        status: 'not-installed',
        detail: expect.stringContaining(
          key === 'securityGroupPolicies'
            ? 'vpcresources.k8s.aws/v1beta1'
            : key === 'datadogAgents'
              ? 'datadoghq.com/v2alpha1'
              : 'external-secrets.io/v1, external-secrets.io/v1beta1',
        ),
      });
    }
    expect(kube.secrets.map((s) => s.name)).toEqual(['datadog-secrets', 'go-secrets']);
    expect(server.requests.filter((r) => r.status === 404).map((r) => r.path)).toContain(
      '/apis/vpcresources.k8s.aws/v1beta1/securitygrouppolicies',
    );
  });

  it('lists ClusterPushSecrets (v1alpha1): absent CRD is not installed, forbidden is that kind’s error', async () => {
    const parent = {
      apiVersion: 'external-secrets.io/v1alpha1',
      kind: 'ClusterPushSecret',
      metadata: { name: 'backup-token' },
      spec: {
        namespaceSelectors: [{ matchLabels: { team: 'a' } }],
        pushSecretSpec: {
          secretStoreRefs: [{ name: 'aws', kind: 'ClusterSecretStore' }],
          selector: { secret: { name: 'datadog-secret' } },
          data: [{ match: { secretKey: 'token', remoteRef: { remoteKey: 'dd/token' } } }],
        },
      },
      status: { provisionedNamespaces: ['shop'] },
    };
    const installed = await run({ yaml: `${CLUSTER}---\n${JSON.stringify(parent)}\n` });
    expect(value(installed.kube, 'clusterPushSecrets')).toEqual([
      expect.objectContaining({
        meta: expect.objectContaining({ name: 'backup-token' }),
        pushSecretSpec: expect.objectContaining({
          sourceSecret: 'datadog-secret',
          data: [{ secretKey: 'token', remoteKey: 'dd/token' }],
        }),
        status: expect.objectContaining({ provisionedNamespaces: ['shop'] }),
      }),
    ]);
    const absent = await run({ yaml: CLUSTER });
    expect(absent.kube.clusterPushSecrets).toMatchObject({ status: 'not-installed' });
    const forbidden = await run({
      faults: [{ path: '/apis/external-secrets.io/v1alpha1/clusterpushsecrets', status: 403 }],
    });
    expect(forbidden.kube.clusterPushSecrets).toMatchObject({
      status: 'error',
      error: { kind: 'clusterpushsecrets.external-secrets.io', status: 403, code: 'Forbidden' },
    });
    expect(forbidden.kube.pushSecrets).toMatchObject({ status: 'ok' });
  });

  it('records an installed CRD without objects as an empty list', async () => {
    const { kube } = await run({ yaml: CLUSTER, crds: ['vpcresources.k8s.aws/v1beta1'] });
    expect(kube.securityGroupPolicies).toEqual({ status: 'ok', value: [] });
  });

  it('collects ExternalSecrets through v1beta1 when ESO does not serve v1', async () => {
    const { kube } = await run({ yaml: `${CLUSTER}---${ESO('v1beta1')}` });
    expect(value(kube, 'externalSecrets')).toEqual([
      expect.objectContaining({
        apiVersion: 'external-secrets.io/v1beta1',
        target: expect.objectContaining({ name: 'golang-secrets' }),
      }),
    ]);
    expect(value(kube, 'clusterSecretStores')).toEqual([
      expect.objectContaining({ provider: 'aws', service: 'SecretsManager' }),
    ]);
    expect(kube.secrets.map((s) => s.name)).toContain('golang-secrets');
  });

  it('records a failed secret GET on that lookup only', async () => {
    const { kube } = await run({
      faults: [{ path: '/api/v1/namespaces/datadog/secrets/datadog-secrets', status: 403 }],
    });
    expect(kube.secrets[0]).toMatchObject({
      namespace: 'datadog',
      name: 'datadog-secrets',
      result: {
        status: 'error',
        error: {
          source: 'kubernetes',
          kind: 'secrets',
          namespace: 'datadog',
          name: 'datadog-secrets',
          status: 403,
          code: 'Forbidden',
        },
      },
    });
    expect(kube.secrets[2]?.result.status).toBe('found');
  });

  it.each<[string, Fault | undefined]>([
    ['no fault', undefined],
    ['malformed JSON', { malformedJson: true }],
    ['a truncated body', { truncate: true }],
    ['a 500', { status: 500 }],
    ['a reset connection', { reset: true }],
  ])(
    'never lets a secret value out of the collector (%s on the secret GETs)',
    async (_n, fault) => {
      const { kube } = await run({
        faults: fault ? [{ regex: /\/secrets\/[^/]+$/, ...fault }] : [],
      });
      const text = JSON.stringify(kube);
      for (const canary of CANARIES) {
        for (const form of encodings(canary)) expect(text).not.toContain(form);
      }
    },
  );

  it('stops after the namespaces probe when the credentials are rejected', async () => {
    const { server, kube } = await run({ token: 'expired-token' });
    const kinds = Object.entries(kube).filter(([k]) => k !== 'secrets');
    for (const [, c] of kinds) {
      expect(c).toMatchObject({ status: 'error', error: { code: 'Unauthorized', status: 401 } });
    }
    expect(kube.pods.status === 'error' && kube.pods.error.message).toMatch(/^not requested: /);
    expect(kube.secrets).toEqual([]);
    expect(server.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/v1/namespaces 401',
      '/api/v1/namespaces 401',
    ]);
  });

  it('pages every kind with the configured page size and counts requests for the stats', async () => {
    const { server, port, kube } = await run({ options: { pageSize: 1 } });
    expect(value(kube, 'pods')).toHaveLength(2);
    expect(value(kube, 'namespaces')).toHaveLength(2);
    const pageRequests = server.requests.filter((r) => r.query.limit);
    expect(pageRequests.every((r) => r.query.limit === '1')).toBe(true);
    expect(pageRequests.filter((r) => r.path === '/api/v1/pods')).toHaveLength(2);
    expect(kubeRequestCounts(port)).toEqual({
      kubeListPages: pageRequests.length,
      kubeGets: server.requests.length - pageRequests.length,
    });
  });

  it('has a reader for every kind it lists', () => {
    for (const k of KUBE_KINDS.filter((s) => s.verbs.includes('list'))) {
      expect(KIND_READERS[k.key as KubeKey]).toBeDefined();
    }
  });
});

/** Server-filled metadata differs between the API server and raw manifests; drop it to compare. */
function normalise(kube: Raw): Raw {
  const strip = (v: Raw): Raw => {
    if (Array.isArray(v))
      return v.map(strip).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v)
          .filter(([k]) => !['uid', 'resourceVersion', 'creationTimestamp'].includes(k))
          .map(([k, x]) => [k, strip(x)]),
      );
    }
    return v;
  };
  return strip(kube);
}

const FIXTURES = existsSync(FIXTURES_DIR)
  ? readdirSync(FIXTURES_DIR).filter((d) => {
      const dir = join(FIXTURES_DIR, d);
      return statSync(dir).isDirectory() && readdirSync(dir).some((f) => f.endsWith('.yaml'));
    })
  : [];

describe('collector and snapshot builder agree on the shared fixtures', () => {
  it.each(FIXTURES.length ? FIXTURES : ['(no fixtures yet)'])(
    'fixture %s collected through the API server equals the builder’s snapshot',
    async (name) => {
      if (!FIXTURES.includes(name)) return;
      const manifests = loadManifests(join(FIXTURES_DIR, name));
      const esoVersions = [
        ...new Set(
          manifests
            .map((m) => String(m.apiVersion ?? ''))
            .filter((v) => v.startsWith('external-secrets.io/')),
        ),
      ];
      const server = await startTestApiServer({
        manifests,
        crds: [
          'vpcresources.k8s.aws/v1beta1',
          'datadoghq.com/v2alpha1',
          ...(esoVersions.length ? [] : ['external-secrets.io/v1']),
        ],
      });
      const port = createKubePort(tokenAccess(server), OPTIONS);
      try {
        const collected = await collectKube(port, DEFAULT_SETTINGS, OPTIONS);
        const built = snapshotFromManifests(manifests).kube;
        expect(normalise(collected)).toEqual(normalise(built));
      } finally {
        await port.close();
        await server.close();
      }
    },
  );
});
