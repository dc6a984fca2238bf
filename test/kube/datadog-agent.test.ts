/**
 * DatadogAgents (datadoghq.com/v2alpha1) through the real client and the test API server: what the
 * snapshot keeps, what the converter drops (the literal token, the generated token, literal keys,
 * annotations), and which Secrets the collector then reads by name.
 */
import { createKubePort, type ClosableKubePort } from '../../lambda/collect/kube/client.js';
import { collectKube } from '../../lambda/collect/kube/collect.js';
import { convertDatadogAgent } from '../../lambda/collect/kube/convert-operator.js';
import { operatorKeyRefs, operatorTokenRef } from '../../lambda/snapshot/operator-refs.js';
import type { DatadogAgent } from '../../lambda/snapshot/snapshot.js';
import { startTestApiServer, type TestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { DEFAULT_SETTINGS } from '../support/snapshot-builder.js';
import { FAST_RETRY, OPTIONS, tokenAccess, yamlDocs } from './support.js';

const LITERAL = 'CANARY-dda-literal-token-5c1e9a7b3d2f4e6a8b0c';
const GENERATED = 'CANARY-dda-generated-token-0f2e4d6c8b1a3e5d';
const API_KEY = 'CANARY-dda-literal-api-key-7a9c1e3b5d';

const DDAS = `
apiVersion: datadoghq.com/v2alpha1
kind: DatadogAgent
metadata:
  name: datadog
  namespace: datadog
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"spec":{"global":{"clusterAgentToken":"${LITERAL}"}}}'
spec:
  global:
    clusterAgentTokenSecret: { secretName: datadog-dca-token, keyName: dca-token }
    credentials:
      apiSecret: { secretName: datadog-keys, keyName: api-key }
      appSecret: { secretName: datadog-keys }
  features:
    admissionController:
      enabled: true
      failurePolicy: Ignore
      agentSidecarInjection:
        enabled: true
        provider: fargate
        selectors:
          - objectSelector: { matchLabels: { team: payments } }
        profiles:
          - env:
              - { name: DD_CLUSTER_AGENT_AUTH_TOKEN, value: "${LITERAL}" }
              - { name: DD_TAGS, value: "team:payments" }
status:
  clusterAgent: { deploymentName: datadog-cluster-agent, generatedToken: "${GENERATED}" }
---
apiVersion: datadoghq.com/v2alpha1
kind: DatadogAgent
metadata: { name: literal, namespace: monitoring }
spec:
  global:
    clusterAgentToken: "${LITERAL}"
    credentials: { apiKey: "${API_KEY}" }
---
apiVersion: datadoghq.com/v2alpha1
kind: DatadogAgent
metadata: { name: keyless, namespace: monitoring }
spec:
  global:
    clusterAgentTokenSecret: { secretName: half-configured }
status:
  clusterAgent: { generatedToken: "${GENERATED}" }
---
apiVersion: v1
kind: Secret
metadata: { name: datadog-dca-token, namespace: datadog }
stringData: { dca-token: ${GENERATED} }
---
apiVersion: v1
kind: Namespace
metadata: { name: datadog }
`;

describe('DatadogAgents collected through the real client', () => {
  const servers: TestApiServer[] = [];
  const ports: ClosableKubePort[] = [];
  afterAll(async () => {
    await Promise.all(ports.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.close()));
  });

  async function collect(yaml: string, crds: string[] = []) {
    const server = await startTestApiServer({ manifests: yamlDocs(yaml), token: 't', crds });
    servers.push(server);
    const port = createKubePort(tokenAccess(server), OPTIONS);
    ports.push(port);
    const kube = await collectKube(port, DEFAULT_SETTINGS, OPTIONS, { retry: FAST_RETRY });
    return { server, kube };
  }

  it('keeps the token and key references, and only the presence of literal and generated tokens', async () => {
    const { kube } = await collect(DDAS);
    expect(kube.datadogAgents.status).toBe('ok');
    const ddas = kube.datadogAgents.status === 'ok' ? kube.datadogAgents.value : [];
    const byName = new Map(ddas.map((d) => [d.meta.name, d]));
    expect(byName.get('datadog')).toMatchObject({
      clusterAgentTokenSecret: { secretName: 'datadog-dca-token', keyName: 'dca-token' },
      statusHasGeneratedToken: true,
      credentials: {
        apiSecret: { secretName: 'datadog-keys', keyName: 'api-key' },
        appSecret: { secretName: 'datadog-keys' },
        literalApiKey: false,
      },
      admissionController: {
        enabled: true,
        failurePolicy: 'Ignore',
        agentSidecarInjection: {
          enabled: true,
          provider: 'fargate',
          selectors: [{ objectSelector: { matchLabels: { team: 'payments' } } }],
        },
      },
      clusterAgentName: 'datadog-cluster-agent',
      statusClusterAgentDeployment: 'datadog-cluster-agent',
    });
    expect(byName.get('datadog')!.meta.annotations).toEqual({});
    expect(byName.get('literal')).toMatchObject({
      literalClusterAgentToken: { length: LITERAL.length },
      statusHasGeneratedToken: false,
      credentials: { literalApiKey: true, literalAppKey: false },
    });
  });

  it('never lets a literal or generated token or a literal key into the snapshot', async () => {
    const { kube } = await collect(DDAS);
    const json = JSON.stringify(kube);
    for (const needle of [LITERAL, GENERATED, API_KEY]) expect(json).not.toContain(needle);
    // The profile's literal token override is kept as a digest, like any sensitive env value.
    const dda = kube.datadogAgents.status === 'ok' ? kube.datadogAgents.value[0]! : undefined;
    const env = dda?.admissionController?.agentSidecarInjection?.profiles[0]?.env ?? [];
    expect(env.find((e) => e.name === 'DD_CLUSTER_AGENT_AUTH_TOKEN')).toMatchObject({
      valueDigest: { length: LITERAL.length },
    });
    expect(env.find((e) => e.name === 'DD_CLUSTER_AGENT_AUTH_TOKEN')?.value).toBeUndefined();
  });

  it('reads the token Secret each DatadogAgent makes its Cluster Agent use by name, following keyName', async () => {
    const { server, kube } = await collect(DDAS);
    const gets = server.requests.filter((r) => r.path.includes('/secrets/')).map((r) => r.path);
    expect(gets.sort()).toEqual([
      '/api/v1/namespaces/datadog/secrets/datadog-dca-token',
      '/api/v1/namespaces/datadog/secrets/datadog-keys',
      '/api/v1/namespaces/monitoring/secrets/keyless-token',
      '/api/v1/namespaces/monitoring/secrets/literal-secret',
      '/api/v1/namespaces/monitoring/secrets/literal-token',
    ]);
    const dca = kube.secrets.find((s) => s.name === 'datadog-dca-token')!;
    expect(dca.references).toEqual([
      { via: 'datadogagent', from: 'DatadogAgent datadog/datadog', key: 'dca-token' },
    ]);
    expect(dca.result.status === 'found' && Object.keys(dca.result.secret.data)).toEqual([
      'dca-token',
    ]);
    expect(server.requests.some((r) => r.query.limit && r.path.endsWith('/secrets'))).toBe(false);
  });

  it('records the DatadogAgent CRD as not installed when the Operator is absent', async () => {
    const { kube } = await collect(
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: datadog }\n',
    );
    expect(kube.datadogAgents).toEqual({
      status: 'not-installed',
      detail: expect.stringContaining('datadoghq.com/v2alpha1'),
    });
  });

  it('records an installed CRD without DatadogAgents as an empty list', async () => {
    const { kube } = await collect('apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n', [
      'datadoghq.com/v2alpha1',
    ]);
    expect(kube.datadogAgents).toEqual({ status: 'ok', value: [] });
  });
});

describe('the Secret keys a DatadogAgent makes the Operator read', () => {
  const dda = (spec: object, status: object = {}): DatadogAgent =>
    convertDatadogAgent({
      apiVersion: 'datadoghq.com/v2alpha1',
      kind: 'DatadogAgent',
      metadata: { name: 'dd', namespace: 'ns' },
      spec: { global: spec },
      status,
    });

  it.each([
    {
      name: 'clusterAgentTokenSecret with both names: that Secret key',
      spec: { clusterAgentTokenSecret: { secretName: 's', keyName: 'k' } },
      expected: { secret: 's', key: 'k', source: 'secret' },
    },
    {
      name: 'a literal clusterAgentToken: written by the Operator into <name>-token',
      spec: { clusterAgentToken: 'x' },
      expected: { secret: 'dd-token', key: 'token', source: 'literal' },
    },
    {
      name: 'neither: generated into <name>-token',
      spec: {},
      expected: { secret: 'dd-token', key: 'token', source: 'generated' },
    },
    {
      name: 'clusterAgentTokenSecret without keyName: ignored by the Operator, generated',
      spec: { clusterAgentTokenSecret: { secretName: 's' } },
      expected: {
        secret: 'dd-token',
        key: 'token',
        source: 'generated',
        ignoredTokenSecret: { secretName: 's' },
      },
    },
  ])('$name', ({ spec, expected }) => {
    expect(operatorTokenRef(dda(spec))).toEqual({ namespace: 'ns', ...expected });
  });

  it.each([
    {
      name: 'Secret refs win over literal keys; keyName defaults to api_key / app_key',
      spec: { credentials: { apiKey: 'x', apiSecret: { secretName: 'keys' }, appKey: 'y' } },
      expected: [
        { secret: 'keys', key: 'api_key', kind: 'api-key', source: 'secret' },
        { secret: 'dd-secret', key: 'app_key', kind: 'app-key', source: 'literal' },
      ],
    },
    { name: 'no credentials: nothing to read', spec: {}, expected: [] },
  ])('$name', ({ spec, expected }) => {
    expect(operatorKeyRefs(dda(spec))).toEqual(expected.map((e) => ({ namespace: 'ns', ...e })));
  });
});
