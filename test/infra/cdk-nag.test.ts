import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import cdkNag from 'cdk-nag';
import { AUDITOR_APP_CONTEXT, AuditorStack } from '../../infra/auditor-stack.js';
import { parseDeploymentConfig } from '../../infra/config.js';
import { EXAMPLE, FULL, MINIMAL } from './configs.js';
import { ACCOUNT, REGION, synth } from './support.js';

// cdk-nag is CommonJS: its classes come through the default export under Node's ESM loader.
const { AwsSolutionsChecks } = cdkNag;

const CONFIGS = { example: EXAMPLE, 'every feature': FULL, small: MINIMAL };

interface Violation {
  ruleName: string;
  severity?: string;
  violatingResources: { constructPath?: string }[];
}

interface Acknowledgment {
  path: string;
  id: string;
  reason: string;
}

interface NagResult {
  violations: Violation[];
  acknowledgments: Acknowledgment[];
}

describe('cdk-nag AwsSolutions', () => {
  const results: Record<string, NagResult> = {};
  beforeAll(() => {
    for (const [name, config] of Object.entries(CONFIGS)) {
      const { stack } = synth(config);
      results[name] = {
        violations: new AwsSolutionsChecks().validateScope(stack).violations as Violation[],
        acknowledgments: stack.node.findAll().flatMap((c) =>
          c.node.metadata
            .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
            .flatMap((m) =>
              Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
                path: c.node.path,
                id: id.replace(/^annotation::/i, ''),
                reason,
              })),
            ),
        ),
      };
    }
  });

  describe.each(Object.keys(CONFIGS))('with the %s configuration', (name) => {
    it('reports no unacknowledged error', () => {
      const errors = results[name]!.violations.filter((v) => v.severity !== 'warning');
      expect(
        errors.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
      ).toEqual([]);
    });

    it('reports no unacknowledged warning', () => {
      const warnings = results[name]!.violations.filter((v) => v.severity === 'warning');
      expect(warnings.map((v) => v.ruleName)).toEqual([]);
    });

    it('acknowledges IAM5 per finding (the exact resource), never the whole rule', () => {
      const iam5 = results[name]!.acknowledgments.filter((a) =>
        a.id.startsWith('AwsSolutions-IAM5'),
      );
      expect(iam5.length).toBeGreaterThan(0);
      for (const a of iam5) expect(a.id).toMatch(/^AwsSolutions-IAM5\[Resource::.+\]$/);
    });

    it('gives every acknowledgment a specific reason', () => {
      for (const a of results[name]!.acknowledgments) {
        expect(a.reason.length).toBeGreaterThan(50);
      }
    });
  });

  it('accepts only these acknowledgments, so a new one is a reviewed change', () => {
    const ids = Object.values(results)
      .flatMap((r) => r.acknowledgments)
      .map((a) => a.id.replace(/\[Resource::.*\]$/, '[Resource::…]'));
    expect([...new Set(ids)].sort()).toEqual([
      '@aws-cdk/aws-ec2:noSubnetRouteTableId',
      '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      'AwsSolutions-IAM5[Resource::…]',
      'AwsSolutions-L1',
      'AwsSolutions-S1',
      'AwsSolutions-SQS3',
    ]);
  });

  describe('as a synthesis plugin, like infra/app.ts registers it', () => {
    function appWithNag(): App {
      const app = new App({
        outdir: mkdtempSync(join(tmpdir(), 'auditor-nag-')),
        context: { ...AUDITOR_APP_CONTEXT, 'aws:cdk:bundling-stacks': [] },
      });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
      return app;
    }

    it('lets the auditor stack synthesize', () => {
      const app = appWithNag();
      new AuditorStack(app, 'Auditor', {
        config: parseDeploymentConfig(FULL, 'test'),
        env: { account: ACCOUNT, region: REGION },
      });
      expect(() => app.synth()).not.toThrow();
    });

    it('fails synthesis on an unacknowledged finding', () => {
      const app = appWithNag();
      const stack = new AuditorStack(app, 'Auditor', {
        config: parseDeploymentConfig(FULL, 'test'),
        env: { account: ACCOUNT, region: REGION },
      });
      new sqs.Queue(stack, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
    });
  });

  it('is registered by infra/app.ts', () => {
    const source = readFileSync(new URL('../../infra/app.ts', import.meta.url), 'utf8');
    expect(source).toMatch(/Validations\.of\(app\)\.addPlugins\(new cdkNag\.AwsSolutionsChecks\(/);
  });
});
