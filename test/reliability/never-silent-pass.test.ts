/**
 * Never a silent pass. For every registered check (CHECKS, not a hand-kept list) and every piece
 * of data it declares it needs, a snapshot where that piece failed to collect must give the check's
 * single "not evaluated" ERROR, a cluster status that is not PASS, and an email, table and markdown
 * that say "audit incomplete" with the reason. And for every piece a check does NOT declare, losing
 * it must never make the check PASS something it did not pass with the data: otherwise the check
 * declares too few `requires` and would pass on missing data.
 *
 * The snapshots are real collections of the fixture clusters (test API server, AWS mocks).
 */
import { CHECKS } from '../../lambda/checks/index.js';
import { collectionFailures, runChecks } from '../../lambda/checks/runner.js';
import type { Finding } from '../../lambda/config/findings.js';
import { renderEmail, renderSubject } from '../../lambda/report/email.js';
import { renderMarkdown } from '../../lambda/report/render-markdown.js';
import { renderTable } from '../../lambda/report/render-table.js';
import { clusterStatus, type ClusterReport } from '../../lambda/report/types.js';
import type {
  ClusterSnapshot,
  Collected,
  CollectionFailure,
  DataKey,
} from '../../lambda/snapshot/snapshot.js';
import { Book, faultCase, finalCanarySearch } from './book.js';
import { collectSnapshot } from './harness.js';

const book = new Book(import.meta.url);
finalCanarySearch(book);

const FIXTURES = ['healthy', 'field-report', 'token-stale', 'mixed-ec2-fargate'];

/** Every piece of data a check can declare, from the snapshot itself. */
function dataKeys(s: ClusterSnapshot): DataKey[] {
  return [
    ...Object.keys(s.kube)
      .filter((k) => k !== 'secrets')
      .map((k) => `kube.${k}` as DataKey),
    ...Object.keys(s.aws).map((k) => `aws.${k}` as DataKey),
  ];
}

function failure(key: DataKey): CollectionFailure {
  const [side, name] = key.split('.') as [string, string];
  return {
    source: side === 'kube' ? 'kubernetes' : 'aws',
    kind: name,
    status: 403,
    code: 'Forbidden',
    message: `${name} could not be collected (injected: 403 Forbidden)`,
  };
}

/** The snapshot with one piece of data failed to collect. */
function without(s: ClusterSnapshot, key: DataKey): ClusterSnapshot {
  const copy = structuredClone(s);
  const [side, name] = key.split('.') as ['kube' | 'aws', string];
  (copy[side] as unknown as Record<string, Collected<unknown>>)[name] = {
    status: 'error',
    error: failure(key),
  };
  return copy;
}

/** The snapshot with one Secret GET failed. */
function withoutSecret(s: ClusterSnapshot, index: number): ClusterSnapshot {
  const copy = structuredClone(s);
  const lookup = copy.kube.secrets[index]!;
  lookup.result = {
    status: 'error',
    error: {
      source: 'kubernetes',
      kind: 'secrets',
      namespace: lookup.namespace,
      name: lookup.name,
      status: 403,
      code: 'Forbidden',
      message: `secret ${lookup.namespace}/${lookup.name} could not be read (injected: 403 Forbidden)`,
    },
  };
  return copy;
}

function report(s: ClusterSnapshot, findings: Finding[]): ClusterReport {
  const errors = collectionFailures(s);
  return {
    name: s.cluster.name,
    status: clusterStatus(findings, errors),
    startedAt: s.collectedAt,
    finishedAt: s.collectedAt,
    findings,
    errors,
    stats: s.stats,
  };
}

const WORKLOAD_KEYS = new Set(['kube.deployments', 'kube.daemonsets', 'kube.statefulsets']);

/**
 * Why a PASS that the full data did not give is still honest, or undefined when it is a silent
 * pass. Two cases are the checks' documented behaviour, not a pass on missing data:
 * - without the workload lists, each Pod is judged on its own spec (the workload template is what
 *   the checks prefer, the Pod is what runs): the same verdict, on the Pod instead of its owner;
 * - the message itself says which data was unavailable and what the verdict rests on instead.
 */
function honest(
  p: Finding,
  before: Finding[],
  missing: string,
  failed: CollectionFailure | undefined,
) {
  const same = before.filter(
    (f) => f.checkId === p.checkId && f.status === 'PASS' && f.messageId === p.messageId,
  );
  if (same.some((f) => f.id === p.id)) return 'the same result as with the data';
  if (
    WORKLOAD_KEYS.has(missing) &&
    p.resource.kind === 'Pod' &&
    same.some(
      (f) =>
        f.resource.namespace === p.resource.namespace &&
        ['Deployment', 'DaemonSet', 'StatefulSet'].includes(f.resource.kind) &&
        p.resource.name.startsWith(`${f.resource.name}-`),
    )
  ) {
    return 'the Pod judged on its own spec in place of its workload';
  }
  if (failed && /unavailable/.test(p.message) && p.message.includes(`(${failed.code})`)) {
    return 'the message says the data was unavailable';
  }
  return undefined;
}

const snapshots = new Map<string, ClusterSnapshot>();
const baseline = new Map<string, Finding[]>();

beforeAll(async () => {
  for (const fixture of FIXTURES) {
    const s = await collectSnapshot({ fixture });
    expect(collectionFailures(s)).toEqual([]);
    snapshots.set(fixture, s);
    baseline.set(fixture, runChecks(s, CHECKS));
  }
});

describe('never a silent pass', () => {
  it('checks every registered check against every piece of data the snapshot has', () => {
    const keys = dataKeys(snapshots.get('healthy')!);
    expect(CHECKS.length).toBeGreaterThan(0);
    for (const check of CHECKS) {
      for (const key of check.requires) expect(keys).toContain(key);
    }
  });

  for (const check of CHECKS) {
    const needs = check.requires.length ? check.requires.join(', ') : 'nothing declared';
    faultCase(
      book,
      'silent-pass',
      `${check.id} (needs ${needs}): each needed piece missing gives "not evaluated", the cluster not PASS, and "audit incomplete" with the reason`,
      (c) => {
        for (const fixture of FIXTURES) {
          const full = snapshots.get(fixture)!;
          for (const key of check.requires) {
            c.inject();
            const s = without(full, key);
            const findings = runChecks(s, CHECKS);
            const own = findings.filter((f) => f.checkId === check.id);
            expect(own.map((f) => `${f.status} ${f.messageId}`)).toEqual(['ERROR not-evaluated']);
            expect(own[0]!.message).toContain(key);
            const r = report(s, findings);
            expect(r.status).toBe('ERROR');
            const email = renderEmail(r, undefined);
            c.record('email', email);
            const flat = email.replace(/\s+/g, ' ');
            expect(flat).toMatch(/^AUDIT INCOMPLETE: /);
            expect(flat).toContain(failure(key).message);
            expect(flat).toContain(`Not evaluated: ${check.title}`.replace(/\s+/g, ' '));
            expect(renderSubject(r, undefined)).toContain('AUDIT INCOMPLETE');
            const audit = {
              runId: 'r',
              startedAt: r.startedAt,
              finishedAt: r.finishedAt,
              trigger: 'cli' as const,
              clusters: [r],
            };
            const table = renderTable(audit);
            expect(table).toContain('AUDIT INCOMPLETE');
            expect(table).toMatch(/Summary: 1 cluster \(1 ERROR \(audit incomplete\)\)/);
            const markdown = renderMarkdown(audit);
            expect(markdown).toContain('**Audit incomplete.**');
            expect(markdown).toContain(failure(key).message);
          }
        }
        // A check without declared needs is still covered by the next test, key by key.
        if (check.requires.length === 0) c.inject();
      },
    );
  }

  faultCase(
    book,
    'silent-pass',
    'no check passes anything more when data it does not declare is missing, nor when a Secret cannot be read',
    (c) => {
      const violations: string[] = [];
      const accepted = new Set<string>();
      for (const fixture of FIXTURES) {
        const full = snapshots.get(fixture)!;
        const before = baseline.get(fixture)!;
        const variants: [string, ClusterSnapshot][] = [
          ...dataKeys(full).map((k) => [k, without(full, k)] as [string, ClusterSnapshot]),
          ...full.kube.secrets.map(
            (l, i) =>
              [`secret ${l.namespace}/${l.name}`, withoutSecret(full, i)] as [
                string,
                ClusterSnapshot,
              ],
          ),
        ];
        for (const [what, s] of variants) {
          c.inject();
          const after = runChecks(s, CHECKS);
          expect(clusterStatus(after, collectionFailures(s))).toBe('ERROR');
          const failed = collectionFailures(s)[0];
          for (const p of after.filter((f) => f.status === 'PASS')) {
            const why = honest(p, before, what, failed);
            if (why) accepted.add(`${p.checkId} without ${what}: ${why}`);
            else violations.push(`${p.checkId} without ${what} (${fixture}): PASS ${p.message}`);
          }
        }
      }
      c.record('accepted', [...accepted].sort().join('\n'));
      c.record('violations', violations.join('\n'));
      expect(violations).toEqual([]);
    },
  );

  /**
   * Hidden failures: a check that needs data but does not declare it, so losing the data makes
   * its FAIL vanish without a "not evaluated". None are known; a new one shows up here by name.
   */
  const KNOWN_HIDDEN_FAILURES: string[] = [];

  faultCase(
    book,
    'silent-pass',
    'no FAIL vanishes without a word when data the check does not declare is missing (known cases listed)',
    (c) => {
      const hidden = new Set<string>();
      for (const fixture of FIXTURES) {
        const full = snapshots.get(fixture)!;
        const before = baseline.get(fixture)!;
        for (const key of dataKeys(full)) {
          c.inject();
          const after = runChecks(without(full, key), CHECKS);
          for (const f of before.filter((x) => x.status === 'FAIL')) {
            const own = after.filter((x) => x.checkId === f.checkId);
            if (own.some((x) => x.status === 'ERROR')) continue;
            const sameOrPod = (x: Finding) =>
              x.resource.namespace === f.resource.namespace &&
              (x.resource.name === f.resource.name ||
                x.resource.name.startsWith(`${f.resource.name}-`));
            if (own.some((x) => x.status === 'FAIL' && sameOrPod(x))) continue;
            hidden.add(`${f.checkId} without ${key}`);
          }
        }
      }
      c.record('hidden-failures', [...hidden].sort().join('\n'));
      expect([...hidden].sort()).toEqual(KNOWN_HIDDEN_FAILURES);
    },
  );
});
