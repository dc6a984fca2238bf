import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { EksCluster, FargateProfile } from '../../../lambda/snapshot/snapshot.js';
import { endpointReachableFromFargate } from '../../../lambda/checks/network/endpoint-reachable-from-fargate.js';
import { awsFromSdk } from '../../support/aws-snapshot.js';
import { baseAws, cluster, node, outcomes, profile, runOn } from '../../net/manifests.js';
import { failed, ok } from '../../support/snapshot-builder.js';

describe('endpoint-reachable-from-fargate', () => {
  it.each<{
    name: string;
    cluster: Partial<EksCluster>;
    profiles?: FargateProfile[];
    docs?: Raw[];
    expected: string[];
    severity?: string;
    fix?: string;
  }>([
    {
      name: 'private endpoint access on passes',
      cluster: { endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] },
      expected: ['PASS:private-endpoint'],
    },
    {
      name: 'a public-only endpoint open to 0.0.0.0/0 passes',
      cluster: { endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] },
      expected: ['PASS:public-open'],
    },
    {
      name: 'a public-only endpoint restricted by CIDR fails high with the update-cluster-config command',
      cluster: { endpointPrivateAccess: false, publicAccessCidrs: ['203.0.113.0/24'] },
      expected: ['FAIL:public-restricted-no-private'],
      severity: 'high',
      fix: 'aws eks update-cluster-config --region eu-west-1 --name test-cluster --resources-vpc-config endpointPrivateAccess=true',
    },
    {
      name: 'a restricted endpoint without any Fargate use is informational',
      cluster: { endpointPrivateAccess: false, publicAccessCidrs: ['203.0.113.0/24'] },
      profiles: [],
      expected: ['PASS:no-fargate'],
    },
    {
      name: 'Fargate nodes count as Fargate use even without profiles in the snapshot',
      cluster: { endpointPrivateAccess: false, publicAccessCidrs: ['203.0.113.0/24'] },
      profiles: [],
      docs: [node('fargate-ip-10-0-1-1')],
      expected: ['FAIL:public-restricted-no-private'],
    },
    {
      name: 'both endpoints off is inconsistent and fails',
      cluster: { endpointPrivateAccess: false, endpointPublicAccess: false },
      expected: ['FAIL:no-endpoint'],
    },
  ])('$name', ({ cluster: c, profiles, docs, expected, severity, fix }) => {
    const results = runOn(
      endpointReachableFromFargate,
      docs ?? [],
      baseAws({ cluster: ok(cluster(c)), ...(profiles ? { fargateProfiles: ok(profiles) } : {}) }),
    );
    expect(outcomes(results)).toEqual(expected);
    if (severity)
      expect(results[0]!.severity ?? endpointReachableFromFargate.severity).toBe(severity);
    if (fix) expect(results[0]!.remediation).toContain(fix);
  });

  it('still evaluates when the Fargate profile list failed but Fargate nodes exist', () => {
    const results = runOn(
      endpointReachableFromFargate,
      [node('fargate-ip-10-0-1-1')],
      baseAws({
        cluster: ok(
          cluster({ endpointPrivateAccess: false, publicAccessCidrs: ['198.51.100.7/32'] }),
        ),
        fargateProfiles: failed('eks:ListFargateProfiles', 403, 'AccessDeniedException'),
      }),
    );
    expect(outcomes(results)).toEqual(['FAIL:public-restricted-no-private']);
  });

  it('reads a DescribeCluster response as the SDK returns it, with the EKS defaults for absent flags', () => {
    const sdk = awsFromSdk({
      DescribeCluster: {
        cluster: {
          name: 'test-cluster',
          resourcesVpcConfig: {
            endpointPublicAccess: true,
            endpointPrivateAccess: false,
            publicAccessCidrs: ['203.0.113.0/24', '198.51.100.0/24'],
            clusterSecurityGroupId: 'sg-0c1a5e7e2d3f4a5b6',
          },
        },
      },
    });
    const results = runOn(
      endpointReachableFromFargate,
      [],
      baseAws({ ...sdk, fargateProfiles: ok([profile('fp-apps')]) }),
    );
    expect(outcomes(results)).toEqual(['FAIL:public-restricted-no-private']);
    expect(results[0]!.message).toContain('203.0.113.0/24, 198.51.100.0/24');
  });
});
