import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import type { Outcome, Traffic, Verdict } from '../../snapshot/net/evaluate.js';
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
  sameNode,
  targetGroup,
  worst,
  type Endpoint,
} from './flows.js';

interface PairResult {
  ca: Endpoint;
  outcome: Outcome;
  verdict?: Verdict;
  note?: string;
}

/**
 * Agents reach the Cluster Agent on its command port (5005): the Cluster Agent side's groups must
 * admit it and the agent side's groups must send it. Cross-compute pairs with default groups (EC2
 * node groups <-> the Fargate cluster group) are mixed-cluster-node-sg's, which names the node group.
 */
export const sgClusterAgentPort: Check = {
  id: 'sg-cluster-agent-port',
  area: 'network',
  title: 'Security groups let every agent reach the Cluster Agent on its command port',
  severity: 'high',
  resourceType: 'Pod',
  risk: 'A security group that drops TCP 5005 between an agent and the Cluster Agent makes the agent time out on every call: no cluster-level tags, no cluster checks, no external metrics, and only "connection timed out" in the agent log.',
  remediation:
    'Add an ingress rule for TCP 5005 on the Cluster Agent side from the agent side (security group reference), and egress on the agent side if it was restricted.',
  requires: ['kube.pods', 'aws.securityGroups'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const { discovery, ctx, clusterAgent, agents } = datadogEndpoints(snapshot);
    if (clusterAgent.length === 0) return [];
    const traffic: Traffic = { protocol: 'tcp', port: clusterAgentPodPort(snapshot, discovery) };
    const results: CheckResult[] = [];

    for (const agent of agents) {
      const resource = agent.resource;
      const pairs = {
        ingress: [] as PairResult[],
        egress: [] as PairResult[],
        evaluated: 0,
      };
      for (const ca of clusterAgent) {
        if (isDefaultCrossCompute(agent.net, ca.net)) continue;
        pairs.evaluated++;
        if (sameNode(agent.net, ca.net)) {
          const note = `same node ${ca.net.node!.meta.name}: traffic does not cross a security group`;
          pairs.ingress.push({ ca, outcome: 'allowed', note });
          pairs.egress.push({ ca, outcome: 'allowed', note });
          continue;
        }
        if (!agent.net.groupIds || !ca.net.groupIds) {
          const note = !agent.net.groupIds
            ? `the security groups of ${agent.label} are unknown: ${agent.net.unknownReason}`
            : `the security groups of ${ca.label} are unknown: ${ca.net.unknownReason}`;
          pairs.ingress.push({ ca, outcome: 'unknown', note });
          continue;
        }
        const v = evaluateFlow(agent.net, ca.net, traffic, ctx);
        pairs.ingress.push({ ca, outcome: v.ingress.outcome, verdict: v.ingress });
        pairs.egress.push({ ca, outcome: v.egress.outcome, verdict: v.egress });
      }
      // Every Cluster Agent pod is on the other compute type: mixed-cluster-node-sg reports it.
      if (pairs.evaluated === 0) continue;

      const ingress = pairs.ingress.reduce<Outcome>((o, p) => worst(o, p.outcome), 'allowed');
      const egress = pairs.egress.reduce<Outcome>((o, p) => worst(o, p.outcome), 'allowed');
      const agentGroups = groupsLabel(agent.net.groupIds, ctx);
      const where = `${agent.label} (security groups ${agentGroups}, from ${agent.net.source})`;

      if (ingress === 'denied') {
        const bad = pairs.ingress.find((p) => p.outcome === 'denied')!;
        const caGroups = bad.ca.net.groupIds ?? [];
        const target = targetGroup(caGroups, ctx)!;
        const source = peerGroup(agent.net.groupIds, ctx);
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'ingress-denied',
          message: `Cluster Agent ${bad.ca.label} (security groups ${groupsLabel(caGroups, ctx)}, from ${bad.ca.net.source}) does not admit TCP ${traffic.port} from ${where}: no ingress rule matches by group reference, self reference or CIDR.`,
          remediation: `Allow TCP ${traffic.port} into ${target} from ${source ?? 'the agent pods'}: ${ingressCommand(
            snapshot,
            target,
            traffic,
            source ? { groupId: source } : { cidr: agent.net.addresses[0] ?? '<agent-pod-cidr>' },
          )}`,
        });
      }
      if (egress === 'denied') {
        const bad = pairs.egress.find((p) => p.outcome === 'denied')!;
        const own = targetGroup(agent.net.groupIds ?? [], ctx)!;
        const dest = peerGroup(bad.ca.net.groupIds, ctx);
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'egress-denied',
          message: `${where} has no egress rule allowing TCP ${traffic.port} to Cluster Agent ${bad.ca.label} (security groups ${groupsLabel(bad.ca.net.groupIds, ctx)}).`,
          remediation: `Allow TCP ${traffic.port} out of ${own} to ${dest ?? 'the Cluster Agent pods'}: ${egressCommand(
            snapshot,
            own,
            traffic,
            dest
              ? { groupId: dest }
              : { cidr: bad.ca.net.addresses[0] ?? '<cluster-agent-pod-cidr>' },
          )}`,
        });
      }
      if (ingress === 'denied' || egress === 'denied') continue;
      if (ingress === 'unknown' || egress === 'unknown') {
        const reasons = [...pairs.ingress, ...pairs.egress]
          .filter((p) => p.outcome === 'unknown')
          .map((p) => p.note ?? (p.verdict ? explainUnresolved(p.verdict) : ''))
          .filter(Boolean);
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: 'cannot-evaluate',
          message: `Cannot evaluate whether ${where} reaches the Cluster Agent on TCP ${traffic.port}: ${[...new Set(reasons)].join('; ')}.`,
          remediation: `Verify by hand that the Cluster Agent's security groups admit TCP ${traffic.port} from ${agent.label}; resolve prefix lists with "aws ec2 get-managed-prefix-list-entries --prefix-list-id <pl-id>".`,
        });
        continue;
      }
      const why =
        pairs.ingress.find((p) => p.note)?.note ??
        [
          pairs.ingress[0]?.verdict && `ingress: ${explainAllowed(pairs.ingress[0].verdict)}`,
          pairs.egress[0]?.verdict && `egress: ${explainAllowed(pairs.egress[0].verdict)}`,
        ]
          .filter(Boolean)
          .join('; ');
      results.push({
        status: 'PASS',
        resource,
        messageId: 'port-open',
        message: `${where} can reach the Cluster Agent on TCP ${traffic.port} (${why}).`,
        remediation: '',
      });
    }
    return results;
  },
};
