import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditorConfigSchema, ConfigError } from '../../lambda/config/config.js';
import {
  DEFAULT_SCHEDULE,
  functionConfigOf,
  loadDeploymentConfig,
  parseDeploymentConfig,
} from '../../infra/config.js';

const EXAMPLE = new URL('../../auditor.config.example.json', import.meta.url);
const minimal = { clusters: [{ name: 'prod' }] };

function errorOf(input: unknown): string {
  try {
    parseDeploymentConfig(input, 'auditor.config.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('deployment configuration', () => {
  it('accepts the example file shipped in the repository', () => {
    const config = loadDeploymentConfig(EXAMPLE.pathname);
    expect(config.clusters.map((c) => c.name)).toEqual([
      'prod-fargate',
      'staging-fargate',
      'shared-services',
    ]);
    expect(config.deploy.emailFilter).toEqual({
      drift: ['new'],
      maxSeverity: ['critical', 'high'],
    });
  });

  it('fills the deployment defaults: daily 02:00 UTC, 256 MB, 5 minutes, one at a time, 90 days of logs', () => {
    expect(parseDeploymentConfig(minimal, 'x').deploy).toEqual({
      stackName: 'EksDatadogAuditor',
      schedule: { expression: DEFAULT_SCHEDULE, timezone: 'UTC', enabled: true },
      alertEmails: [],
      tokenSecretKmsKeyArns: [],
      createAccessEntries: true,
      memoryMb: 256,
      timeoutSeconds: 300,
      reservedConcurrency: 1,
      logRetentionDays: 90,
    });
  });

  it('hands the function a configuration its own schema accepts, without the deploy section', () => {
    const config = loadDeploymentConfig(EXAMPLE.pathname);
    const forFunction = functionConfigOf(config);
    expect(forFunction).not.toHaveProperty('deploy');
    expect(auditorConfigSchema.parse(forFunction)).toEqual(forFunction);
  });

  it.each([
    ['clusters', {}, /clusters: /],
    [
      'clusters.0.name',
      { clusters: [{ name: 'bad name!' }] },
      /clusters\.0\.name: must be an EKS cluster name/,
    ],
    [
      'clusters.0.roleArn',
      { clusters: [{ name: 'a', roleArn: 'role/x' }] },
      /clusters\.0\.roleArn: must be an IAM role ARN/,
    ],
    [
      'deploy.schedule.expression',
      { ...minimal, deploy: { schedule: { expression: 'every night' } } },
      /deploy\.schedule\.expression: must be an EventBridge Scheduler expression/,
    ],
    [
      'deploy.schedule.timezone',
      { ...minimal, deploy: { schedule: { timezone: 'Mars/Olympus' } } },
      /deploy\.schedule\.timezone: must be an IANA time zone/,
    ],
    [
      'deploy.alertEmails.1',
      { ...minimal, deploy: { alertEmails: ['ok@example.com', 'not-an-email'] } },
      /deploy\.alertEmails\.1: must be an email address/,
    ],
    [
      'deploy.emailFilter.drift.0',
      { ...minimal, deploy: { emailFilter: { drift: ['brand-new'] } } },
      /deploy\.emailFilter\.drift\.0: /,
    ],
    [
      'deploy.emailFilter.maxSeverity.0',
      { ...minimal, deploy: { emailFilter: { maxSeverity: ['urgent'] } } },
      /deploy\.emailFilter\.maxSeverity\.0: /,
    ],
    [
      'deploy.emailFilter',
      { ...minimal, deploy: { emailFilter: {} } },
      /deploy\.emailFilter: list at least one attribute/,
    ],
    [
      'deploy.vpc.subnetIds',
      { ...minimal, deploy: { vpc: { vpcId: 'vpc-0123456789abcdef0', subnetIds: [] } } },
      /deploy\.vpc\.subnetIds: list at least one private subnet/,
    ],
    [
      'deploy.vpc.vpcId',
      { ...minimal, deploy: { vpc: { vpcId: 'my-vpc', subnetIds: ['subnet-01234567'] } } },
      /deploy\.vpc\.vpcId: must be a VPC id/,
    ],
    [
      'deploy.tokenSecretKmsKeyArns.0',
      { ...minimal, deploy: { tokenSecretKmsKeyArns: ['alias/datadog'] } },
      /deploy\.tokenSecretKmsKeyArns\.0: must be a KMS key ARN/,
    ],
    ['deploy.memoryMb', { ...minimal, deploy: { memoryMb: 64 } }, /deploy\.memoryMb: /],
    [
      'deploy.timeoutSeconds',
      { ...minimal, deploy: { timeoutSeconds: 1200 } },
      /deploy\.timeoutSeconds: /,
    ],
    [
      'deploy.reservedConcurrency',
      { ...minimal, deploy: { reservedConcurrency: 4 } },
      /deploy\.reservedConcurrency: /,
    ],
    [
      'deploy.logRetentionDays',
      { ...minimal, deploy: { logRetentionDays: 100 } },
      /deploy\.logRetentionDays: must be one of 1, 3, 5/,
    ],
    ['deploy (unknown key)', { ...minimal, deploy: { memory: 512 } }, /deploy: .*\(memory\)/],
    [
      'topicArn',
      { ...minimal, topicArn: 'arn:aws:sns:eu-west-1:123456789012:t' },
      /topicArn: is set by the stack/,
    ],
    [
      'archiveBucket',
      { ...minimal, archiveBucket: 'my-bucket' },
      /archiveBucket: is set by the stack/,
    ],
  ])('names the field %s when it is invalid', (_field, input, message) => {
    const text = errorOf(input);
    expect(text).toMatch(message);
    expect(text).toContain('auditor.config.json');
  });

  describe('from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditor-config-'));

    it('tells how to create a missing file', () => {
      expect(() => loadDeploymentConfig(join(dir, 'auditor.config.json'))).toThrow(
        /not found: copy auditor\.config\.example\.json/,
      );
    });

    it('names the file and the JSON problem when it is not JSON', () => {
      const file = join(dir, 'broken.json');
      writeFileSync(file, '{ "clusters": [ }');
      expect(() => loadDeploymentConfig(file)).toThrow(/broken\.json is not valid JSON/);
    });

    it('reads a valid file', () => {
      const file = join(dir, 'ok.json');
      writeFileSync(file, JSON.stringify(minimal));
      expect(loadDeploymentConfig(file).clusters).toEqual([{ name: 'prod' }]);
      expect(readFileSync(file, 'utf8')).toContain('prod');
    });
  });
});
