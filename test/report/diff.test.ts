import { diffReports, hasDrift } from '../../lambda/report/diff.js';
import { clusterReport, finding } from './support.js';

const dangling = finding({
  checkId: 'token-ref-resolves',
  severity: 'critical',
  messageId: 'secret-missing',
});
const rbac = finding({
  checkId: 'rbac-agent-permissions',
  resource: { kind: 'ClusterRole', name: 'datadog-agent' },
  messageId: 'missing-endpoints',
});
const sg = finding({
  checkId: 'fargate-sg-allows-5005',
  severity: 'medium',
  resource: { kind: 'SecurityGroup', name: 'sg-0abc' },
  messageId: 'port-closed',
});
const pass = (f: typeof dangling) => ({ ...f, status: 'PASS' as const, remediation: '' });
const ids = (fs: { id: string }[]) => fs.map((f) => f.id);

describe('diffReports', () => {
  it('calls every failing finding new on the first run', () => {
    const drift = diffReports(clusterReport([dangling, rbac, pass(sg)]), undefined);
    expect(drift.firstRun).toBe(true);
    expect(ids(drift.new)).toEqual([dangling.id, rbac.id]);
    expect(drift.resolved).toEqual([]);
    expect(drift.unchanged).toEqual([]);
  });

  it.each([
    {
      name: 'a finding failing only now is new',
      previous: [pass(dangling), rbac],
      current: [dangling, rbac],
      expected: { new: [dangling.id], resolved: [], unchanged: [rbac.id] },
    },
    {
      name: 'a finding failing before and passing now is resolved',
      previous: [dangling, rbac],
      current: [pass(dangling), rbac],
      expected: { new: [], resolved: [dangling.id], unchanged: [rbac.id] },
    },
    {
      name: 'a failing finding whose resource is gone (its check still ran) is resolved',
      previous: [dangling, sg],
      current: [pass(rbac), sg],
      expected: { new: [], resolved: [dangling.id], unchanged: [sg.id] },
    },
    {
      name: 'the same findings failing twice are unchanged',
      previous: [dangling, rbac],
      current: [rbac, dangling],
      expected: { new: [], resolved: [], unchanged: [dangling.id, rbac.id] },
    },
    {
      name: 'FAIL turning into ERROR under the same id stays failing',
      previous: [dangling],
      current: [{ ...dangling, status: 'ERROR' as const }, pass(rbac)],
      expected: { new: [], resolved: [], unchanged: [dangling.id] },
    },
  ])('$name', ({ previous, current, expected }) => {
    const drift = diffReports(clusterReport(current), clusterReport(previous));
    expect(drift.firstRun).toBe(false);
    expect({
      new: ids(drift.new),
      resolved: ids(drift.resolved),
      unchanged: ids(drift.unchanged),
    }).toEqual(expected);
  });

  it('does not call a finding resolved when its check could not run this time', () => {
    const notEvaluated = finding({
      checkId: 'token-ref-resolves',
      status: 'ERROR',
      resource: { kind: 'Check', name: 'token-ref-resolves' },
      messageId: 'not-evaluated',
      message: 'Not evaluated: pods could not be collected.',
    });
    const drift = diffReports(
      clusterReport([notEvaluated, pass(rbac)]),
      clusterReport([dangling, rbac]),
    );
    expect(ids(drift.resolved)).toEqual([rbac.id]);
    expect(ids(drift.notEvaluated!)).toEqual([dangling.id]);
    expect(ids(drift.new)).toEqual([notEvaluated.id]);
  });

  it('does not call anything resolved when the cluster could not be audited at all', () => {
    const unreachable = finding({
      checkId: 'audit-cluster',
      status: 'ERROR',
      severity: 'critical',
      resource: { kind: 'Cluster', name: 'golang-cluster' },
      messageId: 'unreachable',
    });
    const drift = diffReports(clusterReport([unreachable]), clusterReport([dangling, rbac]));
    expect(drift.resolved).toEqual([]);
    expect(ids(drift.notEvaluated!)).toEqual([dangling.id, rbac.id]);
    expect(ids(drift.new)).toEqual([unreachable.id]);
  });

  it('lists findings severity first', () => {
    const drift = diffReports(clusterReport([sg, rbac, dangling]), undefined);
    expect(drift.new.map((f) => f.severity)).toEqual(['critical', 'high', 'medium']);
  });
});

describe('hasDrift', () => {
  it('is true only when something is new or resolved', () => {
    const r = clusterReport([dangling]);
    expect(hasDrift(diffReports(r, r))).toBe(false);
    expect(hasDrift(diffReports(r, undefined))).toBe(true);
    expect(hasDrift(diffReports(clusterReport([pass(dangling)]), r))).toBe(true);
  });
});
