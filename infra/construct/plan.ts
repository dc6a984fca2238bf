/** What the constructs derive from the configuration: one plan per cluster, ARNs, names. */
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import { settingsFor, type AuditorConfig } from '../../lambda/config/config.js';

/** One configured cluster, as IAM and EKS see it. */
export interface ClusterPlan {
  name: string;
  /** The cluster's region: its own, the config's, else the stack's. */
  region: string;
  /** Cross-account (or separate) role the function assumes for everything about this cluster. */
  roleArn?: string;
  tokenSecretId: string;
  /** Secrets Manager secrets of the Datadog API and application keys (config or defaults). */
  keySecretIds: string[];
  /** An access entry is created (same account, same region as the stack, enabled in config). */
  accessEntry: boolean;
}

function keySecretIdsOf(settings: ReturnType<typeof settingsFor>): string[] {
  return [settings.apiKeySecretId, settings.appKeySecretId].filter(
    (id): id is string => id !== undefined,
  );
}

export function planClusters(
  config: AuditorConfig,
  stackRegion: string,
  createAccessEntries: boolean,
): ClusterPlan[] {
  return config.clusters.map((cluster) => {
    const explicitRegion = cluster.region ?? config.region;
    const region = explicitRegion ?? stackRegion;
    const sameRegion =
      explicitRegion === undefined ||
      (!Token.isUnresolved(stackRegion) && explicitRegion === stackRegion);
    return {
      name: cluster.name,
      region,
      ...(cluster.roleArn ? { roleArn: cluster.roleArn } : {}),
      tokenSecretId: settingsFor(config, cluster).tokenSecretId,
      keySecretIds: keySecretIdsOf(settingsFor(config, cluster)),
      accessEntry: createAccessEntries && !cluster.roleArn && sameRegion,
    };
  });
}

export function eksArn(stack: Stack, c: ClusterPlan, resource: string, suffix = ''): string {
  return stack.formatArn({
    service: 'eks',
    region: c.region,
    resource,
    resourceName: `${c.name}${suffix}`,
  });
}

/**
 * Characters the EKS statements may spend naming clusters. IAM caps a role's inline policies at
 * 10,240 characters in all; each listed cluster costs three ARNs (44 characters each plus its region and name).
 */
export const EKS_ARNS_BUDGET_CHARS = 6000;

/**
 * The clusters the EKS statements name: each one while their ARNs fit
 * {@link EKS_ARNS_BUDGET_CHARS}, else every cluster of each region they are in (`name: '*'`),
 * so a large fleet cannot push the role past IAM's policy size limit at deploy time.
 */
export function eksReadScopes(direct: ClusterPlan[]): ClusterPlan[] {
  const chars = direct.reduce((n, c) => n + 3 * (44 + c.region.length + c.name.length), 0);
  if (chars <= EKS_ARNS_BUDGET_CHARS) return direct;
  const regions = unique(direct.map((c) => c.region));
  return regions.map((region) => ({ ...direct.find((c) => c.region === region)!, name: '*' }));
}

/** A secret named by id gets AWS's random 6-character suffix; an ARN is taken as given. */
export function secretArn(stack: Stack, secretId: string, region?: string): string {
  if (secretId.startsWith('arn:')) return secretId;
  return stack.formatArn({
    service: 'secretsmanager',
    ...(region ? { region } : {}),
    resource: 'secret',
    resourceName: `${secretId}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** A region for construct ids, which may not hold tokens (env-agnostic stacks). */
export function regionId(region: string): string {
  return Token.isUnresolved(region) ? 'stack-region' : region;
}

export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** How cdk-nag names a resource in an IAM5 finding (its flattenCfnReference), for acknowledgments. */
export function nagResource(stack: Stack, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const n = node as Record<string, unknown>;
    if (n['Fn::Join']) {
      const [delimiter, items] = n['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (n['Fn::GetAtt']) {
      const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (n['Ref']) return `<${visit(n['Ref'])}>`;
    return JSON.stringify(node);
  };
  return `Resource::${visit(stack.resolve(value))}`;
}
