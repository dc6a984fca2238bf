import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import type { Outcome, Traffic } from '../../snapshot/net/evaluate.js';
import type { Check } from '../check.js';
import {
  clusterAgentPodPort,
  datadogEndpoints,
  egressCommand,
  evaluateFlow,
  explainAllowed,
  explainUnresolved,
  groupsLabel,
  ingressCommand,
  isDefaultCrossCompute,
  peerGroup,
  targetGroup,
  worst,
  type Endpoint,
  type FlowVerdict,
} from './flows.js';

interface Pairing {
  /** The EC2 side: its node group (or node) is the resource. */
  ec2: Endpoint;
  fargate: Endpoint;
  /** Where the Cluster Agent runs: on EC2 (agents on Fargate) or on Fargate (agents on EC2). */
  caOn: 'ec2' | 'fargate';
  verdict: FlowVerdict;
}

function nodeGroupOf(e: Endpoint): { kind: string; name: string; label: string } {
  const node = e.net.node;
  const group = node?.nodegroup ?? node?.meta.labels['alpha.eksctl.io/nodegroup-name'];
  if (group) return { kind: 'NodeGroup', name: group, label: `node group ${group}` };
  const name = node?.meta.name ?? e.net.instance?.instanceId ?? 'unknown';
  return { kind: 'Node', name, label: `self-managed node ${name}` };
}

/**
 * In a cluster that mixes EC2 nodes and Fargate, the Cluster Agent and its agents often sit on
 * different sides: the node's groups and the cluster security group must admit each other on the
 * command port. Managed node groups carry the cluster group (self reference); node groups with a
 * launch template's own groups, and self-managed nodes, usually do not.
 */
export const mixedClusterNodeSg: Check = {
  id: 'mixed-cluster-node-sg',
  area: 'network',
  title: 'EC2 node groups and the Fargate cluster security group admit each other on 5005',
  severity: 'high',
  resourceType: 'NodeGroup',
  risk: 'With the Cluster Agent on an EC2 node and agents on Fargate (or the reverse), a node security group that does not admit the cluster security group silently drops every agent call to the Cluster Agent.',
  remediation:
    'Add an ingress rule for TCP 5005 on the node group security group from the cluster security group (or the reverse), or attach the cluster security group to the node group.',
  requires: [
    'kube.pods',
    'kube.nodes',
    'kube.securityGroupPolicies',
    'aws.securityGroups',
    'aws.cluster',
    'aws.instances',
  ],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const { discovery, ctx, clusterAgent, agents } = datadogEndpoints(snapshot);
    const traffic: Traffic = { protocol: 'tcp', port: clusterAgentPodPort(snapshot, discovery) };
    const byGroup = new Map<string, Pairing[]>();
    for (const ca of clusterAgent) {
      for (const agent of agents) {
        if (!isDefaultCrossCompute(agent.net, ca.net)) continue;
        const caOn = ca.net.compute === 'ec2' ? 'ec2' : 'fargate';
        const ec2 = caOn === 'ec2' ? ca : agent;
        const fargate = caOn === 'ec2' ? agent : ca;
        const key = `${caOn}\u0000${nodeGroupOf(ec2).kind}/${nodeGroupOf(ec2).name}`;
        const list = byGroup.get(key) ?? [];
        list.push({ ec2, fargate, caOn, verdict: evaluateFlow(agent.net, ca.net, traffic, ctx) });
        byGroup.set(key, list);
      }
    }

    const results: CheckResult[] = [];
    for (const pairings of byGroup.values()) {
      const first = pairings[0]!;
      const ng = nodeGroupOf(first.ec2);
      const resource = { kind: ng.kind, name: ng.name };
      const nodeGroups = first.ec2.net.groupIds ?? [];
      const clusterSg = ctx.cluster?.clusterSecurityGroupId ?? '(cluster security group)';
      const fargatePods = [...new Set(pairings.map((p) => p.fargate.label))];
      const ec2Pods = [...new Set(pairings.map((p) => p.ec2.label))];
      const ingress = pairings.reduce<Outcome>(
        (o, p) => worst(o, p.verdict.ingress.outcome),
        'allowed',
      );
      const egress = pairings.reduce<Outcome>(
        (o, p) => worst(o, p.verdict.egress.outcome),
        'allowed',
      );
      const nodeDesc = `${ng.label} (security groups ${groupsLabel(nodeGroups, ctx)}${
        first.ec2.net.instance ? `, instance ${first.ec2.net.instance.instanceId}` : ''
      })`;
      const ids = first.caOn === 'ec2' ? 'ca-on-ec2' : 'ca-on-fargate';
      const situation =
        first.caOn === 'ec2'
          ? `The Cluster Agent (${ec2Pods.join(', ')}) runs on ${nodeDesc}; agents on Fargate (${fargatePods.join(', ')}) carry the cluster security group ${groupsLabel([clusterSg], ctx)}.`
          : `The Cluster Agent (${fargatePods.join(', ')}) runs on Fargate with the cluster security group ${groupsLabel([clusterSg], ctx)}; agents (${ec2Pods.join(', ')}) run on ${nodeDesc}.`;

      if (ingress === 'denied') {
        // The rule belongs on the Cluster Agent's side, admitting the agents' side.
        const [target, source] =
          first.caOn === 'ec2'
            ? [targetGroup(nodeGroups, ctx)!, peerGroup(first.fargate.net.groupIds, ctx)!]
            : [clusterSg, targetGroup(nodeGroups, ctx)!];
        results.push({
          status: 'FAIL',
          resource,
          messageId: `${ids}-ingress-denied`,
          message: `${situation} ${capitalised(groupLabelOf(target, ctx))} does not admit TCP ${traffic.port} from ${groupLabelOf(source, ctx)}, so agent calls to the Cluster Agent time out.`,
          remediation: `${ingressCommand(snapshot, target, traffic, { groupId: source })}${
            first.caOn === 'ec2'
              ? ` (or attach the cluster security group ${clusterSg} to ${ng.label}'s launch template)`
              : ''
          }`,
        });
      }
      if (egress === 'denied') {
        const [own, dest] =
          first.caOn === 'ec2'
            ? [peerGroup(first.fargate.net.groupIds, ctx)!, targetGroup(nodeGroups, ctx)!]
            : [targetGroup(nodeGroups, ctx)!, clusterSg];
        results.push({
          status: 'FAIL',
          resource,
          messageId: `${ids}-egress-denied`,
          message: `${situation} ${capitalised(groupLabelOf(own, ctx))} has no egress rule allowing TCP ${traffic.port} to ${groupLabelOf(dest, ctx)}.`,
          remediation: egressCommand(snapshot, own, traffic, { groupId: dest }),
        });
      }
      if (ingress === 'denied' || egress === 'denied') continue;
      if (ingress === 'unknown' || egress === 'unknown') {
        const reasons = pairings
          .flatMap((p) => [p.verdict.ingress, p.verdict.egress])
          .filter((v) => v.outcome === 'unknown')
          .map(explainUnresolved);
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: `${ids}-cannot-evaluate`,
          message: `${situation} Cannot evaluate TCP ${traffic.port} between them: ${[...new Set(reasons)].join('; ')}.`,
          remediation: `Verify by hand that ${ng.label}'s security groups and ${clusterSg} admit each other on TCP ${traffic.port}.`,
        });
        continue;
      }
      results.push({
        status: 'PASS',
        resource,
        messageId: `${ids}-admitted`,
        message: `${situation} TCP ${traffic.port} is admitted (ingress: ${explainAllowed(first.verdict.ingress)}; egress: ${explainAllowed(first.verdict.egress)}).`,
        remediation: '',
      });
    }
    return results;
  },
};

function groupLabelOf(id: string, ctx: Parameters<typeof groupsLabel>[1]): string {
  return `security group ${groupsLabel([id], ctx)}`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
