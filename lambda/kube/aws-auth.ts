/**
 * `kube-system/aws-auth`, read the way EKS reads it. aws-iam-authenticator
 * (kubernetes-sigs/aws-iam-authenticator `pkg/mapper/configmap/configmap.go`, `ParseMap`) turns
 * `data.mapRoles` from YAML into JSON and unmarshals it into `[]RoleMapping`: bad YAML, or text
 * that is not a list, maps no role of it; an entry that cannot be read is skipped and the others
 * still count (Go's json.Unmarshal keeps going past a type error); keys match case-insensitively
 * (`rolearn`, `roleARN`); roles are keyed by the lowercased `rolearn`, a later entry replacing an
 * earlier one. Only role mappings are kept: IAM role ARNs, user names and groups, no credentials.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { AwsAuth, AwsAuthProblem, AwsAuthRoleMapping } from '../snapshot.js';
import type { Raw } from './convert.js';

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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: YamlNode | null | undefined, fallback = 1) =>
    node?.range ? lines.linePos(node.range[0]).line : fallback;
  const problems: AwsAuthProblem[] = [];
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line ?? lines.linePos(err.pos[0]).line;
    problems.push({
      line,
      fatal: true,
      message: `not valid YAML (${firstLine(err.message)})`,
    });
    return { mapRoles: [], problems };
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    return { mapRoles: [], problems };
  }
  if (!isSeq(root)) {
    problems.push({
      line: lineOf(root),
      fatal: true,
      message: 'not a list of role mappings (each entry starts with "- rolearn: ...")',
    });
    return { mapRoles: [], problems };
  }
  const mapRoles: AwsAuthRoleMapping[] = [];
  for (const item of root.items) {
    const node = item as YamlNode | null;
    const line = lineOf(node);
    if (!isMap(node)) {
      problems.push({ line, fatal: false, message: 'the entry is not a mapping: it is skipped' });
      continue;
    }
    const field = (name: string) =>
      node.items.find((p) => isScalar(p.key) && String(p.key.value).toLowerCase() === name)
        ?.value as YamlNode | null | undefined;
    const arnNode = field('rolearn');
    const rolearn = isScalar(arnNode) ? String(arnNode.value ?? '').trim() : '';
    if (!rolearn) {
      problems.push({
        line,
        fatal: false,
        message: 'the entry has no rolearn: it maps no role',
      });
      continue;
    }
    const userNode = field('username');
    const groupsNode = field('groups');
    let groups: string[] = [];
    if (isSeq(groupsNode) && groupsNode.items.every((g) => isScalar(g))) {
      groups = groupsNode.items.map((g) => String((g as { value: unknown }).value));
    } else if (groupsNode !== undefined && !(isScalar(groupsNode) && groupsNode.value === null)) {
      problems.push({
        line: lineOf(groupsNode, line),
        fatal: false,
        message: `groups of ${rolearn} is not a list of group names: it gets no group`,
      });
    }
    mapRoles.push({
      rolearn,
      ...(isScalar(userNode) && userNode.value != null ? { username: String(userNode.value) } : {}),
      groups,
      line,
    });
  }
  return { mapRoles, problems };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
