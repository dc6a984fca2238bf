import type { CheckResult, Severity } from '../../config/findings.js';
import { itemsOf, type ClusterSnapshot, type FargateProfile } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';

/** What each documented health issue code usually means, and where to look. */
const ISSUE_HINTS: Record<string, string> = {
  PodExecutionRoleAlreadyInUse:
    'the pod execution role is used by a profile of another cluster: give this profile its own role',
  AccessDenied:
    'EKS cannot use the pod execution role: check its trust policy allows eks-fargate-pods.amazonaws.com and it has AmazonEKSFargatePodExecutionRolePolicy',
  ClusterUnreachable: 'the cluster is unreachable from the profile: check the cluster status',
  InternalFailure:
    'an EKS internal failure: delete and recreate the profile, or contact AWS Support',
};

const STATUS_SEVERITY: Record<string, Severity> = {
  CREATE_FAILED: 'critical',
  DELETE_FAILED: 'critical',
  DELETING: 'high',
  CREATING: 'medium',
};

/**
 * Each Fargate profile is ACTIVE without health issues. A failed profile schedules nothing; a
 * deleting one stops its pods, which go Pending until another profile matches them.
 */
export const fargateProfileHealth: Check = {
  id: 'fargate-profile-health',
  area: 'fargate',
  title: 'Every Fargate profile is ACTIVE with no health issues',
  severity: 'high',
  resourceType: 'FargateProfile',
  risk: 'A Fargate profile that is not ACTIVE schedules no pods: the Cluster Agent or the application pods carrying agent sidecars stay Pending, and a DELETING profile stops the pods it runs.',
  remediation:
    'Fix the cause named in health.issues (usually the pod execution role), then delete and recreate the profile: Fargate profiles are immutable.',
  requires: ['aws.fargateProfiles'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const cluster = snapshot.cluster.name;
    const region = snapshot.cluster.region ? ` --region ${snapshot.cluster.region}` : '';
    return itemsOf(snapshot.aws.fargateProfiles).map((p): CheckResult => {
      const resource = { kind: 'FargateProfile', name: p.name };
      const issues = issuesText(p);
      if (p.status === 'ACTIVE' && p.healthIssues.length === 0) {
        return {
          status: 'PASS',
          resource,
          messageId: 'active',
          message: `Fargate profile ${p.name} is ACTIVE with no health issues.`,
          remediation: '',
        };
      }
      if (p.status === 'ACTIVE') {
        return {
          status: 'FAIL',
          resource,
          messageId: 'health-issues',
          message: `Fargate profile ${p.name} is ACTIVE but reports health issues: ${issues}.`,
          remediation: hints(p),
        };
      }
      const recreate = `aws eks delete-fargate-profile${region} --cluster-name ${cluster} --fargate-profile-name ${p.name}, then aws eks create-fargate-profile${region} --cluster-name ${cluster} --fargate-profile-name ${p.name}${
        p.podExecutionRoleArn ? ` --pod-execution-role-arn ${p.podExecutionRoleArn}` : ''
      }${p.subnets.length ? ` --subnets ${p.subnets.join(' ')}` : ''} --selectors '${JSON.stringify(
        p.selectors.map((s) =>
          Object.keys(s.labels).length
            ? { namespace: s.namespace, labels: s.labels }
            : { namespace: s.namespace },
        ),
      )}'`;
      const failed = p.status === 'CREATE_FAILED' || p.status === 'DELETE_FAILED';
      return {
        status: 'FAIL',
        severity: STATUS_SEVERITY[p.status] ?? 'high',
        resource,
        messageId: failed ? 'failed' : 'not-active',
        message: `Fargate profile ${p.name} is ${p.status}${issues ? ` (health issues: ${issues})` : ''}: it does not schedule pods${
          p.status === 'DELETING' ? ', and the pods it runs are being stopped' : ''
        }.`,
        remediation: failed
          ? `${p.healthIssues.length ? `${hints(p)} Then recreate the profile: ` : 'Recreate the profile: '}${recreate}.`
          : p.status === 'CREATING'
            ? `Wait for profile ${p.name} to become ACTIVE (aws eks describe-fargate-profile${region} --cluster-name ${cluster} --fargate-profile-name ${p.name}); if it stays CREATING, check its health issues.`
            : `Make sure another ACTIVE profile selects the pods of ${p.name} (selectors ${selectorsText(p)}) before it is gone.`,
      };
    });
  },
};

function issuesText(p: FargateProfile): string {
  return p.healthIssues
    .map(
      (i) =>
        `${i.code ?? 'Unknown'}${i.message ? ` (${i.message})` : ''}${i.resourceIds.length ? ` on ${i.resourceIds.join(', ')}` : ''}`,
    )
    .join('; ');
}

function hints(p: FargateProfile): string {
  const lines = p.healthIssues.map(
    (i) => `${i.code ?? 'Unknown'}: ${ISSUE_HINTS[i.code ?? ''] ?? 'see the issue message'}`,
  );
  return `Fargate profile ${p.name}: ${[...new Set(lines)].join('; ')}.`;
}

function selectorsText(p: FargateProfile): string {
  return p.selectors
    .map((s) => {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`);
      return labels.length ? `${s.namespace} [${labels.join(', ')}]` : s.namespace;
    })
    .join('; ');
}
