import { jest } from '@jest/globals';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  CONFIG_MAX_AGE_ENV,
  DEFAULT_CONFIG_MAX_AGE_SECONDS,
  configReader,
} from '../../lambda/config/source.js';
import { ConfigError } from '../../lambda/config/config.js';
import { sdkError } from '../support/aws-fixture.js';

const PARAMETER = '/auditor/config';
const env = { AUDITOR_CONFIG_PARAMETER: PARAMETER };
const configJson = (cluster: string) =>
  JSON.stringify({ clusters: [{ name: cluster }], region: 'eu-west-1' });

function ssmWith() {
  const ssm = new SSMClient({ region: 'eu-west-1' });
  const mock = mockClient(ssm);
  return { ssm, mock, clients: { ssm: () => ssm, s3: () => undefined as never } };
}

describe('configReader (the configuration of a warm container)', () => {
  afterEach(() => jest.useRealTimers());

  it('fails the invocation whose GetParameter is throttled, and the next invocation reads it again and succeeds', async () => {
    const { mock, clients } = ssmWith();
    mock
      .on(GetParameterCommand)
      .rejectsOnce(sdkError('ThrottlingException', 'Rate exceeded'))
      .resolves({ Parameter: { Value: configJson('prod') } });
    const read = configReader(clients, env);

    const first = read();
    await expect(first).rejects.toThrow(ConfigError);
    await expect(first).rejects.toThrow(
      /Cannot read the configuration parameter \/auditor\/config \(ThrottlingException: Rate exceeded\)/,
    );
    const config = await read();
    expect(config.clusters.map((c) => c.name)).toEqual(['prod']);
    expect(mock).toHaveReceivedCommandTimes(GetParameterCommand, 2);
    expect(mock).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: PARAMETER,
      WithDecryption: true,
    });
  });

  it('keeps a read configuration for its cache age, then picks up a change', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-08T00:00:00Z'), doNotFake: ['nextTick'] });
    const { mock, clients } = ssmWith();
    mock.on(GetParameterCommand).resolves({ Parameter: { Value: configJson('before') } });
    const read = configReader(clients, env, { maxAgeSeconds: 300 });

    expect((await read()).clusters[0]!.name).toBe('before');
    mock.on(GetParameterCommand).resolves({ Parameter: { Value: configJson('after') } });
    jest.setSystemTime(new Date('2026-12-08T00:04:59Z'));
    expect((await read()).clusters[0]!.name).toBe('before');
    expect(mock).toHaveReceivedCommandTimes(GetParameterCommand, 1);

    jest.setSystemTime(new Date('2026-12-08T00:05:01Z'));
    expect((await read()).clusters[0]!.name).toBe('after');
    expect(mock).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  it('reads the parameter on every invocation with a cache age of 0', async () => {
    const { mock, clients } = ssmWith();
    mock
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: configJson('one') } })
      .resolves({ Parameter: { Value: configJson('two') } });
    const read = configReader(clients, { ...env, [CONFIG_MAX_AGE_ENV]: '0' });
    expect((await read()).clusters[0]!.name).toBe('one');
    expect((await read()).clusters[0]!.name).toBe('two');
  });

  it('caches for 5 minutes by default and refuses a cache age that is not a whole number of seconds', () => {
    expect(DEFAULT_CONFIG_MAX_AGE_SECONDS).toBe(300);
    const { clients } = ssmWith();
    expect(() => configReader(clients, { ...env, [CONFIG_MAX_AGE_ENV]: '5m' })).toThrow(
      /AUDITOR_CONFIG_MAX_AGE_SECONDS must be a whole number of seconds \(0 or more\), not "5m"/,
    );
  });

  it('does not keep an invalid configuration: once the parameter is fixed, the next read after the cache age succeeds', async () => {
    const { mock, clients } = ssmWith();
    mock
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: '{"clusters":[{"name":"-bad"}]}' } })
      .resolves({ Parameter: { Value: configJson('fixed') } });
    const read = configReader(clients, env, { maxAgeSeconds: 0 });
    await expect(read()).rejects.toThrow(/Invalid auditor configuration in SSM parameter/);
    expect((await read()).clusters[0]!.name).toBe('fixed');
  });
});

describe('the deployed handler configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('retries a configuration read that failed on the previous invocation instead of keeping the failure', async () => {
    const { directDeps } = await import('../../lambda/run/production.js');
    const mock = mockClient(SSMClient);
    mock
      .on(GetParameterCommand)
      .rejectsOnce(sdkError('ThrottlingException', 'Rate exceeded'))
      .resolves({ Parameter: { Value: configJson('prod') } });
    process.env.AUDITOR_CONFIG_PARAMETER = PARAMETER;
    process.env.AWS_REGION = 'eu-west-1';
    const deps = directDeps();
    await expect(Promise.resolve().then(() => deps.loadConfig())).rejects.toThrow(
      /ThrottlingException/,
    );
    const config = await deps.loadConfig();
    expect(config.clusters.map((c) => c.name)).toEqual(['prod']);
    mock.restore();
  });
});
