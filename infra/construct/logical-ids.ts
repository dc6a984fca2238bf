/**
 * Logical ids for stacks that existed before the auditor became a construct. CloudFormation
 * replaces a resource whose logical id changes: a new archive bucket, topic, key, role (and so a
 * new role ARN that every member account's trust policy names). The app stack therefore lays out
 * the construct's resources under the ids the one-stack layout gave them, by leaving the
 * construct and its parts out of the path a logical id is computed from.
 */
import { createHash } from 'node:crypto';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const layers = new WeakSet<IConstruct>();

/** Marks a grouping construct whose id does not appear in logical ids under {@link legacyLogicalId}. */
export function groupingLayer(construct: IConstruct): void {
  layers.add(construct);
}

/** The logical id `element` had when every construct of the auditor sat directly in `stack`. */
export function legacyLogicalId(stack: Stack, element: CfnElement): string {
  const scopes = element.node.scopes;
  const path = scopes
    .slice(scopes.indexOf(stack) + 1)
    .filter((s) => !layers.has(s))
    .map((s) => s.node.id);
  return makeUniqueId(path);
}

/**
 * aws-cdk-lib's makeUniqueId (core/lib/private/uniqueid.ts, not exported): `Default` is dropped,
 * one short component is used as is, else the human part plus 8 hex of the path's MD5. The
 * logical-ids test holds it to the ids main synthesized.
 */
function makeUniqueId(input: string[]): string {
  const components = input.filter((c) => c !== 'Default');
  if (components.length === 0) throw new Error('Unable to calculate a unique id for an empty path');
  const alnum = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');
  if (components.length === 1 && alnum(components[0]!).length <= 255) {
    return alnum(components[0]!);
  }
  const hash = createHash('md5').update(components.join('/')).digest('hex');
  const deduped: string[] = [];
  for (const c of components) {
    if (deduped.length === 0 || !deduped[deduped.length - 1]!.endsWith(c)) deduped.push(c);
  }
  const human = deduped
    .filter((c) => c !== 'Resource')
    .map(alnum)
    .join('')
    .slice(0, 240);
  return human + hash.slice(0, 8).toUpperCase();
}
