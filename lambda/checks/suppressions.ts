/**
 * Accepted risks applied to a cluster's findings: matching FAIL findings become MUTED, the rule
 * (configuration, config/suppressions.ts) or the object's annotation saying why and until when.
 */
import { findingId, type Finding, type ResourceRef, type Suppression } from '../config/findings.js';
import { globRegExp } from '../config/glob.js';
import {
  expiryProblem,
  SUPPRESS_ANNOTATION,
  SUPPRESSIONS_CHECK_ID,
  runDay,
  suppressionSchema,
  type SuppressionRule,
} from '../config/suppressions.js';
import type { ClusterSnapshot, ObjectMeta } from '../snapshot/snapshot.js';

function matchesRule(rule: SuppressionRule, f: Finding): boolean {
  return (
    globRegExp(rule.check).test(f.checkId) &&
    (rule.cluster === undefined || globRegExp(rule.cluster).test(f.cluster)) &&
    (rule.namespace === undefined || globRegExp(rule.namespace).test(f.resource.namespace ?? '')) &&
    (rule.kind === undefined || globRegExp(rule.kind).test(f.resource.kind)) &&
    (rule.name === undefined || globRegExp(rule.name).test(f.resource.name))
  );
}

// ---------------------------------------------------------------------------------------------
// Annotations
// ---------------------------------------------------------------------------------------------

export interface AnnotationSuppression {
  check: string;
  reason: string;
  expires: string;
  owner?: string;
}

/** Parses one annotation value: suppressions, and one problem per line that is not one. */
export function parseSuppressAnnotation(
  value: string,
  now: Date,
): { rules: AnnotationSuppression[]; problems: string[] } {
  const rules: AnnotationSuppression[] = [];
  const problems: string[] = [];
  for (const raw of value.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [check, ...parts] = line.split(';').map((p) => p.trim());
    const fields: Record<string, string> = {};
    let bad: string | undefined;
    for (const part of parts) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const key = eq > 0 ? part.slice(0, eq).trim() : '';
      if (!['reason', 'expires', 'owner'].includes(key)) {
        bad = `"${part}" is not reason=..., expires=YYYY-MM-DD or owner=...`;
        break;
      }
      fields[key] = part.slice(eq + 1).trim();
    }
    const parsed = suppressionSchema.safeParse({ check, ...fields });
    if (!bad && !parsed.success) {
      const issue = parsed.error.issues[0]!;
      bad = `${issue.path.join('.') || 'value'}: ${issue.message}`;
    }
    if (!bad && parsed.success) bad = expiryProblem(parsed.data.expires, now);
    if (bad || !parsed.success) {
      problems.push(
        `"${line.slice(0, 120)}": ${bad ?? 'invalid'} (format: <check-id>; reason=<why>; expires=YYYY-MM-DD; owner=<who>)`,
      );
      continue;
    }
    const { reason, expires, owner } = parsed.data;
    rules.push({ check: parsed.data.check, reason, expires, ...(owner ? { owner } : {}) });
  }
  return { rules, problems };
}

function key(r: Pick<ResourceRef, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

/** Objects of the snapshot that carry the suppress annotation, by `kind/namespace/name`. */
function annotatedObjects(
  snapshot: ClusterSnapshot,
): Map<string, { ref: ResourceRef; value: string }> {
  const out = new Map<string, { ref: ResourceRef; value: string }>();
  const add = (kind: string, meta: ObjectMeta) => {
    const value = meta.annotations[SUPPRESS_ANNOTATION];
    if (value === undefined) return;
    const ref: ResourceRef = {
      kind,
      ...(meta.namespace ? { namespace: meta.namespace } : {}),
      name: meta.name,
    };
    out.set(key(ref), { ref, value });
  };
  const k = snapshot.kube;
  const each = <T>(c: { status: string; value?: T[] } | undefined, f: (t: T) => void) => {
    if (c?.status === 'ok') for (const t of c.value ?? []) f(t);
  };
  type Meta = { meta: ObjectMeta; kind?: string };
  const plain: [string, { status: string; value?: Meta[] }][] = [
    ['Namespace', k.namespaces],
    ['Node', k.nodes],
    ['Pod', k.pods],
    ['Service', k.services],
    ['ServiceAccount', k.serviceAccounts],
    ['ExternalSecret', k.externalSecrets],
    ['SecurityGroupPolicy', k.securityGroupPolicies],
  ];
  for (const [kind, c] of plain) each<Meta>(c, (o) => add(kind, o.meta));
  for (const c of [
    k.deployments,
    k.daemonsets,
    k.statefulsets,
    k.clusterRoles,
    k.roles,
    k.clusterRoleBindings,
    k.roleBindings,
    k.secretStores,
    k.clusterSecretStores,
  ] as { status: string; value?: Meta[] }[]) {
    each<Meta>(c, (o) => add(o.kind ?? 'Unknown', o.meta));
  }
  for (const lookup of k.secrets) {
    if (lookup.result.status === 'found') add('Secret', lookup.result.secret.meta);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------------

interface Candidate {
  matches(f: Finding): boolean;
  check: RegExp;
  suppression: Suppression;
  /** What the info findings call it and file it under. */
  label: string;
  resource: ResourceRef;
  expired: boolean;
  used: boolean;
}

function infoFinding(
  cluster: string,
  resource: ResourceRef,
  messageId: string,
  message: string,
  remediation: string,
  severity: Finding['severity'] = 'info',
): Finding {
  return {
    id: findingId(SUPPRESSIONS_CHECK_ID, cluster, resource, messageId),
    checkId: SUPPRESSIONS_CHECK_ID,
    cluster,
    severity,
    status: 'FAIL',
    resource,
    messageId,
    message,
    remediation,
  };
}

function describeRule(r: SuppressionRule): string {
  const scope = (['cluster', 'namespace', 'kind', 'name'] as const)
    .filter((k) => r[k] !== undefined)
    .map((k) => `${k}=${r[k]}`);
  return `check=${r.check}${scope.length ? ` ${scope.join(' ')}` : ''}`;
}

/**
 * Mutes the FAIL findings of one cluster that an unexpired suppression (config or annotation)
 * matches, and adds the info findings for expired, stale and invalid suppressions. Pure: the run
 * date is `now`. Config rules for other clusters (by `cluster`) are ignored here.
 */
export function applySuppressions(
  findings: Finding[],
  opts: {
    cluster: string;
    rules: readonly SuppressionRule[];
    snapshot?: ClusterSnapshot;
    now: Date;
  },
): Finding[] {
  const today = runDay(opts.now);
  const candidates: Candidate[] = [];
  const extra: Finding[] = [];

  for (const rule of opts.rules) {
    if (rule.cluster !== undefined && !globRegExp(rule.cluster).test(opts.cluster)) continue;
    const label = describeRule(rule);
    candidates.push({
      matches: (f) => matchesRule(rule, f),
      check: globRegExp(rule.check),
      suppression: {
        reason: rule.reason,
        expires: rule.expires,
        ...(rule.owner ? { owner: rule.owner } : {}),
        source: 'config',
      },
      label: `suppression ${label} (config)`,
      resource: { kind: 'Suppression', name: label },
      expired: rule.expires < today,
      used: false,
    });
  }

  if (opts.snapshot) {
    for (const { ref, value } of annotatedObjects(opts.snapshot).values()) {
      const { rules, problems } = parseSuppressAnnotation(value, opts.now);
      const where = `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
      for (const problem of problems) {
        extra.push(
          infoFinding(
            opts.cluster,
            ref,
            `invalid-annotation`,
            `Cluster ${opts.cluster}: annotation ${SUPPRESS_ANNOTATION} on ${where} is not a valid suppression and mutes nothing: ${problem}`,
            `Fix the annotation on ${where}: one line per suppression, \`<check-id>; reason=<why>; expires=YYYY-MM-DD\` with the expiry at most a year ahead, or remove it.`,
            'low',
          ),
        );
      }
      for (const r of rules) {
        const check = globRegExp(r.check);
        candidates.push({
          check,
          matches: (f) =>
            check.test(f.checkId) &&
            f.resource.kind === ref.kind &&
            (f.resource.namespace ?? '') === (ref.namespace ?? '') &&
            f.resource.name === ref.name,
          suppression: {
            reason: r.reason,
            expires: r.expires,
            ...(r.owner ? { owner: r.owner } : {}),
            source: 'annotation',
          },
          label: `suppression of ${r.check} in annotation ${SUPPRESS_ANNOTATION} on ${where}`,
          resource: ref,
          expired: r.expires < today,
          used: false,
        });
      }
    }
  }

  if (candidates.length === 0) return extra.length ? [...findings, ...extra] : findings;

  const out = findings.map((f) => {
    if (f.status === 'ERROR' && f.resource.kind === 'Check') {
      // The check did not run here: whether its suppressions still match is unknown, not stale.
      for (const c of candidates) if (c.check.test(f.checkId)) c.used = true;
    }
    if (f.status !== 'FAIL') return f;
    let muted: Finding | undefined;
    for (const c of candidates) {
      if (!c.matches(f)) continue;
      // An expired suppression still "matches" (it is not stale), but no longer mutes.
      c.used = true;
      if (!c.expired && !muted) muted = { ...f, status: 'MUTED', suppression: c.suppression };
    }
    return muted ?? f;
  });

  for (const c of candidates) {
    const by = c.suppression.owner ? ` (owner ${c.suppression.owner})` : '';
    if (c.expired) {
      extra.push(
        infoFinding(
          opts.cluster,
          c.resource,
          `expired:${c.suppression.source}:${c.label}`,
          `Cluster ${opts.cluster}: ${c.label}${by} expired on ${c.suppression.expires} and no longer mutes anything; reason given: ${c.suppression.reason}`,
          'Fix the finding it muted, or review the accepted risk and set a new expiry (at most a year ahead).',
        ),
      );
    } else if (!c.used) {
      extra.push(
        infoFinding(
          opts.cluster,
          c.resource,
          `stale:${c.suppression.source}:${c.label}`,
          `Cluster ${opts.cluster}: ${c.label}${by} matched no failing finding in this run (stale).`,
          'Remove it if the problem is fixed; otherwise correct its check, namespace, kind or name so it matches the finding (ids and resources are in the JSON report).',
        ),
      );
    }
  }
  return [...out, ...extra];
}
