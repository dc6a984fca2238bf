/**
 * The fleet state machine's test world: the synthesized definition with plain ARNs, the real
 * fleet handlers over an in-memory S3 (aws-sdk-client-mock), mocked SNS and fixture snapshots.
 */
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { CHECKS } from '../../lambda/checks/index.js';
import { parseConfig, type AuditorConfig, type ClusterConfig } from '../../lambda/config/config.js';
import { createFleetHandlers, type FleetHandlers } from '../../lambda/run/fleet/handlers.js';
import { recordingLogger, recordingMetrics } from '../handler/support.js';
import type { StackConfigName } from '../infra/configs.js';
import { flat, synth, synthNamed } from '../infra/support.js';
import { fakeS3 } from '../report/fake-s3.js';
import { fixtureAws } from '../support/aws-snapshot.js';
import { FIXTURES_DIR, loadManifests, snapshotFromManifests } from '../support/snapshot-builder.js';

// asl-validator is CommonJS without type declarations.
export const aslValidator = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
) => {
  isValid: boolean;
  errors: unknown[];
};

export const BUCKET = 'auditor-archive';
export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:auditor-topic';
const HEALTHY = loadManifests(join(FIXTURES_DIR, 'healthy'));
const HEALTHY_AWS = fixtureAws('healthy');

export type Definition = Record<string, unknown>;

/** The state machine of the stack synthesized for `raw`, its intrinsics replaced by plain ARNs. */
export function definitionFor(raw: unknown, cached?: StackConfigName): Definition {
  // A named configuration is read from the run's template cache (test/infra/global-setup.js).
  const s = cached ? synthNamed(cached) : synth(raw);
  const sm = s.template.findResources('AWS::StepFunctions::StateMachine');
  const [only] = Object.values(sm);
  const text = String(flat(only!.Properties.DefinitionString))
    .replace(/\{(\w+)\.Arn\}/g, 'arn:aws:lambda:eu-west-1:123456789012:function:$1')
    .replace(new RegExp(`\\{${s.id(s.stack.archive)}\\}`, 'g'), BUCKET);
  return JSON.parse(text) as Definition;
}

export const clusters = (names: string[]) => names.map((name) => ({ name, region: 'eu-west-1' }));

export interface World {
  handlers: FleetHandlers;
  config: AuditorConfig;
  s3: ReturnType<typeof fakeS3>;
  published: () => number;
  metrics: ReturnType<typeof recordingMetrics>;
}

export function world(
  raw: Record<string, unknown>,
  opts: { slow?: Record<string, number> } = {},
): World {
  const config = parseConfig({ ...raw, topicArn: TOPIC, archiveBucket: BUCKET }, 'test');
  const s3 = fakeS3();
  const sns = new SNSClient({ region: 'eu-west-1' });
  const snsMock = mockClient(sns);
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  let run = 0;
  const metrics = recordingMetrics();
  const handlers = createFleetHandlers({
    loadConfig: () => config,
    s3: s3.s3,
    sns,
    logger: recordingLogger(),
    metrics,
    newRunId: () => `2026-12-02T02-00-00Z-run${++run}`,
    marginMs: 0,
    audit: {
      checks: CHECKS,
      now: () => new Date(),
      collect: async (cluster: ClusterConfig) => {
        const delay = opts.slow?.[cluster.name];
        if (delay) await new Promise((r) => setTimeout(r, delay));
        return snapshotFromManifests(HEALTHY, { cluster: cluster.name, aws: HEALTHY_AWS });
      },
    },
  });
  return {
    handlers,
    config,
    s3,
    published: () => snsMock.commandCalls(PublishCommand).length,
    metrics,
  };
}

/** Messages of the findings saying a cluster's audit itself did not run (failed, out of time). */
export function auditErrors(w: World, name: string): string[] {
  const report = w.s3.json(`reports/${name}/latest.json`) as {
    findings: { checkId: string; message: string }[];
  };
  return report.findings.filter((f) => f.checkId === 'audit-cluster').map((f) => f.message);
}

/** Lambda's context for a task: how long the invocation has left. */
export const lambdaContext = (ms: number) => {
  const deadline = Date.now() + ms;
  return { getRemainingTimeInMillis: () => deadline - Date.now() };
};
