/**
 * EKS access entries mapping the audit role to the auditor's Kubernetes group, one per listed
 * same-account, same-region cluster. A stack holds at most 500 resources, so past
 * `maxInStack` entries they move out of the auditor's stack into a fixed set of nested stacks,
 * each cluster placed by a hash of its region and name: adding or removing a cluster never moves
 * another cluster's entry (EKS allows one entry per principal and cluster, so a moved entry would
 * be created in its new stack before the old one is deleted, and fail).
 */
import { createHash } from 'node:crypto';
import { Annotations, NestedStack, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ConfigError } from '../../lambda/config/config.js';
import { AUDITOR_GROUP } from '../../lambda/collect/kube/rbac-manifest.js';
import { groupingLayer } from './logical-ids.js';
import type { ClusterPlan } from './plan.js';

/** CloudFormation's resources per stack. */
export const STACK_RESOURCE_LIMIT = 500;
/** Nested stacks access entries are spread over (by hash), past the in-stack maximum. */
export const ACCESS_ENTRY_SHARDS = 8;
/** Default of `maxAccessEntriesInStack`. */
export const DEFAULT_ACCESS_ENTRIES_IN_STACK = 200;

export interface ClusterAccessProps {
  clusters: ClusterPlan[];
  /** The principal the entries map to group eks-datadog-auditor. */
  role: iam.IRole;
  /** Whether access entries are wanted at all (else none, and no warning). */
  createAccessEntries: boolean;
  /** Above this many entries, all of them go to nested stacks. */
  maxInStack: number;
}

/** Which nested stack (0..ACCESS_ENTRY_SHARDS-1) holds a cluster's entry; stable per cluster. */
export function accessEntryShard(cluster: Pick<ClusterPlan, 'name' | 'region'>): number {
  const digest = createHash('sha256').update(`${cluster.region}/${cluster.name}`).digest();
  return digest.readUInt32BE(0) % ACCESS_ENTRY_SHARDS;
}

/**
 * Where the entries go, or a one-line ConfigError naming the limit and the fix when a nested stack
 * would exceed CloudFormation's 500 resources.
 */
export function accessEntryLayout(
  clusters: ClusterPlan[],
  maxInStack: number,
): { nested: boolean; shards: Map<number, ClusterPlan[]> } {
  const entries = clusters.filter((c) => c.accessEntry);
  if (entries.length <= maxInStack) return { nested: false, shards: new Map([[0, entries]]) };
  const shards = new Map<number, ClusterPlan[]>();
  for (const c of entries) {
    const k = accessEntryShard(c);
    shards.set(k, [...(shards.get(k) ?? []), c]);
  }
  const fullest = Math.max(...[...shards.values()].map((s) => s.length));
  if (fullest > STACK_RESOURCE_LIMIT) {
    throw new ConfigError(
      `${entries.length} EKS access entries do not fit: one of the ${ACCESS_ENTRY_SHARDS} nested stacks that hold them would need ${fullest} resources, over CloudFormation's ${STACK_RESOURCE_LIMIT} per stack. Find these clusters with discover (tags, regions) instead of listing them, and let the member stack give its reader role their access entries by the same tags (docs/deploy.md, Large fleets).`,
    );
  }
  return { nested: true, shards };
}

export class ClusterAccess extends Construct {
  /** The nested stacks holding the entries; empty while they fit in the auditor's stack. */
  readonly nestedStacks: NestedStack[] = [];
  readonly entries: eks.CfnAccessEntry[] = [];

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    groupingLayer(this);
    const layout = accessEntryLayout(props.clusters, props.maxInStack);
    for (const [shard, clusters] of [...layout.shards].sort(([a], [b]) => a - b)) {
      const entryScope = layout.nested ? this.nestedStack(shard) : this;
      for (const cluster of clusters) {
        this.entries.push(
          new eks.CfnAccessEntry(entryScope, `AccessEntry-${cluster.name}`, {
            clusterName: cluster.name,
            principalArn: props.role.roleArn,
            type: 'STANDARD',
            kubernetesGroups: [AUDITOR_GROUP],
          }),
        );
      }
    }
    this.warnOtherRegions(props);
  }

  private nestedStack(shard: number): NestedStack {
    const nested = new NestedStack(this, `AccessEntries${shard}`, {
      description: `eks-datadog-auditor: EKS access entries, shard ${shard} of ${ACCESS_ENTRY_SHARDS}`,
    });
    this.nestedStacks.push(nested);
    return nested;
  }

  private warnOtherRegions(props: ClusterAccessProps): void {
    for (const cluster of props.clusters) {
      if (!cluster.accessEntry && !cluster.roleArn && props.createAccessEntries) {
        Annotations.of(Stack.of(this)).addWarningV2(
          'eks-datadog-auditor:access-entry-region',
          `No access entry for cluster ${cluster.name}: it is in ${cluster.region}, not this stack's region. Create it there: aws eks create-access-entry --cluster-name ${cluster.name} --region ${cluster.region} --principal-arn <FunctionRoleArn output> --kubernetes-groups ${AUDITOR_GROUP}`,
        );
      }
    }
  }
}
