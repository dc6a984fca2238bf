import { readFileSync } from 'node:fs';
import type { Check } from '../../lambda/checks/check.js';
import { CHECKS } from '../../lambda/checks/index.js';
import { describeAffected } from '../../lambda/checks/identity.js';
import { workloadOf } from '../../lambda/snapshot/workloads/owners.js';
import { runChecks } from '../../lambda/checks/runner.js';
import type { Finding } from '../../lambda/config/findings.js';
import { diffReports } from '../../lambda/report/diff.js';
import { diffAgainstBaseline, parseBaseline } from '../../lambda/report/index.js';
import type { ClusterReport } from '../../lambda/report/types.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { runDemoAudit } from '../../lambda/run/demo/demo.js';
import { rollout } from '../support/rollout.js';
import { FIXTURES_DIR, loadManifests, snapshotFromManifests } from '../support/snapshot-builder.js';

const pod = (name: string, owner?: { kind: string; name: string }, hash?: string) => ({
  meta: {
    name,
    namespace: 'ns',
    labels: (hash ? { 'pod-template-hash': hash } : {}) as Record<string, string>,
    annotations: {},
    ownerReferences: owner ? [{ ...owner, controller: true }] : [],
  },
});

describe('workloadOf', () => {
  it.each([
    {
      name: 'a Deployment pod is filed under the Deployment (ReplicaSet name minus pod-template-hash)',
      pod: pod('app-7d9f8b6c5-kx4wz', { kind: 'ReplicaSet', name: 'app-7d9f8b6c5' }, '7d9f8b6c5'),
      expected: { kind: 'Deployment', namespace: 'ns', name: 'app' },
    },
    {
      name: 'a ReplicaSet pod without the hash label still loses the ReplicaSet suffix',
      pod: pod('web-api-5f8d7c9b6d-7m2qp', { kind: 'ReplicaSet', name: 'web-api-5f8d7c9b6d' }),
      expected: { kind: 'Deployment', namespace: 'ns', name: 'web-api' },
    },
    {
      name: 'a hand-made ReplicaSet with no hash suffix stays a ReplicaSet',
      pod: pod('rs-abcde', { kind: 'ReplicaSet', name: 'rs' }),
      expected: { kind: 'ReplicaSet', namespace: 'ns', name: 'rs' },
    },
    {
      name: 'a StatefulSet pod is filed under the StatefulSet',
      pod: pod('db-0', { kind: 'StatefulSet', name: 'db' }),
      expected: { kind: 'StatefulSet', namespace: 'ns', name: 'db' },
    },
    {
      name: 'a DaemonSet pod is filed under the DaemonSet',
      pod: pod('datadog-agent-x7k2p', { kind: 'DaemonSet', name: 'datadog-agent' }),
      expected: { kind: 'DaemonSet', namespace: 'ns', name: 'datadog-agent' },
    },
    {
      name: 'a CronJob run (Job <cronjob>-<minutes>) is filed under the CronJob',
      pod: pod('backup-29412345-abcde', { kind: 'Job', name: 'backup-29412345' }),
      expected: { kind: 'CronJob', namespace: 'ns', name: 'backup' },
    },
    {
      name: 'a plain Job pod is filed under the Job',
      pod: pod('migrate-x2x4z', { kind: 'Job', name: 'migrate' }),
      expected: { kind: 'Job', namespace: 'ns', name: 'migrate' },
    },
    {
      name: 'a bare pod stays a pod',
      pod: pod('debug'),
      expected: { kind: 'Pod', namespace: 'ns', name: 'debug' },
    },
  ])('$name', ({ pod: p, expected }) => {
    expect(workloadOf(p)).toEqual(expected);
  });

  it('names a few affected pods and counts the rest', () => {
    expect(describeAffected({ count: 5, names: ['a', 'b', 'c'] })).toBe(
      '5 pods: a, b, c and 2 more',
    );
    expect(describeAffected({ count: 1, names: ['a'] })).toBe('1 pod: a');
  });
});

const podDoc = (name: string, rs?: string, hash?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'ns',
    labels: hash ? { 'pod-template-hash': hash } : {},
    ownerReferences: rs
      ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, controller: true }]
      : [],
  },
  spec: { containers: [{ name: 'app', image: 'app:1' }] },
  status: { phase: 'Running' },
});

/** Fails every pod it sees, naming the pod in the message (as real checks do). */
const everyPodFails: Check = {
  id: 'every-pod-fails',
  area: 'test',
  title: 'Every pod fails',
  severity: 'high',
  resourceType: 'Pod',
  risk: 'none',
  remediation: 'none',
  requires: ['kube.pods'],
  run: (s) =>
    (s.kube.pods.status === 'ok' ? s.kube.pods.value : []).map((p) => ({
      status: 'FAIL' as const,
      resource: { kind: 'Pod', namespace: 'ns', name: p.meta.name },
      messageId: 'broken:app',
      message: `Pod ns/${p.meta.name} is broken.`,
      remediation: 'Fix it.',
    })),
};

describe('runChecks files pod results under their workload', () => {
  const replicas = [
    podDoc('app-7d9f8b6c5-zzzzz', 'app-7d9f8b6c5', '7d9f8b6c5'),
    podDoc('app-7d9f8b6c5-aaaaa', 'app-7d9f8b6c5', '7d9f8b6c5'),
    podDoc('app-7d9f8b6c5-mmmmm', 'app-7d9f8b6c5', '7d9f8b6c5'),
    podDoc('app-7d9f8b6c5-bbbbb', 'app-7d9f8b6c5', '7d9f8b6c5'),
    podDoc('debug'),
  ];

  it('makes replicas with the same problem one finding that lists the affected pods', () => {
    const findings = runChecks(snapshotFromManifests(replicas), [everyPodFails]);
    expect(findings.map((f) => [f.resource.kind, f.resource.name, f.affected])).toEqual([
      [
        'Deployment',
        'app',
        { count: 4, names: ['app-7d9f8b6c5-aaaaa', 'app-7d9f8b6c5-bbbbb', 'app-7d9f8b6c5-mmmmm'] },
      ],
      ['Pod', 'debug', undefined],
    ]);
  });

  it('keeps the ids when the Deployment rolls to a new ReplicaSet and is scaled down', () => {
    const before = runChecks(snapshotFromManifests(replicas), [everyPodFails]);
    const after = runChecks(
      snapshotFromManifests([
        podDoc('app-5c4b3a2f1-qqqqq', 'app-5c4b3a2f1', '5c4b3a2f1'),
        podDoc('debug'),
      ]),
      [everyPodFails],
    );
    expect(after.map((f) => f.id)).toEqual(before.map((f) => f.id));
  });
});

const failingIds = (r: { findings: Finding[] }) =>
  r.findings
    .filter((f) => f.status === 'FAIL')
    .map((f) => f.id)
    .sort();
const allIds = (r: { findings: Finding[] }) => r.findings.map((f) => f.id).sort();

function report(name: string, findings: Finding[]): ClusterReport {
  return {
    name,
    status: 'FAIL',
    startedAt: '2026-11-24T02:00:00.000Z',
    finishedAt: '2026-11-24T02:00:00.000Z',
    findings,
    errors: [],
    stats: { kubeListPages: 0, kubeGets: 0, awsCalls: 0, durationMs: 0 },
  };
}

describe('every check keeps its ids through a rollout, a rescale and a restart', () => {
  it.each(['healthy', 'field-report', 'token-stale', 'mixed-ec2-fargate'])(
    '%s: same ids for every result, no drift',
    (fixture) => {
      const docs = loadManifests(`${FIXTURES_DIR}/${fixture}`);
      const before = runChecks(snapshotFromManifests(docs, { cluster: fixture }), CHECKS);
      const after = runChecks(
        snapshotFromManifests(rollout(docs, { extraReplicas: 2 }), { cluster: fixture }),
        CHECKS,
      );
      expect(allIds({ findings: after })).toEqual(allIds({ findings: before }));
      const drift = diffReports(report(fixture, after), report(fixture, before));
      expect([drift.new, drift.resolved]).toEqual([[], []]);
    },
  );
});

describe('the first run after the upgrade to workload ids (real client, test API server)', () => {
  const archived = JSON.parse(
    readFileSync(
      new URL('../report/data/field-report-latest-pod-ids.json', import.meta.url),
      'utf8',
    ),
  ) as ClusterReport;
  const audit = async (manifests?: (docs: Raw[]) => Raw[]) =>
    (await runDemoAudit({ fixture: 'field-report', ...(manifests ? { manifests } : {}) }))
      .clusters[0]!;

  it('reads an archive whose pod findings carry pod ids (the test data is what the old code wrote)', () => {
    const podFailures = archived.findings.filter(
      (f) => f.status === 'FAIL' && f.resource.kind === 'Pod',
    );
    expect(podFailures.map((f) => f.resource.name)).toEqual(['golang-app-7d9f8b6c5-kx4wz']);
  });

  it.each([
    { name: 'the same pods', manifests: undefined },
    { name: 'a rollout and a rescale since', manifests: (d: Raw[]) => rollout(d) },
  ])(
    'matches the old pod ids to workload findings: no new, no resolved ($name)',
    async ({ manifests }) => {
      const current = await audit(manifests);
      expect(failingIds(current)).not.toEqual(failingIds(archived));
      const drift = diffReports(current, archived);
      expect(drift.new.map((f) => f.id)).toEqual([]);
      expect(drift.resolved.map((f) => f.id)).toEqual([]);
      expect(drift.unchanged.map((f) => f.checkId).sort()).toEqual([
        'rbac-agent-contract',
        'token-ref-resolves',
      ]);
    },
  );

  it('matches them through a --baseline file too, even without message ids (--format json)', async () => {
    const cluster = await audit((d) => rollout(d));
    const current = {
      runId: 'r2',
      startedAt: cluster.startedAt,
      finishedAt: cluster.finishedAt,
      trigger: 'cli' as const,
      clusters: [cluster],
    };
    const withoutMessageIds = {
      ...archived,
      findings: archived.findings.map(({ messageId: _m, ...f }) => f),
    };
    const drift = diffAgainstBaseline(current, parseBaseline(withoutMessageIds, 'old.json'))[
      'field-report'
    ]!;
    expect([drift.new.length, drift.resolved.length, drift.unchanged.length]).toEqual([0, 0, 2]);
  });

  it('still reports a pod failure that really went away as resolved', async () => {
    const current = await audit();
    current.findings = current.findings.map((f) =>
      f.checkId === 'token-ref-resolves' && f.status === 'FAIL'
        ? { ...f, status: 'PASS' as const }
        : f,
    );
    const drift = diffReports(current, archived);
    expect(drift.resolved.map((f) => f.resource.name)).toEqual(['golang-app-7d9f8b6c5-kx4wz']);
  });
});
