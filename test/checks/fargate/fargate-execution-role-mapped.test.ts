import type { AccessEntry, AwsSnapshot } from '../../../lambda/snapshot.js';
import { fargateExecutionRoleMapped } from '../../../lambda/checks/fargate/fargate-execution-role-mapped.js';
import { awsFromSdk } from '../../support/aws-snapshot.js';
import { cluster, EXEC_ROLE, outcomes, baseAws, profile, runOn } from '../../net/manifests.js';
import { failed, ok } from '../../support/snapshot-builder.js';

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
      name: 'a missing entry in API_AND_CONFIG_MAP mode is medium: aws-auth may still map it',
      aws: aws('API_AND_CONFIG_MAP', ok([])),
      expected: ['FAIL:missing-entry'],
      severity: 'medium',
    },
    {
      name: 'an entry of another type fails: the type cannot change, so delete and recreate',
      aws: aws('API', ok([entry(EXEC_ROLE, 'STANDARD')])),
      expected: ['FAIL:wrong-type'],
      fix: 'aws eks delete-access-entry',
    },
    {
      name: 'CONFIG_MAP mode is reported as not evaluated (info)',
      aws: aws('CONFIG_MAP', {
        status: 'error',
        error: {
          source: 'aws',
          kind: 'eks:ListAccessEntries',
          code: 'InvalidRequestException',
          message: 'mode',
        },
      }),
      expected: ['ERROR:config-map-mode'],
      severity: 'info',
    },
    {
      name: 'a cluster without an authentication mode is treated as CONFIG_MAP',
      aws: aws(undefined, ok([])),
      expected: ['ERROR:config-map-mode'],
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
