import { AWS_MAX_ATTEMPTS } from '../config/config.js';
import type { CollectionFailure } from '../snapshot/snapshot.js';

/** Where a failure happened, for remediations that name it. */
export interface FailurePlace {
  cluster: string;
  region?: string;
}

/**
 * What to fix for an AWS collection failure, by class: what is missing (the cluster or secret
 * name, the region, the IAM permission, the KMS key), never "transient or unexpected" for a
 * failure that says what it is.
 */
export function awsRemediation(
  f: Pick<CollectionFailure, 'kind' | 'name' | 'code'>,
  place: FailurePlace,
): string {
  const region = place.region ?? 'the configured region';
  const service = f.kind.split(':')[0] ?? '';
  const object = f.name ? ` ${f.name}` : '';
  switch (f.code) {
    case 'NotFound':
      if (service === 'secretsmanager') {
        return `Secrets Manager has no secret${object} in ${region} for the auditor's account: create it there, or set tokenSecret.id (or clusters[].tokenSecret.id for cluster ${place.cluster}) to the secret that holds the Cluster Agent token, in that cluster's region.`;
      }
      if (service === 'eks') {
        return `EKS has no ${f.kind === 'eks:DescribeCluster' ? 'cluster' : 'resource'}${object} in ${region} (${f.kind}): check clusters[].name and clusters[].region for cluster ${place.cluster} in the auditor configuration, and the account the auditor (or its roleArn) runs in.`;
      }
      return `${f.kind} found no${object} in ${region}: the cluster ${place.cluster} references an object that no longer exists; check its VPC configuration and the region in the auditor configuration.`;
    case 'AccessDenied':
      return `Grant the IAM permission ${f.kind}${f.name ? ` on ${f.name}` : ''} (region ${region}) to the auditor's IAM role, or to the role in clusters[].roleArn for cluster ${place.cluster} when it is cross-account; the CDK stack grants it for the clusters in its configuration, so redeploy after adding a cluster.`;
    case 'AssumeRoleFailed':
      return `Allow sts:AssumeRole on the roleArn of cluster ${place.cluster} for the auditor's IAM role, and make that role's trust policy trust the auditor's role.`;
    case 'DecryptionFailure':
      return `Grant kms:Decrypt on the KMS key that encrypts secret${object} (region ${region}) to the auditor's IAM role, in both the IAM policy and the key policy, and check that the key is enabled.`;
    case 'Throttled':
      return `AWS throttled ${f.kind} in ${region} after ${AWS_MAX_ATTEMPTS} attempts: re-run later, lower clusterConcurrency, or ask for a higher ${f.kind} request quota in that account.`;
    case 'NoCredentials':
    case 'InvalidCredentials':
      return `The auditor has no valid AWS credentials for ${f.kind} in ${region}: check the environment, profile or role it runs with and that they have not expired.`;
    case 'Timeout':
    case 'Network':
      return `The ${service || 'AWS'} endpoint in ${region} was unreachable from the auditor: give its subnets a NAT gateway or a ${service || 'service'} VPC endpoint, then re-run.`;
    case 'ServerError':
      return `AWS failed on its side for ${f.kind} in ${region}: re-run later; check the AWS Health Dashboard if it persists.`;
    case 'InvalidRequest':
      return `AWS refused the ${f.kind} request for${object || ` cluster ${place.cluster}`}: check the name or ARN in the auditor configuration.`;
    default:
      return `${f.kind} failed with ${f.code} in ${region}: re-run; if it persists, check the auditor role's permissions for ${f.kind}.`;
  }
}
