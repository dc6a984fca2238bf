import {
  readInjectionConfig,
  REDACTED_PROFILE_VALUE,
  selectsPod,
  sidecarRequestMatcher,
  sidecarSecretInputs,
} from '../../lambda/snapshot/admission/sidecar-config.js';
import { convertEnvVar } from '../../lambda/collect/kube/convert.js';
import type { Container, EnvVar } from '../../lambda/snapshot/snapshot.js';

function clusterAgent(env: Record<string, string>, extra: Partial<Container> = {}): Container {
  return {
    name: 'cluster-agent',
    image: 'gcr.io/datadoghq/cluster-agent:7.72.1',
    env: Object.entries(env).map(([name, value]): EnvVar => ({ name, value })),
    envFrom: [],
    ports: [],
    ...extra,
  };
}

const ON = {
  DD_ADMISSION_CONTROLLER_ENABLED: 'true',
  DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_ENABLED: 'true',
  DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_CLUSTER_AGENT_ENABLED: 'true',
  DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROVIDER: 'fargate',
  DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME: 'datadog-agent-cluster-agent',
};

describe('readInjectionConfig', () => {
  it.each([
    { name: 'the chart with provider fargate and no selector', env: ON, state: 'on', problems: [] },
    {
      name: 'two selectors',
      env: {
        ...ON,
        DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS:
          '[{"objectSelector":{"matchLabels":{"a":"1"}}},{"objectSelector":{"matchLabels":{"b":"2"}}}]',
      },
      state: 'off',
      problems: ['too-many-selectors'],
    },
    {
      name: 'selectors that are not JSON',
      env: { ...ON, DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS: "[{objectSelector: 'x'}]" },
      state: 'off',
      problems: ['selectors-not-json'],
    },
    {
      name: 'profiles that are not JSON',
      env: { ...ON, DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES: '{"env": [' },
      state: 'off',
      problems: ['profiles-not-json'],
    },
    {
      name: 'two profiles',
      env: { ...ON, DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES: '[{}, {}]' },
      state: 'off',
      problems: ['too-many-profiles'],
    },
    {
      name: 'an unsupported provider',
      env: { ...ON, DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROVIDER: 'gke-autopilot' },
      state: 'off',
      problems: ['provider-unsupported'],
    },
    {
      name: 'no provider and no selector',
      env: { ...ON, DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROVIDER: '' },
      state: 'off',
      problems: ['no-provider-no-selector'],
    },
    {
      name: 'no provider with a selector (injects without the Fargate overrides)',
      env: {
        ...ON,
        DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROVIDER: '',
        DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS:
          '[{"objectSelector":{"matchLabels":{"app":"web"}}}]',
      },
      state: 'on',
      problems: ['no-provider'],
    },
    {
      name: 'sidecar injection on while the admission controller is off',
      env: { ...ON, DD_ADMISSION_CONTROLLER_ENABLED: 'false' },
      state: 'off',
      problems: ['admission-off'],
    },
  ])('$name: $state', ({ env, state, problems }) => {
    const config = readInjectionConfig(clusterAgent(env), 'datadog');
    expect(config.state).toBe(state);
    expect(config.problems.map((p) => p.id)).toEqual(problems);
    expect(config.configured).toBe(true);
  });

  it('reads the defaults the Cluster Agent applies: webhook datadog-webhook, Ignore, ports 8000 and 5005', () => {
    const config = readInjectionConfig(clusterAgent(ON), 'datadog');
    expect(config).toMatchObject({
      webhookName: 'datadog-webhook',
      failurePolicy: 'Ignore',
      admissionPort: 8000,
      cmdPort: 5005,
      clusterAgentEnabled: true,
      sidecarUrl: 'https://datadog-agent-cluster-agent.datadog.svc.cluster.local:5005',
      selectors: [
        { objectSelector: { matchLabels: { 'agent.datadoghq.com/sidecar': 'fargate' } } },
      ],
    });
  });

  it('says "not evaluated" for a setting read from a ConfigMap instead of guessing', () => {
    const c = clusterAgent(ON);
    c.env.push({
      name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS',
      configMapKeyRef: { name: 'dd-sidecar', key: 'selectors' },
    });
    const config = readInjectionConfig(c, 'datadog');
    expect(config.state).toBe('unknown');
    expect(config.notEvaluated).toEqual([
      'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS (from ConfigMap dd-sidecar key selectors)',
    ]);
    // With the selectors unknown, any pod carrying the sidecar label counts as asking for one.
    const asks = sidecarRequestMatcher(config, []);
    expect(asks({ 'agent.datadoghq.com/sidecar': 'anything' }, 'app')).toBe(true);
  });

  it('treats envFrom sources as possible definitions of unset settings', () => {
    const c = clusterAgent(
      { DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_ENABLED: 'true' },
      {
        envFrom: [{ configMapRef: { name: 'dd-env' } }],
      },
    );
    const config = readInjectionConfig(c, 'datadog');
    expect(config.state).toBe('unknown');
    expect(config.notEvaluated).toContain(
      'DD_ADMISSION_CONTROLLER_ENABLED (from envFrom ConfigMap dd-env)',
    );
  });

  it('keeps URL overrides of a profile but never a literal token', () => {
    const c = clusterAgent({
      ...ON,
      DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES: JSON.stringify([
        {
          env: [
            { name: 'DD_CLUSTER_AGENT_URL', value: 'https://x.datadog.svc.cluster.local:5005' },
            { name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: 'literal-token-value-0123456789' },
          ],
        },
      ]),
    });
    const config = readInjectionConfig(c, 'datadog');
    expect(config.profileEnv).toEqual([
      {
        name: 'DD_CLUSTER_AGENT_URL',
        hasValue: true,
        value: 'https://x.datadog.svc.cluster.local:5005',
      },
      { name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', hasValue: true },
    ]);
    expect(JSON.stringify(config)).not.toContain('literal-token-value');
  });
});

describe('where a fix sends the user', () => {
  const twoSelectors = {
    ...ON,
    DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_SELECTORS:
      '[{"objectSelector":{"matchLabels":{"a":"1"}}},{"objectSelector":{"matchLabels":{"b":"2"}}}]',
  };

  it('names the Helm value for a chart install', () => {
    const [p] = readInjectionConfig(clusterAgent(twoSelectors), 'datadog').problems;
    expect(p!.fix).toContain(
      '(Helm: clusterAgent.admissionController.agentSidecarInjection.selectors)',
    );
  });

  it('names the DatadogAgent field when the Operator renders the Cluster Agent', () => {
    const [p] = readInjectionConfig(clusterAgent(twoSelectors), 'datadog', {
      kind: 'operator',
      datadogAgent: 'datadog/datadog',
    }).problems;
    expect(p!.fix).toContain(
      'DatadogAgent datadog/datadog: spec.features.admissionController.agentSidecarInjection.selectors',
    );
    expect(p!.fix).toContain('reverts edits of the Deployment');
    expect(p!.fix).not.toContain('Helm');
  });
});

describe('sidecarSecretInputs', () => {
  const profile = (env: unknown[]) =>
    readInjectionConfig(
      clusterAgent({
        ...ON,
        DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES: JSON.stringify([{ env }]),
      }),
      'datadog',
    );

  it('reads datadog-secret keys api-key and token by default', () => {
    expect(sidecarSecretInputs(readInjectionConfig(clusterAgent(ON), 'datadog'))).toEqual([
      { env: 'DD_API_KEY', secret: 'datadog-secret', key: 'api-key', fromProfile: false },
      {
        env: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
        secret: 'datadog-secret',
        key: 'token',
        fromProfile: false,
      },
    ]);
  });

  it('follows a profile secretKeyRef and reads no Secret for a literal profile value', () => {
    const config = profile([
      {
        name: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
        valueFrom: { secretKeyRef: { name: 'dd-token', key: 'cluster-agent-token' } },
      },
      { name: 'DD_API_KEY', value: 'literal' },
    ]);
    expect(sidecarSecretInputs(config)).toEqual([
      {
        env: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
        secret: 'dd-token',
        key: 'cluster-agent-token',
        fromProfile: true,
      },
    ]);
  });

  it('needs no token without Cluster Agent communication', () => {
    const config = readInjectionConfig(
      clusterAgent({ ...ON, DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_CLUSTER_AGENT_ENABLED: 'false' }),
      'datadog',
    );
    expect(sidecarSecretInputs(config).map((i) => i.env)).toEqual(['DD_API_KEY']);
  });
});

describe('selectsPod', () => {
  const selectors = [
    {
      objectSelector: { matchLabels: { tier: 'web' } },
      namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['shop'] }] },
    },
  ];
  it.each([
    { labels: { tier: 'web' }, ns: { team: 'shop' }, expected: true },
    { labels: { tier: 'web' }, ns: { team: 'ops' }, expected: false },
    { labels: { tier: 'db' }, ns: { team: 'shop' }, expected: false },
    { labels: { tier: 'web' }, ns: undefined, expected: false },
  ])('object $labels in namespace $ns -> $expected', ({ labels, ns, expected }) => {
    expect(selectsPod(selectors, labels, ns)).toBe(expected);
  });
});

describe('the collector keeps sidecar profiles without their literal values', () => {
  const TOKEN = 'CANARY-profile-literal-token-3a7f9c1e5b';
  const converted = (value: string) =>
    convertEnvVar({ name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES', value });

  it('replaces a literal token in a profile but keeps the structure the checks judge', () => {
    const env = converted(
      JSON.stringify([
        {
          env: [
            { name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: TOKEN },
            { name: 'DD_CLUSTER_AGENT_URL', value: 'https://dca.datadog.svc.cluster.local:5005' },
          ],
        },
      ]),
    );
    expect(JSON.stringify(env)).not.toContain(TOKEN);
    expect(env.value).toContain(REDACTED_PROFILE_VALUE);
    expect(env.value).toContain('https://dca.datadog.svc.cluster.local:5005');
    const config = readInjectionConfig(
      { ...clusterAgent(ON), env: [...clusterAgent(ON).env, env] },
      'datadog',
    );
    expect(config.profileEnv).toEqual([
      { name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', hasValue: true },
      {
        name: 'DD_CLUSTER_AGENT_URL',
        hasValue: true,
        value: 'https://dca.datadog.svc.cluster.local:5005',
      },
    ]);
  });

  it('keeps nothing of a profile that is not valid JSON, which still reads as not valid JSON', () => {
    const env = converted(`[{"env": [{"name": "DD_API_KEY", "value": "${TOKEN}"}]`);
    expect(JSON.stringify(env)).not.toContain(TOKEN);
    const config = readInjectionConfig(
      { ...clusterAgent(ON), env: [...clusterAgent(ON).env, env] },
      'datadog',
    );
    expect(config.problems.map((p) => p.id)).toContain('profiles-not-json');
  });
});
