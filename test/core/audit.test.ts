import { newRunId, runAudit, type AuditDeps } from '../../lambda/run/audit.js';
import { mapLimit } from '../../lambda/collect/concurrency.js';
import type { Check } from '../../lambda/checks/check.js';
import { parseConfig } from '../../lambda/config/config.js';
import { snapshotFromManifests } from '../support/snapshot-builder.js';

const failing: Check = {
  id: 'always-fail',
  area: 'test',
  title: 'A check that fails',
  severity: 'critical',
  resourceType: 'Pod',
  risk: 'none at all',
  remediation: 'none',
  requires: [],
  run: () => [
    {
      status: 'FAIL',
      resource: { kind: 'Pod', namespace: 'a', name: 'p' },
      messageId: 'bad',
      message: 'broken',
      remediation: 'fix it',
    },
  ],
};

function deps(collect: AuditDeps['collect']): AuditDeps {
  return {
    collect,
    checks: [failing],
    now: () => new Date('2026-11-24T02:00:00Z'),
    newRunId: () => 'run-1',
  };
}

describe('runAudit', () => {
  const config = parseConfig(
    {
      region: 'eu-west-1',
      clusters: [{ name: 'good' }, { name: 'broken' }, { name: 'also-good' }],
    },
    'test',
  );

  it('audits every cluster and isolates one that cannot be collected as a critical ERROR', async () => {
    const report = await runAudit(
      config,
      config.clusters,
      deps(async (c) => {
        if (c.name === 'broken')
          throw new Error('eks:DescribeCluster failed (AccessDeniedException: not authorized)');
        return snapshotFromManifests([], { cluster: c.name });
      }),
      'scheduled',
    );
    expect(report.clusters.map((c) => [c.name, c.status])).toEqual([
      ['good', 'FAIL'],
      ['broken', 'ERROR'],
      ['also-good', 'FAIL'],
    ]);
    const broken = report.clusters[1]!;
    expect(broken.findings).toHaveLength(1);
    expect(broken.findings[0]).toMatchObject({
      checkId: 'audit-cluster',
      severity: 'critical',
      status: 'ERROR',
      resource: { kind: 'Cluster', name: 'broken' },
    });
    expect(broken.findings[0]!.message).toContain(
      'Cluster broken (eu-west-1) could not be audited: eks:DescribeCluster failed',
    );
    expect(report).toMatchObject({ runId: 'run-1', trigger: 'scheduled' });
  });

  it('marks a cluster with collection failures ERROR even when its checks pass', async () => {
    const report = await runAudit(
      config,
      [config.clusters[0]!],
      {
        ...deps(async (c) =>
          snapshotFromManifests([], {
            cluster: c.name,
            kube: {
              roles: {
                status: 'error',
                error: {
                  source: 'kubernetes',
                  kind: 'roles.rbac.authorization.k8s.io',
                  status: 403,
                  code: 'Forbidden',
                  message: 'forbidden',
                },
              },
            },
          }),
        ),
        checks: [],
      },
      'cli',
    );
    expect(report.clusters[0]!.status).toBe('ERROR');
    expect(report.clusters[0]!.errors).toHaveLength(1);
  });
});

describe('mapLimit', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it('starts nothing new after the first failure and rethrows it', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('throttled');
        return n;
      }),
    ).rejects.toThrow('throttled');
    expect(started).toEqual([1, 2]);
  });
});

describe('newRunId', () => {
  it('sorts by time and has no characters unsafe in S3 keys', () => {
    const id = newRunId(new Date('2026-11-24T02:00:00.123Z'));
    expect(id).toMatch(/^2026-11-24T02-00-00Z-[0-9a-f]{1,6}$/);
  });
});
