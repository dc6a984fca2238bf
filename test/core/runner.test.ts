import { runChecks } from '../../lambda/checks/runner.js';
import { COLLECTION_CHECK_ID } from '../../lambda/checks/check.js';
import type { Check } from '../../lambda/checks/check.js';
import { failed, snapshotFromManifests } from '../support/snapshot-builder.js';

const passing: Check = {
  id: 'always-pass',
  area: 'test',
  title: 'A check that passes',
  severity: 'high',
  resourceType: 'Pod',
  risk: 'none',
  remediation: 'none',
  requires: ['kube.pods'],
  run: () => [
    {
      status: 'PASS',
      resource: { kind: 'Pod', namespace: 'a', name: 'p' },
      messageId: 'ok',
      message: 'fine',
      remediation: '',
    },
  ],
};

const throwing: Check = {
  ...passing,
  id: 'always-throws',
  run: () => {
    throw new Error('boom at index 3');
  },
};

describe('runChecks', () => {
  it('turns each check result into a finding with the check severity, cluster and a stable id', () => {
    const snapshot = snapshotFromManifests([], { cluster: 'c1' });
    const [f] = runChecks(snapshot, [passing]);
    expect(f).toMatchObject({
      checkId: 'always-pass',
      cluster: 'c1',
      severity: 'high',
      status: 'PASS',
    });
    expect(f!.id).toMatch(/^always-pass:[0-9a-f]{16}$/);
    expect(runChecks(snapshot, [passing])[0]!.id).toBe(f!.id);
  });

  it('gives a different id for another cluster, resource or message id, and never embeds values', () => {
    const a = runChecks(snapshotFromManifests([], { cluster: 'c1' }), [passing])[0]!;
    const b = runChecks(snapshotFromManifests([], { cluster: 'c2' }), [passing])[0]!;
    expect(a.id).not.toBe(b.id);
    expect(a.id).not.toContain('c1');
  });

  it('reports a check that throws as one ERROR finding and still runs the others', () => {
    const findings = runChecks(snapshotFromManifests([]), [throwing, passing]);
    expect(findings.map((f) => [f.checkId, f.status])).toEqual([
      ['always-throws', 'ERROR'],
      ['always-pass', 'PASS'],
    ]);
    expect(findings[0]!.message).toContain('boom at index 3');
  });

  it('does not run a check whose required data failed to collect, and says it was not evaluated', () => {
    const snapshot = snapshotFromManifests([], { kube: { pods: failed('pods') } });
    const findings = runChecks(snapshot, [passing]);
    const collection = findings.filter((f) => f.checkId === COLLECTION_CHECK_ID);
    expect(collection).toHaveLength(1);
    expect(collection[0]).toMatchObject({ status: 'ERROR', resource: { kind: 'pods', name: '*' } });
    expect(collection[0]!.message).toContain('HTTP 403');
    expect(collection[0]!.remediation).toContain('print-rbac');
    const notEvaluated = findings.find((f) => f.checkId === 'always-pass')!;
    expect(notEvaluated).toMatchObject({ status: 'ERROR', messageId: 'not-evaluated' });
    expect(notEvaluated.message).toContain('kube.pods');
  });

  it('reports a failed secret GET as a collection error naming namespace and secret', () => {
    const snapshot = snapshotFromManifests([], {
      kube: {
        secrets: [
          {
            namespace: 'golang',
            name: 'golang-secrets',
            references: [],
            result: {
              status: 'error',
              error: {
                source: 'kubernetes',
                kind: 'secrets',
                namespace: 'golang',
                name: 'golang-secrets',
                status: 403,
                code: 'Forbidden',
                message: 'forbidden',
              },
            },
          },
        ],
      },
    });
    const [f] = runChecks(snapshot, []);
    expect(f!.message).toContain('secrets golang/golang-secrets');
    expect(f!.remediation).toContain('"get" on secrets');
  });
});
