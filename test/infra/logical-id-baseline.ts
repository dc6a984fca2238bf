/**
 * Writes test/infra/data/logical-ids-main.json: the logical id and type of every resource the
 * auditor's stacks synthesize for the named test configurations. Generated once from `main`
 * (dcf1658) before the stack became a thin app over the EksDatadogAuditor construct; the
 * logical-ids test compares today's templates with it so existing deployments keep their
 * resources. Run: npx tsx test/infra/logical-id-baseline.ts
 */
import { writeFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MemberStack } from '../../infra/member-stack.js';
import { LOGICAL_ID_CONFIGS } from './configs.js';
import { synth } from './support.js';

const out: Record<string, Record<string, string>> = {};
for (const [name, config] of Object.entries(LOGICAL_ID_CONFIGS)) {
  const json = synth(config).template.toJSON() as {
    Resources: Record<string, { Type: string }>;
    Outputs: Record<string, unknown>;
  };
  out[name] = Object.fromEntries(Object.entries(json.Resources).map(([id, r]) => [id, r.Type]));
  out[`${name} outputs`] = Object.fromEntries(
    Object.keys(json.Outputs).map((id) => [id, 'Output']),
  );
}
const member = Template.fromStack(new MemberStack(new App(), 'Member')).toJSON()
  .Resources as Record<string, { Type: string }>;
out.member = Object.fromEntries(Object.entries(member).map(([id, r]) => [id, r.Type]));
writeFileSync(
  new URL('./data/logical-ids-main.json', import.meta.url),
  `${JSON.stringify(out, null, 2)}\n`,
);
