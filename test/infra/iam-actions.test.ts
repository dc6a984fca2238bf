import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ec2 from '@aws-sdk/client-ec2';
import * as eks from '@aws-sdk/client-eks';
import * as s3 from '@aws-sdk/client-s3';
import * as secretsManager from '@aws-sdk/client-secrets-manager';
import * as securityHub from '@aws-sdk/client-securityhub';
import * as sns from '@aws-sdk/client-sns';
import * as ssm from '@aws-sdk/client-ssm';
import * as sts from '@aws-sdk/client-sts';
import {
  API_ACTION_BY_COMMAND,
  AUDITOR_API_ACTIONS,
  AUDITOR_IAM_ACTIONS,
  AUDITOR_SUPPORT_ACTIONS,
  COMMANDS_SENT_BY_LIBRARIES,
  COMMANDS_WITHOUT_GRANT,
  iamActionForCommand,
} from '../../infra/iam-actions.js';
import { synthNamed, type Synth } from './support.js';

const LAMBDA_DIR = fileURLToPath(new URL('../../lambda', import.meta.url));
const SDK_BY_SERVICE: Record<string, Record<string, unknown>> = {
  ec2,
  eks,
  s3,
  secretsmanager: secretsManager,
  securityhub: securityHub,
  sns,
  ssm,
  sts,
};
const VPC_ACTIONS = Object.keys(AUDITOR_SUPPORT_ACTIONS).filter((a) =>
  /NetworkInterface|PrivateIpAddresses/.test(a),
);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** `new XCommand(` occurrences in lambda/: every AWS call our own code builds. */
function constructedCommands(): Set<string> {
  const found = new Set<string>();
  for (const file of sourceFiles(LAMBDA_DIR)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/new ([A-Z][A-Za-z0-9]*Command)\(/g)) {
      found.add(m[1]!);
    }
  }
  return found;
}

function grantedActions(s: Synth): string[] {
  return [...new Set(s.statements(s.stack.role).flatMap((st) => st.Action))].sort();
}

describe('IAM actions of the function role', () => {
  let full: Synth;
  let example: Synth;
  beforeAll(() => {
    full = synthNamed('full');
    example = synthNamed('example');
  });

  it('are exactly AUDITOR_IAM_ACTIONS when every feature is configured', () => {
    expect(grantedActions(full)).toEqual([...AUDITOR_IAM_ACTIONS]);
  });

  it('leave out the network-interface actions without a VPC, and Security Hub unless enabled', () => {
    expect(grantedActions(example)).toEqual(
      AUDITOR_IAM_ACTIONS.filter(
        (a) => !VPC_ACTIONS.includes(a) && a !== 'securityhub:BatchImportFindings',
      ),
    );
  });

  it('never use an action wildcard', () => {
    for (const s of [full, example]) {
      for (const st of s.statements(s.stack.role)) {
        for (const action of st.Action) expect(action).not.toContain('*');
      }
    }
  });

  it('map each SDK command to a real command of the service its action names', () => {
    for (const [command, action] of Object.entries(API_ACTION_BY_COMMAND)) {
      const [service, name] = action.split(':') as [string, string];
      expect(SDK_BY_SERVICE[service]).toHaveProperty(command);
      expect(command).toBe(`${name}Command`);
    }
  });

  it('cover every AWS command the code in lambda/ builds, and nothing it does not use', () => {
    const built = constructedCommands();
    for (const command of built) {
      expect(iamActionForCommand(command) === null || command in API_ACTION_BY_COMMAND).toBe(true);
    }
    const used = new Set([...built, ...Object.keys(COMMANDS_SENT_BY_LIBRARIES)]);
    expect(Object.keys(API_ACTION_BY_COMMAND).filter((c) => !used.has(c))).toEqual([]);
  });

  it('list AssumeRole as sent by the credential provider the AWS clients use', () => {
    const clients = readFileSync(join(LAMBDA_DIR, 'collect/aws/clients.ts'), 'utf8');
    expect(clients).toContain('fromTemporaryCredentials');
    // And GetParameter, sent by Powertools Parameters' SSMProvider for the configuration.
    expect(readFileSync(join(LAMBDA_DIR, 'config/source.ts'), 'utf8')).toContain(
      'new SSMProvider(',
    );
    expect(Object.keys(COMMANDS_SENT_BY_LIBRARIES)).toEqual([
      'AssumeRoleCommand',
      'GetParameterCommand',
    ]);
  });

  it('name no grant for commands that need none, and throw for an unknown command', () => {
    for (const command of Object.keys(COMMANDS_WITHOUT_GRANT)) {
      expect(iamActionForCommand(command)).toBeNull();
    }
    expect(iamActionForCommand('DescribeClusterCommand')).toBe('eks:DescribeCluster');
    expect(() => iamActionForCommand('DeleteClusterCommand')).toThrow(
      /DeleteClusterCommand has no IAM grant/,
    );
  });

  it('keep API actions and supporting actions apart', () => {
    expect(AUDITOR_API_ACTIONS.filter((a) => a in AUDITOR_SUPPORT_ACTIONS)).toEqual([]);
  });
});
