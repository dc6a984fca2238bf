import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AUDITOR_APP_CONTEXT, AuditorStack } from '../../infra/auditor-stack.js';
import { parseDeploymentConfig } from '../../infra/config.js';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

export interface Synth {
  app: App;
  stack: AuditorStack;
  template: Template;
  /** Logical id of a construct (or of its default CloudFormation resource). */
  id(construct: IConstruct): string;
  /** Every IAM statement of one role: inline policies and attached AWS::IAM::Policy documents. */
  statements(role: IConstruct): Statement[];
}

/** An IAM statement with intrinsics flattened to readable strings (see {@link flat}). */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: unknown;
  policy: string;
}

/** Synthesizes the stack for one configuration, bundling skipped (tests need no handler build). */
export function synth(raw: unknown, opts: { env?: boolean } = { env: true }): Synth {
  const app = new App({ context: { ...AUDITOR_APP_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new AuditorStack(app, 'Auditor', {
    config: parseDeploymentConfig(raw, 'test config'),
    ...(opts.env ? { env: { account: ACCOUNT, region: REGION } } : {}),
  });
  const template = Template.fromStack(stack);
  const id = (construct: IConstruct) =>
    stack.resolve(
      ((construct.node.defaultChild as CfnElement | undefined) ?? (construct as CfnElement))
        .logicalId,
    ) as string;
  const statements = (role: IConstruct): Statement[] => {
    const roleId = id(role);
    const json = template.toJSON() as { Resources: Record<string, Resource> };
    const out: Statement[] = [];
    for (const p of json.Resources[roleId]!.Properties.Policies ?? []) {
      out.push(...normalise(p.PolicyDocument, String(p.PolicyName)));
    }
    for (const [logicalId, r] of Object.entries(json.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      const roles = (r.Properties.Roles ?? []) as { Ref: string }[];
      if (roles.some((x) => x.Ref === roleId)) {
        out.push(...normalise(r.Properties.PolicyDocument, logicalId));
      }
    }
    return out;
  };
  return { app, stack, template, id, statements };
}

interface Resource {
  Type: string;
  Properties: {
    Policies?: { PolicyName: unknown; PolicyDocument: unknown }[];
    PolicyDocument?: unknown;
    Roles?: unknown[];
  };
}

function normalise(doc: unknown, policy: string): Statement[] {
  const statements = (doc as { Statement: Record<string, unknown>[] }).Statement;
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]).map((x) => flat(x) as string);
  return statements.map((s) => ({
    ...(s.Sid ? { Sid: s.Sid as string } : {}),
    Effect: s.Effect as string,
    Action: list(s.Action),
    Resource: list(s.Resource),
    ...(s.Condition ? { Condition: flat(s.Condition) } : {}),
    policy,
  }));
}

/**
 * Flattens CloudFormation intrinsics for readable assertions: partition `aws`, `Ref X` -> `{X}`,
 * `Fn::GetAtt [X, Arn]` -> `{X.Arn}`, joins joined.
 */
export function flat(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flat);
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if ('Fn::Join' in o) {
    const [sep, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map((i) => String(flat(i))).join(sep);
  }
  if ('Ref' in o) {
    if (o.Ref === 'AWS::Partition') return 'aws';
    if (o.Ref === 'AWS::AccountId') return ACCOUNT;
    if (o.Ref === 'AWS::Region') return REGION;
    return `{${String(o.Ref)}}`;
  }
  if ('Fn::GetAtt' in o) {
    const [res, attr] = o['Fn::GetAtt'] as [string, string];
    return `{${res}.${attr}}`;
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, flat(v)]));
}
