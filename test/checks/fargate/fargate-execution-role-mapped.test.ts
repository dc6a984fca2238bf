import type { AccessEntry, AwsSnapshot } from '../../../lambda/snapshot/snapshot.js';
import { fargateExecutionRoleMapped } from '../../../lambda/checks/fargate/fargate-execution-role-mapped.js';
import { awsFromSdk } from '../../support/aws-snapshot.js';
import { cluster, EXEC_ROLE, outcomes, baseAws, profile, runOn } from '../../net/manifests.js';
import { failed, ok, snapshotFromManifests } from '../../support/snapshot-builder.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';

/** kube-system/aws-auth with this text as data.mapRoles. */
const awsAuth = (mapRoles: string): Raw => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system' },
  data: { mapRoles },
});
const FARGATE_MAPPING = (rolearn: string) => `- rolearn: ${rolearn}
  username: system:node:{{SessionName}}
  groups:
    - system:bootstrappers
    - system:nodes
    - system:node-proxier
`;
const NODE_MAPPING = `- rolearn: arn:aws:iam::123456789012:role/eks-node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
`;
const PATHED_ROLE = 'arn:aws:iam::123456789012:role/eks/fargate-exec';

const entry = (principalArn: string, type?: string): AccessEntry => ({
  principalArn,
  kubernetesGroups: [],
  ...(type ? { type } : {}),
});

function aws(
  mode: string | undefined,
  entries: AwsSnapshot['accessEntries'],
): Partial<AwsSnapshot> {
  return baseAws({
    cluster: ok(cluster(mode ? { authenticationMode: mode } : { authenticationMode: undefined })),
    fargateProfiles: ok([profile('fp-apps')]),
    accessEntries: entries,
  });
}

describe('fargate-execution-role-mapped', () => {
  it.each<{
    name: string;
    aws: Partial<AwsSnapshot>;
    expected: string[];
    severity?: string;
    fix?: string;
  }>([
    {
      name: 'a FARGATE_LINUX access entry for the pod execution role passes',
      aws: aws('API', ok([entry(EXEC_ROLE, 'FARGATE_LINUX')])),
      expected: ['PASS:mapped'],
    },
    {
      name: 'a missing entry in API mode is critical and gets the create-access-entry command',
      aws: aws('API', ok([entry('arn:aws:iam::123456789012:role/admin', 'STANDARD')])),
      expected: ['FAIL:missing-entry'],
      fix: `aws eks create-access-entry --region eu-west-1 --cluster-name test-cluster --principal-arn ${EXEC_ROLE} --type FARGATE_LINUX`,
    },
    {
      name: 'no access entry and no aws-auth ConfigMap in API_AND_CONFIG_MAP mode: mapped nowhere, critical',
      aws: aws('API_AND_CONFIG_MAP', ok([])),
      expected: ['FAIL:not-mapped'],
      fix: `aws eks create-access-entry --region eu-west-1 --cluster-name test-cluster --principal-arn ${EXEC_ROLE} --type FARGATE_LINUX`,
    },
    {
      name: 'an entry of another type fails: the type cannot change, so delete and recreate',
      aws: aws('API', ok([entry(EXEC_ROLE, 'STANDARD')])),
      expected: ['FAIL:wrong-type'],
      fix: 'aws eks delete-access-entry',
    },
    {
      name: 'CONFIG_MAP mode without an aws-auth ConfigMap: the role is mapped nowhere',
      aws: aws('CONFIG_MAP', {
        status: 'error',
        error: {
          source: 'aws',
          kind: 'eks:ListAccessEntries',
          code: 'InvalidRequestException',
          message: 'mode',
        },
      }),
      expected: ['FAIL:not-mapped'],
      fix: 'system:node:{{SessionName}}',
    },
    {
      name: 'a cluster without an authentication mode is treated as CONFIG_MAP',
      aws: aws(undefined, ok([])),
      expected: ['FAIL:not-mapped'],
      fix: 'mapRoles',
    },
    {
      name: 'unreadable access entries are not evaluated (info)',
      aws: aws('API', failed('eks:ListAccessEntries', 403, 'AccessDeniedException')),
      expected: ['ERROR:entries-unavailable'],
      severity: 'info',
    },
    {
      name: 'an entry for the role without its IAM path still matches',
      aws: baseAws({
        cluster: ok(cluster()),
        fargateProfiles: ok([
          profile('fp-apps', {
            podExecutionRoleArn: 'arn:aws:iam::123456789012:role/eks/fargate-exec',
          }),
        ]),
        accessEntries: ok([entry('arn:aws:iam::123456789012:role/fargate-exec', 'FARGATE_LINUX')]),
      }),
      expected: ['PASS:mapped'],
    },
  ])('$name', ({ aws: a, expected, severity, fix }) => {
    const results = runOn(fargateExecutionRoleMapped, [], a);
    expect(outcomes(results)).toEqual(expected);
    if (severity) expect(results[0]!.severity).toBe(severity);
    if (fix) expect(results[0]!.remediation).toContain(fix);
  });

  it.each<{
    name: string;
    mode: string;
    entries?: AwsSnapshot['accessEntries'];
    mapRoles?: string;
    role?: string;
    expected: string[];
    message?: RegExp;
    fix?: string;
  }>([
    {
      name: 'CONFIG_MAP: the pod execution role mapped in aws-auth with the node username and groups passes',
      mode: 'CONFIG_MAP',
      mapRoles: NODE_MAPPING + FARGATE_MAPPING(EXEC_ROLE),
      expected: ['PASS:mapped-aws-auth'],
      message: /line 6 of data\.mapRoles/,
    },
    {
      name: 'CONFIG_MAP: rolearn is compared as aws-iam-authenticator does, ignoring case',
      mode: 'CONFIG_MAP',
      mapRoles: FARGATE_MAPPING(EXEC_ROLE.toUpperCase().replace('ARN:AWS:IAM', 'arn:aws:iam')),
      expected: ['PASS:mapped-aws-auth'],
    },
    {
      name: 'CONFIG_MAP: a role with an IAM path is mapped by its ARN without the path',
      mode: 'CONFIG_MAP',
      role: PATHED_ROLE,
      mapRoles: FARGATE_MAPPING('arn:aws:iam::123456789012:role/fargate-exec'),
      expected: ['PASS:mapped-aws-auth'],
    },
    {
      name: 'CONFIG_MAP: a rolearn written with the IAM path never matches, and the fix drops the path',
      mode: 'CONFIG_MAP',
      role: PATHED_ROLE,
      mapRoles: FARGATE_MAPPING(PATHED_ROLE),
      expected: ['FAIL:aws-auth-path'],
      fix: 'rolearn: arn:aws:iam::123456789012:role/fargate-exec',
    },
    {
      name: 'CONFIG_MAP: a role missing from mapRoles fails critical with the mapRoles entry to add',
      mode: 'CONFIG_MAP',
      mapRoles: NODE_MAPPING,
      expected: ['FAIL:not-mapped'],
      fix: `rolearn: ${EXEC_ROLE}`,
    },
    {
      name: 'CONFIG_MAP: a mapping without system:node-proxier or the node username fails and names what is missing',
      mode: 'CONFIG_MAP',
      mapRoles: `- rolearn: ${EXEC_ROLE}
  username: fargate
  groups: [system:bootstrappers, system:nodes]
`,
      expected: ['FAIL:aws-auth-wrong-mapping'],
      message: /username "fargate".*system:node-proxier/,
    },
    {
      name: 'CONFIG_MAP: bad YAML in data.mapRoles fails and names the line; no role of it is mapped',
      mode: 'CONFIG_MAP',
      mapRoles: `- rolearn: ${EXEC_ROLE}
  username: system:node:{{SessionName}}
  groups:
    - system:bootstrappers
   - system:nodes
`,
      expected: ['FAIL:aws-auth-malformed', 'FAIL:aws-auth-unparsable'],
      message: /data\.mapRoles line 5/,
    },
    {
      name: 'CONFIG_MAP: an entry without rolearn fails naming its line; the other entries still count',
      mode: 'CONFIG_MAP',
      mapRoles: `- username: admin
  groups: [system:masters]
${FARGATE_MAPPING(EXEC_ROLE)}`,
      expected: ['FAIL:aws-auth-malformed', 'PASS:mapped-aws-auth'],
      message: /data\.mapRoles line 1: the entry has no rolearn/,
    },
    {
      name: 'API_AND_CONFIG_MAP: no access entry but mapped in aws-auth passes (and says to add the entry before API mode)',
      mode: 'API_AND_CONFIG_MAP',
      entries: ok([]),
      mapRoles: FARGATE_MAPPING(EXEC_ROLE),
      expected: ['PASS:mapped-aws-auth'],
      message: /before the cluster moves to API mode/,
    },
    {
      name: 'API_AND_CONFIG_MAP: the access entry wins over aws-auth, so an entry of the wrong type fails even when aws-auth maps the role',
      mode: 'API_AND_CONFIG_MAP',
      entries: ok([entry(EXEC_ROLE, 'STANDARD')]),
      mapRoles: FARGATE_MAPPING(EXEC_ROLE),
      expected: ['FAIL:wrong-type'],
    },
    {
      name: 'API_AND_CONFIG_MAP: the profile passes on its FARGATE_LINUX entry whatever aws-auth says; a malformed aws-auth is its own finding',
      mode: 'API_AND_CONFIG_MAP',
      entries: ok([entry(EXEC_ROLE, 'FARGATE_LINUX')]),
      mapRoles: ': not yaml [',
      expected: ['FAIL:aws-auth-malformed', 'PASS:mapped'],
    },
  ])('$name', ({ mode, entries, mapRoles, role, expected, message, fix }) => {
    const results = runOn(
      fargateExecutionRoleMapped,
      mapRoles === undefined ? [] : [awsAuth(mapRoles)],
      baseAws({
        cluster: ok(cluster({ authenticationMode: mode })),
        fargateProfiles: ok([profile('fp-apps', role ? { podExecutionRoleArn: role } : {})]),
        accessEntries: entries ?? { status: 'not-installed', detail: 'CONFIG_MAP mode' },
      }),
    );
    expect(outcomes(results)).toEqual(expected);
    expect(results.filter((r) => r.status === 'ERROR')).toEqual([]);
    if (message) expect(results.map((r) => r.message).join('\n')).toMatch(message);
    if (fix) expect(results.map((r) => r.remediation).join('\n')).toContain(fix);
  });

  it('aws-auth that could not be read is not evaluated in CONFIG_MAP mode, and not needed in API mode', () => {
    const forbidden = { awsAuth: failed<never>('configmaps', 403, 'Forbidden') };
    const run = (mode: string) =>
      fargateExecutionRoleMapped.run(
        snapshotFromManifests([], {
          aws: baseAws({
            cluster: ok(cluster({ authenticationMode: mode })),
            fargateProfiles: ok([profile('fp-apps')]),
            accessEntries: ok([entry(EXEC_ROLE, 'FARGATE_LINUX')]),
          }),
          kube: forbidden,
        }),
      );
    expect(outcomes(run('CONFIG_MAP'))).toEqual(['ERROR:aws-auth-unavailable']);
    expect(outcomes(run('API'))).toEqual(['PASS:mapped']);
    expect(outcomes(run('API_AND_CONFIG_MAP'))).toEqual(['PASS:mapped']);
  });

  it('reads DescribeCluster and DescribeAccessEntry responses as the SDK returns them', () => {
    const sdk = awsFromSdk({
      DescribeCluster: {
        cluster: {
          name: 'test-cluster',
          accessConfig: { authenticationMode: 'API' },
          resourcesVpcConfig: { clusterSecurityGroupId: 'sg-0c1a5e7e2d3f4a5b6' },
        },
      },
      ListAccessEntries: { accessEntries: [EXEC_ROLE] },
      DescribeAccessEntry: {
        [EXEC_ROLE]: {
          accessEntry: {
            clusterName: 'test-cluster',
            principalArn: EXEC_ROLE,
            kubernetesGroups: ['system:node-proxier'],
            username: 'system:node:{{SessionName}}',
            type: 'FARGATE_LINUX',
          },
        },
      },
    });
    const results = runOn(
      fargateExecutionRoleMapped,
      [],
      baseAws({ ...sdk, fargateProfiles: ok([profile('fp-apps')]) }),
    );
    expect(outcomes(results)).toEqual(['PASS:mapped']);
  });
});
