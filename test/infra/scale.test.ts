import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import cdkNag from 'cdk-nag';
import { ConfigError } from '../../lambda/config/config.js';
import {
  ACCESS_ENTRY_SHARDS,
  accessEntryLayout,
  accessEntryShard,
  STACK_RESOURCE_LIMIT,
} from '../../infra/construct/cluster-access.js';
import { planClusters } from '../../infra/construct/plan.js';
import { parseDeploymentConfig } from '../../infra/config.js';
import { flat, REGION, synth, type Synth } from './support.js';

/** `n` same-account clusters listed in the stack's region, each getting an access entry. */
const fleet = (n: number, prefix = 'prod-eks-') => ({
  region: REGION,
  clusters: Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${String(i).padStart(4, '0')}`,
  })),
});

const resourceCount = (t: Template) => Object.keys(t.toJSON().Resources as object).length;

describe('2,000 listed clusters in one region', () => {
  let s: Synth;
  let nested: Template[];
  beforeAll(() => {
    s = synth(fleet(2000));
    nested = s.stack.auditor.clusterAccess.nestedStacks.map((ns) => Template.fromStack(ns));
  }, 180_000);

  it('synthesizes with the access entries in nested stacks of a few hundred resources each', () => {
    s.template.resourceCountIs('AWS::EKS::AccessEntry', 0);
    s.template.resourceCountIs('AWS::CloudFormation::Stack', ACCESS_ENTRY_SHARDS);
    expect(resourceCount(s.template)).toBeLessThan(60);
    for (const t of nested) expect(resourceCount(t)).toBeLessThanOrEqual(300);
  });

  it('gives every listed cluster exactly one access entry for the audit role', () => {
    const entries = nested.flatMap((t) =>
      Object.values(t.findResources('AWS::EKS::AccessEntry')).map((r) => r.Properties),
    );
    expect(entries.map((e) => e.ClusterName as string).sort()).toEqual(
      fleet(2000).clusters.map((c) => c.name),
    );
    expect(new Set(entries.map((e) => JSON.stringify(e.PrincipalArn))).size).toBe(1);
  });

  it('keeps the role inline policies under IAM 10,240 characters by naming clusters per region', () => {
    const role = s.template.toJSON().Resources[s.id(s.stack.role)] as {
      Properties: { Policies: { PolicyDocument: unknown }[] };
    };
    const chars = JSON.stringify(flat(role.Properties.Policies.map((p) => p.PolicyDocument)));
    expect(chars.length).toBeLessThan(10_240);
    const clusters = s.statements(s.stack.role).find((st) => st.Sid === 'ReadClusters')!;
    expect(clusters.Resource).toEqual([`arn:aws:eks:${REGION}:123456789012:cluster/*`]);
  });
});

describe('40 listed clusters (EKS reads named per region)', () => {
  it('has no unacknowledged cdk-nag finding and acknowledges the region-wide ARNs exactly', () => {
    const s = synth(fleet(40));
    const clusters = s.statements(s.stack.role).find((st) => st.Sid === 'ReadClusters')!;
    expect(clusters.Resource).toEqual([`arn:aws:eks:${REGION}:123456789012:cluster/*`]);
    const violations = new cdkNag.AwsSolutionsChecks().validateScope(s.stack).violations as {
      ruleName: string;
    }[];
    expect(violations.map((v) => v.ruleName)).toEqual([]);
  }, 60_000);
});

describe('access entry placement', () => {
  const plans = (n: number, prefix?: string) =>
    planClusters(parseDeploymentConfig(fleet(n, prefix), 'test'), REGION, true);

  it('never moves an existing entry to another nested stack when clusters are added', () => {
    const before = accessEntryLayout(plans(600), 200).shards;
    const after = accessEntryLayout([...plans(50, 'new-'), ...plans(600)], 200).shards;
    for (const [shard, clusters] of before) {
      const names = new Set(after.get(shard)!.map((c) => c.name));
      for (const c of clusters) expect(names.has(c.name)).toBe(true);
    }
    for (const c of plans(600)) expect(accessEntryShard(c)).toBe(accessEntryShard(c));
  });

  it('keeps entries in the stack up to the in-stack maximum', () => {
    expect(accessEntryLayout(plans(200), 200).nested).toBe(false);
    expect(accessEntryLayout(plans(201), 200).nested).toBe(true);
  });

  it('refuses a fleet no layout can hold with one line naming the limit and the fix', () => {
    let error: unknown;
    try {
      accessEntryLayout(plans(5000), 200);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`CloudFormation's ${STACK_RESOURCE_LIMIT} per stack`);
    expect(message).toMatch(/with discover .* member stack .* access entries by the same tags/);
  });
});

describe('cdk synth of infra/app.ts with a configuration that cannot fit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auditor-scale-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 1 with a one-line error, never a stack dump', () => {
    const configFile = join(dir, 'auditor.config.json');
    writeFileSync(configFile, JSON.stringify(fleet(5000)));
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ configFile, 'aws:cdk:bundling-stacks': [] }),
        CDK_OUTDIR: join(dir, 'cdk.out'),
      },
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^5000 EKS access entries do not fit: .* 500 per stack/);
  }, 120_000);
});
