import type { CheckResult } from '../../findings.js';
import { itemsOf, valueOf, type AccessEntry, type ClusterSnapshot } from '../../snapshot.js';
import type { Check } from '../check.js';

/** `arn:aws:iam::123:role/path/name` -> `arn:aws:iam::123:role/name`: aws-auth style, path dropped. */
function withoutPath(arn: string): string {
  const m = arn.match(/^(arn:[^:]+:iam::\d+:role\/)(?:.*\/)?([^/]+)$/);
  return m ? `${m[1]}${m[2]}` : arn;
}

function sameRole(a: string, b: string): boolean {
  return a === b || withoutPath(a) === withoutPath(b);
}

/**
 * The kubelet on each Fargate node authenticates as the profile's pod execution role. In API (or
 * API_AND_CONFIG_MAP) mode it needs an access entry of type FARGATE_LINUX; without it Fargate
 * nodes do not register and the pods stay Pending.
 */
export const fargateExecutionRoleMapped: Check = {
  id: 'fargate-execution-role-mapped',
  area: 'fargate',
  title: 'Every Fargate pod execution role has a FARGATE_LINUX access entry',
  severity: 'critical',
  resourceType: 'FargateProfile',
  risk: 'Without a FARGATE_LINUX access entry (or aws-auth mapping) for the pod execution role, the Fargate kubelet cannot join the cluster: every pod of the profile, agent sidecars and Cluster Agent included, stays Pending.',
  remediation:
    'Create the access entry: aws eks create-access-entry --cluster-name <cluster> --principal-arn <podExecutionRoleArn> --type FARGATE_LINUX.',
  requires: ['aws.fargateProfiles', 'aws.cluster'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const cluster = valueOf(snapshot.aws.cluster);
    const name = cluster?.name || snapshot.cluster.name;
    const mode = cluster?.authenticationMode ?? 'CONFIG_MAP';
    const region = snapshot.cluster.region ? ` --region ${snapshot.cluster.region}` : '';
    const entries = snapshot.aws.accessEntries;
    const results: CheckResult[] = [];

    for (const p of itemsOf(snapshot.aws.fargateProfiles)) {
      const resource = { kind: 'FargateProfile', name: p.name };
      const role = p.podExecutionRoleArn;
      if (!role) {
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: 'no-role',
          message: `Fargate profile ${p.name} shows no podExecutionRoleArn in DescribeFargateProfile.`,
          remediation: `Check the profile by hand: aws eks describe-fargate-profile${region} --cluster-name ${name} --fargate-profile-name ${p.name}.`,
        });
        continue;
      }
      const create = `aws eks create-access-entry${region} --cluster-name ${name} --principal-arn ${role} --type FARGATE_LINUX`;
      if (mode === 'CONFIG_MAP') {
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: 'config-map-mode',
          message: `Cluster ${name} authenticates with the aws-auth ConfigMap only (CONFIG_MAP mode), which the auditor does not read: the mapping of pod execution role ${role} for profile ${p.name} is not evaluated.`,
          remediation: `Confirm kube-system/aws-auth mapRoles maps ${withoutPath(role)} with groups system:bootstrappers, system:nodes, system:node-proxier; or switch to access entries: aws eks update-cluster-config${region} --name ${name} --access-config authenticationMode=API_AND_CONFIG_MAP.`,
        });
        continue;
      }
      if (entries.status !== 'ok') {
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: 'entries-unavailable',
          message: `Access entries of cluster ${name} were not collected (${
            entries.status === 'error' ? entries.error.message : entries.detail
          }): the mapping of pod execution role ${role} for profile ${p.name} is not evaluated.`,
          remediation: `Allow eks:ListAccessEntries and eks:DescribeAccessEntry for the auditor's role, or check by hand: aws eks describe-access-entry${region} --cluster-name ${name} --principal-arn ${role}.`,
        });
        continue;
      }
      const matches: AccessEntry[] = itemsOf(entries).filter((e) => sameRole(e.principalArn, role));
      const fargate = matches.find((e) => e.type === 'FARGATE_LINUX');
      if (fargate) {
        results.push({
          status: 'PASS',
          resource,
          messageId: 'mapped',
          message: `Pod execution role ${role} of Fargate profile ${p.name} has a FARGATE_LINUX access entry.`,
          remediation: '',
        });
        continue;
      }
      if (matches.length > 0) {
        const types = matches.map((e) => e.type ?? 'STANDARD').join(', ');
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'wrong-type',
          message: `Pod execution role ${role} of Fargate profile ${p.name} has an access entry of type ${types}, not FARGATE_LINUX: the Fargate kubelet does not get the node permissions.`,
          remediation: `The type of an access entry cannot change: aws eks delete-access-entry${region} --cluster-name ${name} --principal-arn ${role}, then ${create}.`,
        });
        continue;
      }
      const configMapToo = mode === 'API_AND_CONFIG_MAP';
      results.push({
        status: 'FAIL',
        ...(configMapToo ? { severity: 'medium' as const } : {}),
        resource,
        messageId: 'missing-entry',
        message: `Pod execution role ${role} of Fargate profile ${p.name} has no access entry on cluster ${name} (authentication mode ${mode})${
          configMapToo
            ? ': it works only while kube-system/aws-auth still maps it, which the auditor does not read, and breaks when the cluster moves to API mode'
            : ': Fargate nodes of this profile cannot register, so its pods stay Pending'
        }.`,
        remediation: create,
      });
    }
    return results;
  },
};
