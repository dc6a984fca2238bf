import type { FargateProfile } from '../../../lambda/snapshot/snapshot.js';
import { fargateProfileHealth } from '../../../lambda/checks/fargate/fargate-profile-health.js';
import { awsFromSdk } from '../../support/aws-snapshot.js';
import { baseAws, outcomes, profile, runOn } from '../../net/manifests.js';
import { ok } from '../../support/snapshot-builder.js';

const withProfiles = (...profiles: FargateProfile[]) => baseAws({ fargateProfiles: ok(profiles) });

describe('fargate-profile-health', () => {
  it.each<{
    name: string;
    profiles: FargateProfile[];
    expected: string[];
    severity?: string;
    fix?: string;
  }>([
    {
      name: 'an ACTIVE profile without health issues passes',
      profiles: [profile('fp-apps')],
      expected: ['PASS:active'],
    },
    {
      name: 'an ACTIVE profile with health issues fails and explains the code',
      profiles: [
        profile('fp-apps', {
          healthIssues: [
            { code: 'AccessDenied', message: 'role cannot be assumed', resourceIds: [] },
          ],
        }),
      ],
      expected: ['FAIL:health-issues'],
      fix: 'eks-fargate-pods.amazonaws.com',
    },
    {
      name: 'a CREATE_FAILED profile is critical and gets the recreate commands with its selectors',
      profiles: [
        profile('fp-apps', {
          status: 'CREATE_FAILED',
          selectors: [{ namespace: 'golang', labels: { team: 'core' } }],
        }),
      ],
      expected: ['FAIL:failed'],
      severity: 'critical',
      fix: `aws eks delete-fargate-profile --region eu-west-1 --cluster-name test-cluster --fargate-profile-name fp-apps, then aws eks create-fargate-profile --region eu-west-1 --cluster-name test-cluster --fargate-profile-name fp-apps --pod-execution-role-arn arn:aws:iam::123456789012:role/test-fargate-pod-execution --subnets subnet-0a0000000000000a1 subnet-0b0000000000000b2 --selectors '[{"namespace":"golang","labels":{"team":"core"}}]'`,
    },
    {
      name: 'a DELETE_FAILED profile is critical',
      profiles: [profile('fp-apps', { status: 'DELETE_FAILED' })],
      expected: ['FAIL:failed'],
      severity: 'critical',
    },
    {
      name: 'a DELETING profile is high: its pods are being stopped',
      profiles: [profile('fp-apps', { status: 'DELETING' })],
      expected: ['FAIL:not-active'],
      severity: 'high',
    },
    {
      name: 'a CREATING profile is medium',
      profiles: [profile('fp-apps', { status: 'CREATING' })],
      expected: ['FAIL:not-active'],
      severity: 'medium',
    },
    {
      name: 'every profile gets its own result',
      profiles: [profile('fp-a'), profile('fp-b', { status: 'CREATE_FAILED' })],
      expected: ['PASS:active', 'FAIL:failed'],
    },
    { name: 'no profiles, no results', profiles: [], expected: [] },
  ])('$name', ({ profiles, expected, severity, fix }) => {
    const results = runOn(fargateProfileHealth, [], withProfiles(...profiles));
    expect(outcomes(results)).toEqual(expected);
    if (severity) expect(results[0]!.severity).toBe(severity);
    if (fix) expect(results.find((r) => r.status === 'FAIL')!.remediation).toContain(fix);
  });

  it('reads a CREATE_FAILED profile straight from a DescribeFargateProfile response', () => {
    const aws = awsFromSdk({
      DescribeFargateProfile: {
        'fp-datadog': {
          fargateProfile: {
            fargateProfileName: 'fp-datadog',
            clusterName: 'test-cluster',
            podExecutionRoleArn: 'arn:aws:iam::123456789012:role/shared-role',
            subnets: ['subnet-0a0000000000000a1'],
            selectors: [{ namespace: 'datadog' }],
            status: 'CREATE_FAILED',
            health: {
              issues: [
                {
                  code: 'PodExecutionRoleAlreadyInUse',
                  message: 'Role is already used by another cluster',
                  resourceIds: ['arn:aws:iam::123456789012:role/shared-role'],
                },
              ],
            },
          },
        },
      },
    });
    const [result] = runOn(fargateProfileHealth, [], baseAws(aws));
    expect(result).toMatchObject({ status: 'FAIL', severity: 'critical', messageId: 'failed' });
    expect(result!.message).toContain('PodExecutionRoleAlreadyInUse');
    expect(result!.remediation).toContain('give this profile its own role');
  });
});
