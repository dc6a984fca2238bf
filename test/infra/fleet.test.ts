import { Match } from 'aws-cdk-lib/assertions';
import { STATE } from '../../infra/fleet.js';
import { synthNamed } from './support.js';

// configs.ts FLEET_300: 300 clusters across 30 member accounts, each reached through its reader role.

describe('AuditorStack with a 300-cluster configuration', () => {
  const s = synthNamed('fleet-300');

  it('synthesizes a state machine with an inline Map and a Distributed Map over the clusters', () => {
    s.template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const [sm] = Object.values(s.template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(sm!.Properties.DefinitionString);
    expect(definition).toContain(`\\"${STATE.inlineMap}\\":{\\"Type\\":\\"Map\\"`);
    expect(definition).toContain('\\"Mode\\":\\"DISTRIBUTED\\"');
    expect(definition).toContain('\\"MaxConcurrency\\":40');
    expect(definition).toContain('\\"ToleratedFailurePercentage\\":5');
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it('carries the cluster list in no function environment', () => {
    const functions = Object.values(s.template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      const env = JSON.stringify(fn.Properties.Environment ?? {});
      expect(env).not.toContain('team-0-fargate');
      expect(env).not.toContain('AUDITOR_CONFIG"');
      expect(Buffer.byteLength(env)).toBeLessThan(1024);
    }
  });

  it('keeps the list in an SSM parameter, compressed to fit', () => {
    const [param] = Object.values(s.template.findResources('AWS::SSM::Parameter'));
    expect(String(param!.Properties.Value)).toMatch(/^gzip:/);
    expect(Buffer.byteLength(String(param!.Properties.Value))).toBeLessThanOrEqual(8192);
  });

  it('watches the fleet with one new-criticals and one audit-incomplete alarm, not 600, and stays under 500 resources', () => {
    const alarms = Object.values(s.template.findResources('AWS::CloudWatch::Alarm'));
    const named = (metric: string) =>
      alarms.filter((a) => a.Properties.MetricName === metric).map((a) => a.Properties.Dimensions);
    expect(named('NewCriticalFindings')).toEqual([[{ Name: 'service', Value: expect.anything() }]]);
    expect(named('AuditIncomplete')).toHaveLength(1);
    expect(named('AuditIncomplete')[0]).toHaveLength(1);
    expect(alarms.length).toBeLessThan(10);
    expect(Object.keys(s.template.toJSON().Resources).length).toBeLessThan(500);
  });

  it('alarms on failed fleet executions', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
    });
  });

  it('starts the state machine on the schedule', () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: { Arn: { Ref: s.id(s.stack.stateMachine) } },
    });
  });
});
