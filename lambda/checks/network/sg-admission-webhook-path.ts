import type { CheckResult } from '../../config/findings.js';
import { evaluate, type Traffic } from '../../snapshot/net/evaluate.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import {
  controlPlanePeer,
  datadogEndpoints,
  explainAllowed,
  explainUnresolved,
  groupsLabel,
  ingressCommand,
  targetGroup,
} from './flows.js';

/**
 * The API server calls the admission webhook on the Cluster Agent pods' admission port (8000 by
 * default) from the control plane's interfaces in the cluster subnets, which carry the cluster
 * security group and the cluster's additional groups. If the Cluster Agent's groups (the cluster
 * group on Fargate, node groups on EC2, a SecurityGroupPolicy's groups) do not admit it, every pod
 * is created without the sidecar under failurePolicy Ignore.
 */
export const sgAdmissionWebhookPath: Check = {
  id: 'sg-admission-webhook-path',
  area: 'network',
  title: 'The EKS control plane reaches the admission port of the Cluster Agent pods',
  severity: 'high',
  resourceType: 'Pod',
  risk: 'When the control plane cannot reach the Cluster Agent on its admission port, the API server times out calling the sidecar webhook and (failurePolicy Ignore) creates every pod without the agent.',
  remediation:
    "Allow TCP <admission port> (default 8000) into the Cluster Agent pods' security groups from the cluster security group.",
  requires: ['kube.pods', 'aws.securityGroups', 'aws.cluster'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const { discovery, ctx, clusterAgent } = datadogEndpoints(snapshot);
    const inj = discovery.injection;
    if (!ctx.cluster || !inj || inj.sidecarEnabled !== true || clusterAgent.length === 0) return [];
    if (inj.admissionPort === undefined) {
      return clusterAgent.map((ca) => ({
        status: 'ERROR',
        severity: 'info',
        resource: ca.resource,
        messageId: 'port-not-evaluated',
        message: `The admission port of ${ca.label} comes from ${inj.settings.admissionPort.source === 'opaque' ? inj.settings.admissionPort.from : 'a value that is not a number'}: the control plane path is not evaluated.`,
        remediation:
          'Set DD_ADMISSION_CONTROLLER_PORT as a literal number on the Cluster Agent container.',
      }));
    }
    const traffic: Traffic = { protocol: 'tcp', port: inj.admissionPort };
    const clusterSg = ctx.cluster.clusterSecurityGroupId;
    const controlPlane = controlPlanePeer(ctx)!;
    const cpLabel = `the EKS control plane (security groups ${groupsLabel(controlPlane.groupIds, ctx)})`;
    const results: CheckResult[] = [];
    for (const ca of clusterAgent) {
      if (!ca.net.groupIds) {
        results.push({
          status: 'ERROR',
          severity: 'info',
          resource: ca.resource,
          messageId: 'groups-unknown',
          message: `The security groups of ${ca.label} are unknown (${ca.net.unknownReason}): the path from the control plane to its admission port ${traffic.port} is not evaluated.`,
          remediation: `Check that ${ca.label}'s security groups admit TCP ${traffic.port} from the cluster security group${clusterSg ? ` ${clusterSg}` : ''}.`,
        });
        continue;
      }
      const ingress = evaluate('ingress', ca.net.groupIds, ctx.groups, controlPlane, traffic);
      const egress = evaluate(
        'egress',
        controlPlane.groupIds,
        ctx.groups,
        { groupIds: ca.net.groupIds, addresses: ca.net.addresses },
        traffic,
      );
      if (ingress.outcome === 'allowed' && egress.outcome === 'allowed') {
        results.push({
          status: 'PASS',
          resource: ca.resource,
          messageId: 'ok',
          message: `The EKS control plane (security groups ${groupsLabel(controlPlane.groupIds, ctx)}) reaches ${ca.label} on its admission port TCP ${traffic.port}: ${explainAllowed(ingress)}.`,
          remediation: '',
        });
        continue;
      }
      if (ingress.outcome === 'unknown' || egress.outcome === 'unknown') {
        if (ingress.outcome !== 'denied' && egress.outcome !== 'denied') {
          results.push({
            status: 'ERROR',
            severity: 'info',
            resource: ca.resource,
            messageId: 'unresolved',
            message: `Cannot tell whether ${cpLabel} reaches ${ca.label} on TCP ${traffic.port}: ${explainUnresolved(ingress.outcome === 'unknown' ? ingress : egress)}.`,
            remediation: `Check the rules for TCP ${traffic.port} between the cluster security group and ${groupsLabel(ca.net.groupIds, ctx)}.`,
          });
          continue;
        }
      }
      const target = targetGroup(ca.net.groupIds, ctx)!;
      const side = ingress.outcome === 'denied' ? 'ingress' : 'egress';
      results.push({
        status: 'FAIL',
        resource: ca.resource,
        messageId: `denied-${side}`,
        message:
          side === 'ingress'
            ? `${ca.label} (security groups ${groupsLabel(ca.net.groupIds, ctx)}) does not admit TCP ${traffic.port} from ${cpLabel}: the API server cannot call the sidecar injection webhook, and pods are created without the agent.`
            : `${cpLabel} may not send TCP ${traffic.port} to ${ca.label}: the API server cannot call the sidecar injection webhook, and pods are created without the agent.`,
        remediation:
          side === 'ingress'
            ? ingressCommand(snapshot, target, traffic, clusterSg ? { groupId: clusterSg } : {})
            : `Allow egress TCP ${traffic.port} from the cluster security group${clusterSg ? ` ${clusterSg}` : ''} to ${groupsLabel(ca.net.groupIds, ctx)}.`,
      });
    }
    return results;
  },
};
