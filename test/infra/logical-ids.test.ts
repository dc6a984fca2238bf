import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MemberStack } from '../../infra/member-stack.js';
import { LOGICAL_ID_CONFIGS } from './configs.js';
import { synth } from './support.js';

/**
 * Existing deployments keep their resources: CloudFormation replaces a resource whose logical id
 * changes. test/infra/data/logical-ids-main.json was generated on main (dcf1658) before the stack
 * became a thin app over the EksDatadogAuditor construct (test/infra/logical-id-baseline.ts).
 */
const BASELINE = JSON.parse(
  readFileSync(new URL('./data/logical-ids-main.json', import.meta.url), 'utf8'),
) as Record<string, Record<string, string>>;

/** Types whose replacement loses data, a name others refer to, or access (an ARN trusted elsewhere). */
const STATEFUL = [
  'AWS::S3::Bucket',
  'AWS::SNS::Topic',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::SQS::Queue',
  'AWS::IAM::Role',
  'AWS::SSM::Parameter',
  'AWS::EKS::AccessEntry',
  'AWS::Lambda::Function',
  'AWS::StepFunctions::StateMachine',
  'AWS::Scheduler::Schedule',
  'AWS::SNS::Subscription',
  'AWS::CloudWatch::Alarm',
  'AWS::EC2::SecurityGroup',
];

/**
 * Logical ids deliberately added or removed since the baseline, per configuration. Empty: the
 * refactor keeps every resource; nested stacks of access entries appear only above 200 clusters,
 * which no deployment of main could reach (main failed to synthesize near 465).
 */
const INTENDED: Record<string, { added: string[]; removed: string[] }> = {
  example: { added: [], removed: [] },
  full: { added: [], removed: [] },
  minimal: { added: [], removed: [] },
  thirty: { added: [], removed: [] },
  member: { added: [], removed: [] },
};

function idsOf(json: { Resources: Record<string, { Type: string }>; Outputs?: object }) {
  return {
    resources: Object.fromEntries(Object.entries(json.Resources).map(([id, r]) => [id, r.Type])),
    outputs: Object.keys(json.Outputs ?? {}).sort(),
  };
}

describe('logical ids against main', () => {
  const current: Record<string, ReturnType<typeof idsOf>> = {};
  beforeAll(() => {
    for (const [name, config] of Object.entries(LOGICAL_ID_CONFIGS)) {
      current[name] = idsOf(synth(config).template.toJSON() as never);
    }
    current.member = idsOf(
      Template.fromStack(new MemberStack(new App(), 'Member')).toJSON() as never,
    );
  }, 120_000);

  it('records a baseline for every configuration it compares', () => {
    expect(Object.keys(current).sort()).toEqual(Object.keys(INTENDED).sort());
    for (const name of Object.keys(INTENDED)) expect(BASELINE[name]).toBeDefined();
  });

  it.each(Object.keys(INTENDED))(
    'keeps the logical id and type of every stateful resource of the %s configuration',
    (name) => {
      const before = Object.entries(BASELINE[name]!).filter(([, type]) => STATEFUL.includes(type));
      expect(before.length).toBeGreaterThan(0);
      for (const [id, type] of before) {
        expect([id, current[name]!.resources[id]]).toEqual([id, type]);
      }
    },
  );

  it.each(Object.keys(INTENDED))(
    'adds and removes only the listed logical ids in the %s configuration',
    (name) => {
      const before = BASELINE[name]!;
      const now = current[name]!.resources;
      expect({
        added: Object.keys(now).filter((id) => !(id in before)),
        removed: Object.keys(before).filter((id) => !(id in now)),
      }).toEqual(INTENDED[name]);
      for (const [id, type] of Object.entries(now)) {
        if (id in before) expect([id, type]).toEqual([id, before[id]]);
      }
    },
  );

  it.each(Object.keys(LOGICAL_ID_CONFIGS))('keeps the outputs of the %s configuration', (name) => {
    expect(current[name]!.outputs).toEqual(Object.keys(BASELINE[`${name} outputs`]!).sort());
  });
});
