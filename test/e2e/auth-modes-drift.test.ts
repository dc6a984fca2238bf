/**
 * A cluster in each EKS authentication mode, audited twice under `notify: drift` through the real
 * client, the test API server and the real handler (SNS and S3 mocked): the Fargate pod execution
 * role is evaluated in every mode (access entries, aws-auth, or both), nothing about it is left
 * "not evaluated", the audit is complete, and the second run, finding what the first found,
 * publishes nothing and reports AuditIncomplete 0.
 */
import type { Raw } from '../../lambda/collect/kube/raw.js';
import type { AuditReport, ClusterReport } from '../../lambda/report/types.js';
import { CaseRecorder } from '../reliability/book.js';
import { handlerCase, type ClusterSetup, type HandlerOutcome } from '../reliability/harness.js';

const EXEC_ROLE = 'arn:aws:iam::123456789012:role/healthy-fargate-pod-execution';
const AWS_AUTH: Raw = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system' },
  data: {
    mapRoles: `- rolearn: ${EXEC_ROLE}
  username: system:node:{{SessionName}}
  groups:
    - system:bootstrappers
    - system:nodes
    - system:node-proxier
`,
  },
};

function setupFor(mode: 'API' | 'API_AND_CONFIG_MAP' | 'CONFIG_MAP'): ClusterSetup {
  return {
    fixture: 'healthy',
    aws: (f) => {
      f.DescribeCluster.cluster.accessConfig = { authenticationMode: mode };
      // In API_AND_CONFIG_MAP mode the role is mapped by aws-auth alone: no access entry for it.
      if (mode === 'API_AND_CONFIG_MAP') {
        f.ListAccessEntries!.accessEntries = f.ListAccessEntries!.accessEntries!.filter(
          (a: string) => a !== EXEC_ROLE,
        );
      }
    },
    ...(mode === 'API' ? {} : { manifests: (docs: Raw[]) => [...docs, AWS_AUTH] }),
  };
}

/** The cluster report the run archived. */
function archived(outcome: HandlerOutcome): ClusterReport {
  const key = [...outcome.objects.keys()].find((k) =>
    /\/report\.json$|^reports\/.*\.json$/.test(k),
  );
  const body = [...outcome.objects.entries()].find(([k]) => k.endsWith('latest.json'))?.[1];
  const report = JSON.parse(body ?? outcome.objects.get(key!)!) as AuditReport | ClusterReport;
  return 'clusters' in report ? report.clusters[0]! : report;
}

/** AuditIncomplete values the run's metrics printed (EMF lines on stdout). */
function auditIncomplete(c: CaseRecorder): number[] {
  return c.outputs
    .flatMap((o) => o.text.split('\n'))
    .filter((line) => line.includes('"AuditIncomplete"'))
    .map((line) => (JSON.parse(line) as { AuditIncomplete: number }).AuditIncomplete);
}

interface TwoRuns {
  first: HandlerOutcome;
  second: HandlerOutcome;
  c1: CaseRecorder;
  c2: CaseRecorder;
}

/** Audits `setup` twice under notify: drift (in beforeAll), the second run reading the first's archive. */
function twiceUnderDrift(name: string, setup: ClusterSetup): TwoRuns {
  const runs = {
    c1: new CaseRecorder(`${name} first run`, 'handler'),
    c2: new CaseRecorder(`${name} second run`, 'handler'),
  } as TwoRuns;
  beforeAll(async () => {
    const config = { notify: 'drift' };
    runs.first = await handlerCase(runs.c1, { clusters: [setup], config });
    runs.second = await handlerCase(runs.c2, {
      clusters: [setup],
      config,
      seed: (bucket) => {
        for (const [key, body] of runs.first.objects)
          bucket.objects.set(key, { body, etag: `"${key}"` });
      },
    });
  }, 60_000);
  return runs;
}

describe.each(['API', 'API_AND_CONFIG_MAP', 'CONFIG_MAP'] as const)(
  'a cluster in %s authentication mode, audited twice under notify: drift',
  (mode) => {
    const runs = twiceUnderDrift(mode, setupFor(mode));

    it('evaluates the pod execution role: no ERROR from fargate-execution-role-mapped, and the audit is complete', () => {
      expect(runs.first.error).toBeUndefined();
      const report = archived(runs.first);
      const role = report.findings.filter((f) => f.checkId === 'fargate-execution-role-mapped');
      expect(role.length).toBeGreaterThan(0);
      expect(role.filter((f) => f.status === 'ERROR')).toEqual([]);
      expect(role.every((f) => f.status === 'PASS')).toBe(true);
      expect(report.status).not.toBe('ERROR');
      expect(auditIncomplete(runs.c1).length).toBeGreaterThan(0);
      expect(auditIncomplete(runs.c1).every((v) => v === 0)).toBe(true);
    });

    it('publishes nothing on the second run, and AuditIncomplete stays 0', () => {
      expect(runs.second.error).toBeUndefined();
      expect(runs.second.published).toEqual([]);
      expect(auditIncomplete(runs.c2).length).toBeGreaterThan(0);
      expect(auditIncomplete(runs.c2).every((v) => v === 0)).toBe(true);
    });
  },
);

/** Every DD_SITE env entry read from a ConfigMap instead of a literal value. */
function siteFromConfigMap(docs: Raw[]): Raw[] {
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.name === 'DD_SITE' && 'value' in o) {
      delete o.value;
      o.valueFrom = { configMapKeyRef: { name: 'datadog-site', key: 'site' } };
    }
    Object.values(o).forEach(visit);
  };
  visit(docs);
  return docs;
}

describe('a fact the auditor does not evaluate (DD_SITE from a ConfigMap), audited twice under notify: drift', () => {
  const setup: ClusterSetup = { fixture: 'healthy', manifests: siteFromConfigMap };
  const runs = twiceUnderDrift('not evaluated', setup);

  it('shows the not-evaluated result as info, and the audit is still complete', () => {
    const report = archived(runs.first);
    const site = report.findings.filter((f) => f.checkId === 'dd-site-consistent');
    expect(site.length).toBeGreaterThan(0);
    const notEvaluated = site.filter((f) => f.status === 'ERROR');
    expect(notEvaluated.length).toBeGreaterThan(0);
    expect(notEvaluated.every((f) => f.severity === 'info')).toBe(true);
    expect(report.findings.filter((f) => f.status === 'FAIL')).toEqual([]);
    expect(report.errors).toEqual([]);
    expect(report.status).not.toBe('ERROR');
    expect(auditIncomplete(runs.c1).every((v) => v === 0)).toBe(true);
  });

  it('publishes nothing on the second run and never raises AuditIncomplete', () => {
    expect(runs.second.error).toBeUndefined();
    expect(runs.second.published).toEqual([]);
    expect(auditIncomplete(runs.c2).length).toBeGreaterThan(0);
    expect(auditIncomplete(runs.c2).every((v) => v === 0)).toBe(true);
  });
});
