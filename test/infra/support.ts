import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AUDITOR_APP_CONTEXT, AuditorStack } from '../../infra/auditor-stack.js';
import { parseDeploymentConfig } from '../../infra/config.js';
import { STACK_CONFIGS, type StackConfigName } from './configs.js';
import { cachedTemplate } from './template-cache.js';

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

/** Builds the stack for one configuration: the construct tree only, nothing synthesized. */
export function build(
  raw: unknown,
  opts: { env?: boolean } = { env: true },
): { app: App; stack: AuditorStack } {
  const app = new App({ context: { ...AUDITOR_APP_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new AuditorStack(app, 'Auditor', {
    config: parseDeploymentConfig(raw, 'test config'),
    ...(opts.env ? { env: { account: ACCOUNT, region: REGION } } : {}),
  });
  return { app, stack };
}

/** Synthesizes the stack for one configuration, bundling skipped (tests need no handler build). */
export function synth(raw: unknown, opts: { env?: boolean } = { env: true }): Synth {
  const built = build(raw, opts);
  return synthOf(() => built, Template.fromStack(built.stack));
}

/**
 * The stack of a named configuration (configs.ts `STACK_CONFIGS`): its template synthesized once per
 * run and read from the cache (`Template.fromJSON`); the construct tree, which logical ids and
 * annotations come from, is built only when a test asks for it (built, not synthesized).
 */
export function synthNamed(name: StackConfigName): Synth {
  const raw = STACK_CONFIGS[name]();
  let built: { app: App; stack: AuditorStack } | undefined;
  const live = () => (built ??= build(raw));
  return synthOf(live, Template.fromJSON(namedTemplate(name)));
}

/** The template of a named configuration: from the cache, or synthesized now and cached. */
export function namedTemplate(name: StackConfigName): Record<string, unknown> {
  const raw = STACK_CONFIGS[name]();
  return cachedTemplate(name, raw, () => Template.fromStack(build(raw).stack).toJSON());
}

function synthOf(live: () => { app: App; stack: AuditorStack }, template: Template): Synth {
  const id = (construct: IConstruct) =>
    Stack.of(construct).resolve(
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
  return {
    get app() {
      return live().app;
    },
    get stack() {
      return live().stack;
    },
    template,
    id,
    statements,
  };
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
