/**
 * Reports for the pipeline and page formats (SARIF, JUnit, HTML): one cluster with a result of
 * every kind (FAIL, PASS, MUTED with its suppression, ERROR not evaluated, a collection failure)
 * and drift of every kind (new, unchanged, resolved), plus the hostile names of ./support.ts.
 */
import { diffReports } from '../../lambda/report/diff.js';
import type { Finding } from '../../lambda/config/findings.js';
import type { AuditReport, Drift } from '../../lambda/report/types.js';
import { auditReport, clusterReport, CLUSTER, fieldReportFindings, finding } from './support.js';

export function mutedFinding(): Finding {
  return {
    ...finding({
      checkId: 'token-not-plaintext',
      severity: 'high',
      resource: { kind: 'Deployment', namespace: 'legacy', name: 'old-app' },
      messageId: 'literal-token',
      message: 'Deployment legacy/old-app sets DD_API_KEY as a literal value.',
      remediation:
        'Use valueFrom.secretKeyRef:\n    valueFrom:\n      secretKeyRef: {name: dd, key: api-key}',
    }),
    status: 'MUTED',
    suppression: {
      reason: 'Legacy app retired in Q1 <2027>',
      expires: '2027-03-31',
      owner: 'platform-team',
      source: 'config',
    },
  };
}

export function notEvaluatedFinding(): Finding {
  return finding({
    checkId: 'externalsecret-synced',
    status: 'ERROR',
    severity: 'high',
    resource: { kind: 'ExternalSecret', name: '*' },
    messageId: 'not-evaluated',
    message: 'Not evaluated: externalsecrets could not be listed (HTTP 403 Forbidden).',
    remediation: 'Fix the collection errors reported under audit-collection, then re-run.',
  });
}

export function collectionErrorFinding(): Finding {
  return finding({
    checkId: 'audit-collection',
    status: 'ERROR',
    severity: 'high',
    resource: { kind: 'externalsecrets.external-secrets.io', name: '*' },
    messageId: 'Forbidden',
    message: `Cluster ${CLUSTER}: could not read Kubernetes externalsecrets.external-secrets.io (HTTP 403 Forbidden): forbidden`,
    remediation:
      'Grant the auditor\'s group "list" on externalsecrets.external-secrets.io and re-run.',
  });
}

export const RESOLVED = finding({
  checkId: 'fargate-profile-health',
  severity: 'medium',
  resource: { kind: 'FargateProfile', name: 'golang' },
  messageId: 'inactive',
  message: 'Fargate profile golang was CREATE_FAILED.',
});

/** Every status, every drift state: `new` (the field report's first bug), `unchanged` (its second). */
export function everyKindReport(): { report: AuditReport; drift: Record<string, Drift> } {
  const field = fieldReportFindings();
  const current = clusterReport(
    [...field, mutedFinding(), notEvaluatedFinding(), collectionErrorFinding()],
    {
      errors: [
        {
          source: 'kubernetes',
          kind: 'externalsecrets.external-secrets.io',
          status: 403,
          code: 'Forbidden',
          message: 'externalsecrets.external-secrets.io is forbidden for the auditor',
        },
      ],
    },
  );
  const previous = clusterReport([field[1]!, RESOLVED]);
  return {
    report: auditReport([current]),
    drift: { [CLUSTER]: diffReports(current, previous) },
  };
}
