import type { CheckResult } from '../../config/findings.js';
import {
  itemsOf,
  valueOf,
  type AccessEntry,
  type AwsAuth,
  type AwsAuthRoleMapping,
  type ClusterSnapshot,
} from '../../snapshot/snapshot.js';
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
 * The aws-auth username and groups EKS writes for a Fargate pod execution role (EKS user guide:
 * pod execution role; the access entry type FARGATE_LINUX grants the same).
 */
export const FARGATE_NODE_USERNAME = 'system:node:{{SessionName}}';
export const FARGATE_NODE_GROUPS = ['system:bootstrappers', 'system:nodes', 'system:node-proxier'];

/**
 * The mapRoles entry aws-iam-authenticator uses for a role: it looks up the caller's canonical ARN
 * (`arn:aws:iam::<account>:role/<name>`, never a path), lowercased, among the lowercased rolearns;
 * a later entry replaces an earlier one.
 */
function awsAuthMapping(auth: AwsAuth, role: string): AwsAuthRoleMapping | undefined {
  const canonical = withoutPath(role).toLowerCase();
  return auth.mapRoles.findLast((m) => m.rolearn.toLowerCase() === canonical);
}

function mapRolesEntry(role: string): string {
  return `- rolearn: ${withoutPath(role)}\n  username: ${FARGATE_NODE_USERNAME}\n  groups:\n${FARGATE_NODE_GROUPS.map((g) => `    - ${g}`).join('\n')}`;
}

const AWS_AUTH_REF = 'kube-system/aws-auth';

/**
 * The kubelet on each Fargate node authenticates as the profile's pod execution role. EKS maps it
 * through an access entry of type FARGATE_LINUX (API and API_AND_CONFIG_MAP modes) or through
 * `kube-system/aws-auth` mapRoles (CONFIG_MAP and API_AND_CONFIG_MAP modes); where both exist the
 * access entry wins. Without a mapping Fargate nodes do not register and the pods stay Pending.
 */
export const fargateExecutionRoleMapped: Check = {
  id: 'fargate-execution-role-mapped',
  area: 'fargate',
  title: 'Every Fargate pod execution role is mapped (FARGATE_LINUX access entry or aws-auth)',
  severity: 'critical',
  resourceType: 'FargateProfile',
  risk: 'Without a FARGATE_LINUX access entry (or aws-auth mapping) for the pod execution role, the Fargate kubelet cannot join the cluster: every pod of the profile, agent sidecars and Cluster Agent included, stays Pending.',
  remediation:
    'Create the access entry: aws eks create-access-entry --cluster-name <cluster> --principal-arn <podExecutionRoleArn> --type FARGATE_LINUX (CONFIG_MAP mode: map the role in kube-system/aws-auth mapRoles).',
  requires: ['aws.fargateProfiles', 'aws.cluster'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const cluster = valueOf(snapshot.aws.cluster);
    const name = cluster?.name || snapshot.cluster.name;
    const mode = cluster?.authenticationMode ?? 'CONFIG_MAP';
    const region = snapshot.cluster.region ? ` --region ${snapshot.cluster.region}` : '';
    const entries = snapshot.aws.accessEntries;
    const usesEntries = mode !== 'CONFIG_MAP';
    const usesAwsAuth = mode !== 'API';
    const awsAuth = snapshot.kube.awsAuth;
    const auth = awsAuth?.status === 'ok' ? awsAuth.value : undefined;
    const results: CheckResult[] = [];

    // A malformed aws-auth is a finding of its own, whichever role it concerns.
    if (usesAwsAuth && auth && auth.problems.length > 0) {
      results.push({
        status: 'FAIL',
        severity: auth.problems.some((p) => p.fatal) ? 'critical' : 'high',
        resource: { kind: 'ConfigMap', namespace: 'kube-system', name: 'aws-auth' },
        messageId: 'aws-auth-malformed',
        message: `${AWS_AUTH_REF} on cluster ${name} cannot be read as EKS reads it: ${auth.problems
          .map((p) => `data.mapRoles line ${p.line}: ${p.message}`)
          .join('; ')}.`,
        remediation: `kubectl edit configmap aws-auth -n kube-system and fix data.mapRoles at line ${auth.problems[0]!.line}: a YAML list of entries with rolearn, username and groups.`,
      });
    }

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
      const addMapping = `kubectl edit configmap aws-auth -n kube-system and add to data.mapRoles:\n${mapRolesEntry(role)}`;
      // Access entries first: where both exist, EKS uses the access entry.
      if (usesEntries) {
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
        const matches: AccessEntry[] = itemsOf(entries).filter((e) =>
          sameRole(e.principalArn, role),
        );
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
            message: `Pod execution role ${role} of Fargate profile ${p.name} has an access entry of type ${types}, not FARGATE_LINUX${
              usesAwsAuth ? ' (the access entry wins over any aws-auth mapping)' : ''
            }: the Fargate kubelet does not get the node permissions.`,
            remediation: `The type of an access entry cannot change: aws eks delete-access-entry${region} --cluster-name ${name} --principal-arn ${role}, then ${create}.`,
          });
          continue;
        }
        if (!usesAwsAuth) {
          results.push({
            status: 'FAIL',
            resource,
            messageId: 'missing-entry',
            message: `Pod execution role ${role} of Fargate profile ${p.name} has no access entry on cluster ${name} (authentication mode ${mode}): Fargate nodes of this profile cannot register, so its pods stay Pending.`,
            remediation: create,
          });
          continue;
        }
      }

      // aws-auth: CONFIG_MAP mode, or API_AND_CONFIG_MAP without an access entry for the role.
      const fix = usesEntries
        ? `${create} (it wins over aws-auth and survives the move to API mode)`
        : addMapping;
      if (!auth) {
        const why =
          awsAuth === undefined
            ? 'it was not collected'
            : awsAuth.status === 'error'
              ? `it could not be read: ${awsAuth.error.message}`
              : awsAuth.status === 'not-installed'
                ? awsAuth.detail
                : '';
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: 'aws-auth-unavailable',
          message: `${AWS_AUTH_REF} of cluster ${name} (authentication mode ${mode}) was not read (${why}): the mapping of pod execution role ${role} for profile ${p.name} is not evaluated.`,
          remediation: `Let the auditor get configmaps/aws-auth in kube-system (eks-datadog-auditor print-rbac), or check by hand that mapRoles holds:\n${mapRolesEntry(role)}`,
        });
        continue;
      }
      if (!auth.present) {
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'not-mapped',
          message: `Pod execution role ${role} of Fargate profile ${p.name} is mapped nowhere on cluster ${name} (authentication mode ${mode}): ${
            usesEntries ? 'no access entry, and ' : ''
          }no ${AWS_AUTH_REF} ConfigMap. Fargate nodes of this profile cannot register, so its pods stay Pending.`,
          remediation: usesEntries
            ? fix
            : `Create ${AWS_AUTH_REF} with data.mapRoles:\n${mapRolesEntry(role)}`,
        });
        continue;
      }
      const fatal = auth.problems.find((x) => x.fatal);
      if (fatal) {
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'aws-auth-unparsable',
          message: `${AWS_AUTH_REF} data.mapRoles line ${fatal.line} is ${fatal.message}, so EKS maps no role from it: pod execution role ${role} of Fargate profile ${p.name} is not mapped${
            usesEntries ? ' (and has no access entry)' : ''
          }.`,
          remediation: usesEntries
            ? fix
            : `kubectl edit configmap aws-auth -n kube-system: fix data.mapRoles at line ${fatal.line}, with this entry in it:\n${mapRolesEntry(role)}`,
        });
        continue;
      }
      const mapping = awsAuthMapping(auth, role);
      if (!mapping) {
        const pathed =
          withoutPath(role) !== role &&
          auth.mapRoles.find((m) => m.rolearn.toLowerCase() === role.toLowerCase());
        if (pathed) {
          results.push({
            status: 'FAIL',
            resource,
            messageId: 'aws-auth-path',
            message: `${AWS_AUTH_REF} maps ${role} with its IAM path (data.mapRoles line ${pathed.line}), which never matches: aws-iam-authenticator compares the role ARN without its path. Pod execution role of Fargate profile ${p.name} is not mapped.`,
            remediation: `kubectl edit configmap aws-auth -n kube-system: at data.mapRoles line ${pathed.line} write rolearn: ${withoutPath(role)}${
              usesEntries ? `; or ${create}` : ''
            }.`,
          });
          continue;
        }
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'not-mapped',
          message: `Pod execution role ${role} of Fargate profile ${p.name} is not in ${AWS_AUTH_REF} mapRoles${
            usesEntries ? ' and has no access entry' : ''
          } on cluster ${name} (authentication mode ${mode}): Fargate nodes of this profile cannot register, so its pods stay Pending.`,
          remediation: usesEntries ? `${fix}; or ${addMapping}` : addMapping,
        });
        continue;
      }
      const missingGroups = FARGATE_NODE_GROUPS.filter((g) => !mapping.groups.includes(g));
      const wrongUser = mapping.username !== FARGATE_NODE_USERNAME;
      if (missingGroups.length > 0 || wrongUser) {
        const what = [
          ...(wrongUser
            ? [
                `username ${mapping.username === undefined ? '(none)' : `"${mapping.username}"`}, not "${FARGATE_NODE_USERNAME}"`,
              ]
            : []),
          ...(missingGroups.length > 0 ? [`no group ${missingGroups.join(', ')}`] : []),
        ].join('; ');
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'aws-auth-wrong-mapping',
          message: `${AWS_AUTH_REF} maps pod execution role ${role} of Fargate profile ${p.name} (data.mapRoles line ${mapping.line}) with ${what}: the Fargate kubelet does not get the node identity and permissions.`,
          remediation: `kubectl edit configmap aws-auth -n kube-system: make the entry at data.mapRoles line ${mapping.line}\n${mapRolesEntry(role)}${
            usesEntries ? `\nor ${create}` : ''
          }`,
        });
        continue;
      }
      results.push({
        status: 'PASS',
        resource,
        messageId: 'mapped-aws-auth',
        message: `Pod execution role ${role} of Fargate profile ${p.name} is mapped in ${AWS_AUTH_REF} (line ${mapping.line} of data.mapRoles) with the node username and groups${
          usesEntries
            ? `; it has no access entry: create one before the cluster moves to API mode (${create})`
            : ''
        }.`,
        remediation: '',
      });
    }
    return results;
  },
};
