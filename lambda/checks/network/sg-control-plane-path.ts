import type { CheckResult } from '../../config/findings.js';
import {
  itemsOf,
  refOf,
  type ClusterSnapshot,
  type SecurityGroupPolicy,
} from '../../snapshot/snapshot.js';
import {
  evaluate,
  type Outcome,
  type Peer,
  type Traffic,
  type Verdict,
} from '../../snapshot/net/evaluate.js';
import { matchingPolicies, podLikeOf, podNetwork, peerOf } from '../../snapshot/net/pod-network.js';
import type { Check } from '../check.js';
import {
  controlPlanePeer,
  datadogEndpoints,
  egressCommand,
  explainUnresolved,
  groupsLabel,
  ingressCommand,
  worst,
  type Endpoint,
} from './flows.js';

const API: Traffic = { protocol: 'tcp', port: 443 };
const DNS: Traffic[] = [
  { protocol: 'udp', port: 53 },
  { protocol: 'tcp', port: 53 },
];

interface PathResult {
  outcome: Outcome;
  failed: { verdict: Verdict; traffic: Traffic; side: 'pod-egress' | 'peer-ingress' }[];
  unresolved: string[];
}

function check(
  results: { verdict: Verdict; traffic: Traffic; side: 'pod-egress' | 'peer-ingress' }[],
): PathResult {
  let outcome: Outcome = 'allowed';
  for (const r of results) outcome = worst(outcome, r.verdict.outcome);
  return {
    outcome,
    failed: results.filter((r) => r.verdict.outcome === 'denied'),
    unresolved: results
      .filter((r) => r.verdict.outcome === 'unknown')
      .map((r) => explainUnresolved(r.verdict)),
  };
}

/**
 * Pods selected by a SecurityGroupPolicy get only the policy's groups, which replace the cluster
 * security group on Fargate. Those groups must still reach the control plane (TCP 443 to the
 * cluster's interfaces, which carry the cluster group) and CoreDNS (UDP and TCP 53); the simplest
 * way is to list the cluster security group in the policy.
 */
export const sgControlPlanePath: Check = {
  id: 'sg-control-plane-path',
  area: 'network',
  title: 'Pods with a SecurityGroupPolicy still reach the API server (443) and DNS (53)',
  severity: 'high',
  resourceType: 'SecurityGroupPolicy',
  risk: 'A SecurityGroupPolicy that drops the cluster security group without equivalent rules cuts its pods off from the API server and CoreDNS: agent sidecars cannot resolve the Cluster Agent Service, fetch tags or pass the kubelet proxy, and Fargate pods may fail to start.',
  remediation:
    'Add the cluster security group to spec.securityGroups.groupIds, or add egress TCP 443 to the cluster security group and UDP/TCP 53 to CoreDNS, with matching ingress there.',
  requires: ['kube.securityGroupPolicies', 'aws.securityGroups', 'aws.cluster'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const { ctx, clusterAgent, agents } = datadogEndpoints(snapshot);
    const clusterSg = ctx.cluster?.clusterSecurityGroupId;
    if (!ctx.cluster) return [];
    const datadog = [...clusterAgent, ...agents];
    const byPolicy = new Map<SecurityGroupPolicy, Endpoint[]>();
    for (const e of datadog) {
      for (const policy of matchingPolicies(e.like, ctx).policies) {
        byPolicy.set(policy, [...(byPolicy.get(policy) ?? []), e]);
      }
    }
    // With the private endpoint on, pods reach the API server through the cluster's interfaces in
    // its subnets; with it off, through the public endpoint, whose addresses are not known here.
    const privateEndpoint = ctx.cluster.endpointPrivateAccess;
    const controlPlane: Peer = privateEndpoint
      ? controlPlanePeer(ctx)!
      : { groupIds: [], addresses: [] };
    const coreDns = itemsOf(snapshot.kube.pods)
      .filter((p) => p.meta.namespace === 'kube-system' && p.meta.labels['k8s-app'] === 'kube-dns')
      .map((p) => podNetwork(podLikeOf(p), ctx))
      .filter((n) => n.groupIds);
    const dnsPeers: Peer[] = coreDns.length
      ? coreDns.map(peerOf)
      : clusterSg
        ? [{ groupIds: [clusterSg], addresses: [] }]
        : [];

    const results: CheckResult[] = [];
    for (const [policy, endpoints] of byPolicy) {
      const resource = {
        kind: 'SecurityGroupPolicy',
        namespace: policy.meta.namespace ?? '',
        name: policy.meta.name,
      };
      const ref = refOf(policy.meta);
      const groups = policy.groupIds;
      const pods = endpoints.map((e) => e.label).join(', ');
      if (groups.length < 1 || groups.length > 5) {
        results.push({
          status: 'FAIL',
          severity: 'medium',
          resource,
          messageId: 'group-count',
          message: `SecurityGroupPolicy ${ref} lists ${groups.length} security groups; EKS accepts 1 to 5, so its pods (${pods}) cannot get a branch interface.`,
          remediation: `Set 1 to 5 entries in spec.securityGroups.groupIds of SecurityGroupPolicy ${ref}${clusterSg ? `, including the cluster security group ${clusterSg}` : ''}.`,
        });
        continue;
      }
      const podPeer: Peer = {
        groupIds: groups,
        addresses: endpoints.flatMap((e) => e.net.addresses),
      };
      const api = check([
        {
          verdict: evaluate('egress', groups, ctx.groups, controlPlane, API),
          traffic: API,
          side: 'pod-egress',
        },
        ...(privateEndpoint
          ? [
              {
                verdict: evaluate('ingress', controlPlane.groupIds!, ctx.groups, podPeer, API),
                traffic: API,
                side: 'peer-ingress' as const,
              },
            ]
          : []),
      ]);
      const dns = check(
        dnsPeers.flatMap((peer) =>
          DNS.flatMap((t) => [
            {
              verdict: evaluate('egress', groups, ctx.groups, peer, t),
              traffic: t,
              side: 'pod-egress' as const,
            },
            ...(coreDns.length
              ? [
                  {
                    verdict: evaluate('ingress', peer.groupIds!, ctx.groups, podPeer, t),
                    traffic: t,
                    side: 'peer-ingress' as const,
                  },
                ]
              : []),
          ]),
        ),
      );
      const dropped =
        clusterSg && !groups.includes(clusterSg)
          ? ` The policy does not list the cluster security group ${clusterSg}.`
          : '';
      const addCluster =
        clusterSg && !groups.includes(clusterSg)
          ? `Simplest: add the cluster security group to SecurityGroupPolicy ${ref}: spec.securityGroups.groupIds: [${[...groups, clusterSg].join(', ')}]. Or: `
          : '';
      if (api.outcome === 'denied') {
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'control-plane-blocked',
          message: `Pods selected by SecurityGroupPolicy ${ref} (${pods}) get security groups ${groupsLabel(groups, ctx)}, which ${describeFailures(api)} TCP 443 to ${
            privateEndpoint
              ? `the control plane (security groups ${groupsLabel(controlPlane.groupIds, ctx)})`
              : 'the public API endpoint (private endpoint access is off)'
          }.${dropped}`,
          remediation: `${privateEndpoint ? addCluster : ''}${commands(
            snapshot,
            api,
            groups,
            privateEndpoint ? { groupId: controlPlane.groupIds![0] } : { cidr: '0.0.0.0/0' },
          )}`,
        });
      }
      if (dns.outcome === 'denied') {
        const dnsGroups = [...new Set(dnsPeers.flatMap((p) => p.groupIds ?? []))];
        results.push({
          status: 'FAIL',
          resource,
          messageId: 'dns-blocked',
          message: `Pods selected by SecurityGroupPolicy ${ref} (${pods}) get security groups ${groupsLabel(groups, ctx)}, which ${describeFailures(dns)} UDP/TCP 53 to CoreDNS (security groups ${groupsLabel(dnsGroups, ctx)}): the agent cannot resolve the Cluster Agent Service name.${dropped}`,
          remediation: `${addCluster}${commands(snapshot, dns, groups, { groupId: dnsGroups[0] })}`,
        });
      }
      if (api.outcome === 'denied' || dns.outcome === 'denied') continue;
      if (api.outcome === 'unknown' || dns.outcome === 'unknown') {
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource,
          messageId: 'cannot-evaluate',
          message: `Cannot evaluate the control plane and DNS paths of SecurityGroupPolicy ${ref}: ${[...new Set([...api.unresolved, ...dns.unresolved])].join('; ')}.`,
          remediation: `Verify by hand that ${groups.join(', ')} allow TCP 443 to ${clusterSg ?? 'the cluster security group'} and UDP/TCP 53 to CoreDNS.`,
        });
        continue;
      }
      results.push({
        status: 'PASS',
        resource,
        messageId: 'paths-open',
        message: `Pods selected by SecurityGroupPolicy ${ref} (${pods}) with security groups ${groupsLabel(groups, ctx)} reach the control plane on TCP 443 and CoreDNS on UDP/TCP 53.`,
        remediation: '',
      });
    }
    return results;
  },
};

function describeFailures(p: PathResult): string {
  const sides = new Set(p.failed.map((f) => f.side));
  return sides.has('pod-egress') && sides.has('peer-ingress')
    ? 'neither send nor are admitted on'
    : sides.has('pod-egress')
      ? 'have no egress rule for'
      : 'are not admitted on';
}

/** One command per missing rule: egress on the pod's first group, ingress on the peer's. */
function commands(
  snapshot: ClusterSnapshot,
  p: PathResult,
  podGroups: string[],
  peer: { groupId?: string | undefined; cidr?: string },
): string {
  const out = new Set<string>();
  const own = podGroups[0]!;
  for (const f of p.failed) {
    if (f.side === 'pod-egress') {
      out.add(
        egressCommand(
          snapshot,
          own,
          f.traffic,
          peer.groupId ? { groupId: peer.groupId } : { cidr: peer.cidr ?? '0.0.0.0/0' },
        ),
      );
    } else if (peer.groupId) {
      out.add(ingressCommand(snapshot, peer.groupId, f.traffic, { groupId: own }));
    }
  }
  return [...out].join(' && ');
}
