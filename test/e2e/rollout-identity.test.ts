/**
 * Two audits of the field report's broken cluster through the real client and collector against
 * the test API server, with a rollout (new ReplicaSet hash, new pod names) and a rescale in
 * between: the same FAIL ids and no drift.
 */
import { runDemoAudit } from '../../lambda/run/demo/demo.js';
import { diffReports } from '../../lambda/report/diff.js';
import { rollout } from '../support/rollout.js';

describe('a rollout and a rescale of the field-report cluster', () => {
  it('keep every FAIL id, list the new pods and produce no drift', async () => {
    const first = (await runDemoAudit({ fixture: 'field-report' })).clusters[0]!;
    const second = (
      await runDemoAudit({
        fixture: 'field-report',
        manifests: (docs) => rollout(docs, { generation: 'next', extraReplicas: 1 }),
      })
    ).clusters[0]!;
    const failing = (fs: typeof first.findings) =>
      fs
        .filter((f) => f.status === 'FAIL')
        .map((f) => `${f.id} ${f.resource.kind}/${f.resource.name}`);

    expect(failing(second.findings)).toEqual(failing(first.findings));
    expect(failing(first.findings)).toEqual([
      expect.stringMatching(/^token-ref-resolves:[0-9a-f]{16} Deployment\/golang-app$/),
      expect.stringMatching(/^rbac-agent-contract:[0-9a-f]{16} ServiceAccount\/golang-app$/),
    ]);
    const dangling = (fs: typeof first.findings) =>
      fs.find((f) => f.checkId === 'token-ref-resolves' && f.status === 'FAIL')!.affected;
    expect(dangling(first.findings)).toEqual({ count: 1, names: ['golang-app-7d9f8b6c5-kx4wz'] });
    expect(dangling(second.findings)!.count).toBe(2);
    expect(dangling(second.findings)!.names.every((n) => n.startsWith('golang-app-'))).toBe(true);
    expect(dangling(second.findings)!.names).not.toContain('golang-app-7d9f8b6c5-kx4wz');

    const drift = diffReports(second, first);
    expect({ new: drift.new.length, resolved: drift.resolved.length }).toEqual({
      new: 0,
      resolved: 0,
    });
    expect(drift.unchanged.length).toBe(2);
  });
});
