import {
  ConfigError,
  parseConfig,
  parseConfigText,
  settingsFor,
} from '../../lambda/config/config.js';

describe('auditor configuration', () => {
  it('fills every default in one place', () => {
    const c = parseConfig({ clusters: [{ name: 'golang-cluster' }] }, 'test');
    expect(c).toMatchObject({
      tokenSecret: { id: 'datadog/cluster-agent-token' },
      notify: 'drift',
      minSeverity: 'high',
      kubernetes: { pageSize: 500, secretConcurrency: 32 },
      clusterConcurrency: 4,
    });
    expect(settingsFor(c, c.clusters[0]!)).toEqual({
      tokenSecretId: 'datadog/cluster-agent-token',
      apiKeySecretId: 'datadog/apikey',
      appKeySecretId: 'datadog/appkey',
      clusterAgent: { port: 5005 },
    });
  });

  it('lets a cluster override the API and app key secrets like the token secret', () => {
    const c = parseConfig(
      {
        apiKeySecret: { id: 'global/api', property: 'api_key' },
        clusters: [{ name: 'a', appKeySecret: { id: 'a/app' } }],
      },
      'test',
    );
    expect(settingsFor(c, c.clusters[0]!)).toMatchObject({
      apiKeySecretId: 'global/api',
      apiKeySecretProperty: 'api_key',
      appKeySecretId: 'a/app',
    });
  });

  it('lets a cluster override the token secret and the Cluster Agent location', () => {
    const c = parseConfig(
      {
        tokenSecret: { id: 'global', property: 'token' },
        clusterAgent: { namespace: 'datadog' },
        clusters: [{ name: 'a', tokenSecret: { id: 'per-cluster' }, clusterAgent: { port: 5006 } }],
      },
      'test',
    );
    expect(settingsFor(c, c.clusters[0]!)).toEqual({
      tokenSecretId: 'per-cluster',
      tokenSecretProperty: 'token',
      apiKeySecretId: 'datadog/apikey',
      appKeySecretId: 'datadog/appkey',
      clusterAgent: { namespace: 'datadog', port: 5006 },
    });
  });

  it.each([
    ['an empty config', {}, 'clusters'],
    ['no clusters', { clusters: [] }, 'clusters: list at least one cluster'],
    [
      'a bad region',
      { clusters: [{ name: 'a', region: 'europe' }] },
      'clusters.0.region: must be an AWS region',
    ],
    ['an unknown field', { clusters: [{ name: 'a' }], notifyy: 'x' }, 'notifyy'],
    [
      'duplicate clusters',
      { clusters: [{ name: 'a' }, { name: 'a' }] },
      'each cluster may appear only once',
    ],
    [
      'a bad role ARN',
      { clusters: [{ name: 'a', roleArn: 'role/x' }] },
      'clusters.0.roleArn: must be an IAM role ARN',
    ],
    ['a bad severity', { clusters: [{ name: 'a' }], minSeverity: 'urgent' }, 'minSeverity'],
  ])('rejects %s, naming the field', (_name, input, expected) => {
    expect(() => parseConfig(input, 'auditor.config.json')).toThrow(ConfigError);
    expect(() => parseConfig(input, 'auditor.config.json')).toThrow(expected);
    expect(() => parseConfig(input, 'auditor.config.json')).toThrow('auditor.config.json');
  });

  it('rejects text that is not JSON, naming the file', () => {
    expect(() => parseConfigText('{ clusters: ', 'my.json')).toThrow(/my\.json is not valid JSON/);
  });
});
