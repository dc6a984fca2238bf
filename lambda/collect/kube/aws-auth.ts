/**
 * `kube-system/aws-auth`, read the way EKS reads it. aws-iam-authenticator
 * (kubernetes-sigs/aws-iam-authenticator `pkg/mapper/configmap/configmap.go`, `ParseMap`) turns
 * `data.mapRoles` from YAML into JSON and unmarshals it into `[]RoleMapping`: bad YAML, or text
 * that is not a list, maps no role of it; an entry that cannot be read is skipped and the others
 * still count (Go's json.Unmarshal keeps going past a type error); keys match case-insensitively
 * (`rolearn`, `roleARN`); roles are keyed by the lowercased `rolearn`, a later entry replacing an
 * earlier one. Only role mappings are kept: IAM role ARNs, user names and groups, no credentials.
 */
// js-yaml, not yaml: @kubernetes/client-node already brings it into the function bundle.
import { load } from 'js-yaml';
import type { AwsAuth, AwsAuthProblem, AwsAuthRoleMapping } from '../../snapshot/snapshot.js';
import type { Raw } from './raw.js';

export const AWS_AUTH_NAMESPACE = 'kube-system';
export const AWS_AUTH_NAME = 'aws-auth';

/** aws-iam-authenticator's `isSkippable`: blank, `` or "" mean "no mappings". */
function skippable(text: string): boolean {
  const t = text.trim();
  return t === '' || t === '``' || t === '""';
}

/** The aws-auth ConfigMap (null when it does not exist) reduced to its role mappings. */
export function convertAwsAuth(raw: Raw | null): AwsAuth {
  if (!raw) return { present: false, mapRoles: [], problems: [] };
  const text = raw.data?.mapRoles;
  if (typeof text !== 'string' || skippable(text)) {
    return { present: true, mapRoles: [], problems: [] };
  }
  return { present: true, ...parseMapRoles(text) };
}

export function parseMapRoles(text: string): Pick<AwsAuth, 'mapRoles' | 'problems'> {
  const problems: AwsAuthProblem[] = [];
  let root: unknown;
  try {
    root = load(text);
  } catch (err) {
    const mark = (err as { mark?: { line?: number } }).mark;
    const reason = (err as { reason?: string }).reason ?? (err as Error).message;
    problems.push({
      line: (mark?.line ?? 0) + 1,
      fatal: true,
      message: `not valid YAML (${firstLine(String(reason))})`,
    });
    return { mapRoles: [], problems };
  }
  if (root === null || root === undefined || root === '') return { mapRoles: [], problems };
  if (!Array.isArray(root)) {
    problems.push({
      line: 1,
      fatal: true,
      message: 'not a list of role mappings (each entry starts with "- rolearn: ...")',
    });
    return { mapRoles: [], problems };
  }
  const lines = itemLines(text);
  const mapRoles: AwsAuthRoleMapping[] = [];
  root.forEach((item: unknown, i: number) => {
    const line = lines[i] ?? 1;
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems.push({ line, fatal: false, message: 'the entry is not a mapping: it is skipped' });
      return;
    }
    // Go's json.Unmarshal matches keys case-insensitively (`roleARN` is `rolearn`).
    const entry = item as Record<string, unknown>;
    const field = (name: string) => {
      const key = Object.keys(entry).find((k) => k.toLowerCase() === name);
      return key === undefined ? undefined : entry[key];
    };
    const arn = field('rolearn');
    const rolearn = typeof arn === 'string' ? arn.trim() : '';
    if (!rolearn) {
      problems.push({ line, fatal: false, message: 'the entry has no rolearn: it maps no role' });
      return;
    }
    const username = field('username');
    const groups = field('groups');
    const groupList = Array.isArray(groups) && groups.every((g) => typeof g === 'string');
    if (!groupList && groups !== undefined && groups !== null) {
      problems.push({
        line,
        fatal: false,
        message: `groups of ${rolearn} is not a list of group names: it gets no group`,
      });
    }
    mapRoles.push({
      rolearn,
      ...(typeof username === 'string' ? { username } : {}),
      groups: groupList ? (groups as string[]) : [],
      line,
    });
  });
  return { mapRoles, problems };
}

/**
 * The line (1-based) each top-level entry of a block list starts on: the lines that open with
 * `- ` at the list's own indentation. A flow list (`[...]`) has none; its entries report line 1.
 */
function itemLines(text: string): number[] {
  const out: number[] = [];
  let indent: number | undefined;
  text.split('\n').forEach((l, i) => {
    const m = /^( *)-(?:\s|$)/.exec(l);
    if (!m) return;
    indent ??= m[1]!.length;
    if (m[1]!.length === indent) out.push(i + 1);
  });
  return out;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
