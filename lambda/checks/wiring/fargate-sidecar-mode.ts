import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import {
  agentLocation,
  discoverAgents,
  isClusterChecksRunner,
  type AgentContainer,
} from '../../snapshot/agents.js';
import type { Check } from '../check.js';
import { agentResource, envVar, opaqueSources, parseBool, whereToSet } from './agent-env.js';

const NODENAME_SNIPPET = [
  '- name: DD_KUBERNETES_KUBELET_NODENAME',
  '  valueFrom:',
  '    fieldRef:',
  '      apiVersion: v1',
  '      fieldPath: spec.nodeName',
].join('\n');

const EKS_FARGATE_SNIPPET = ['- name: DD_EKS_FARGATE', '  value: "true"'].join('\n');

function eksFargate(a: AgentContainer, where: string): CheckResult | undefined {
  const c = a.container;
  const env = envVar(c, 'DD_EKS_FARGATE');
  const resource = agentResource(a);
  const fix = `Set DD_EKS_FARGATE to "true" in ${whereToSet(a)}:\n${EKS_FARGATE_SNIPPET}`;
  if (env?.value !== undefined) {
    if (parseBool(env.value) === true) return undefined;
    return {
      status: 'FAIL',
      resource,
      messageId: `eks-fargate-not-true:${c.name}`,
      message: `${where} runs on Fargate but sets DD_EKS_FARGATE="${env.value}": the agent does not switch to kubelet proxy mode and tries to reach a kubelet on the pod's host, which Fargate does not expose.`,
      remediation: fix,
    };
  }
  const opaque = [
    ...opaqueSources(c, 'DD_EKS_FARGATE'),
    ...(env?.configMapKeyRef
      ? [`ConfigMap ${env.configMapKeyRef.name} key ${env.configMapKeyRef.key}`]
      : []),
    ...(env?.secretKeyRef ? [`Secret ${env.secretKeyRef.name} key ${env.secretKeyRef.key}`] : []),
  ];
  if (opaque.length) {
    return {
      status: 'FAIL',
      severity: 'medium',
      resource,
      messageId: `eks-fargate-unverified:${c.name}`,
      message: `${where} runs on Fargate and does not set DD_EKS_FARGATE in env; it may come from ${opaque.join(', ')}, which the auditor does not read.`,
      remediation: `Set it explicitly so the setting is visible and cannot drift: ${fix}`,
    };
  }
  return {
    status: 'FAIL',
    resource,
    messageId: `eks-fargate-missing:${c.name}`,
    message: `${where} runs on Fargate without DD_EKS_FARGATE=true: the agent does not switch to kubelet proxy mode (/api/v1/nodes/<node>/proxy) and collects no kubelet, pod or container data.`,
    remediation: fix,
  };
}

function nodeName(a: AgentContainer, where: string): CheckResult | undefined {
  const c = a.container;
  const env = envVar(c, 'DD_KUBERNETES_KUBELET_NODENAME');
  const resource = agentResource(a);
  const fix = `Set DD_KUBERNETES_KUBELET_NODENAME from the downward API in ${whereToSet(a)}:\n${NODENAME_SNIPPET}`;
  if (env?.fieldRef?.fieldPath === 'spec.nodeName') return undefined;
  if (!env) {
    return {
      status: 'FAIL',
      resource,
      messageId: `nodename-missing:${c.name}`,
      message: `${where} runs on Fargate without DD_KUBERNETES_KUBELET_NODENAME: in kubelet proxy mode the agent fails with "kubelet proxy mode enabled but nodename is empty - unable to query".`,
      remediation: fix,
    };
  }
  if (env.fieldRef) {
    return {
      status: 'FAIL',
      resource,
      messageId: `nodename-wrong-fieldpath:${c.name}`,
      message: `${where} takes DD_KUBERNETES_KUBELET_NODENAME from fieldRef "${env.fieldRef.fieldPath}" instead of "spec.nodeName": the agent proxies to /api/v1/nodes/<that value>/proxy, which is not its node.`,
      remediation: fix,
    };
  }
  if (env.value !== undefined) {
    const actual = a.pod?.spec.nodeName;
    const stale = actual && actual !== env.value ? ` (this pod runs on ${actual})` : '';
    return {
      status: 'FAIL',
      resource,
      messageId: `nodename-literal:${c.name}`,
      message: `${where} sets DD_KUBERNETES_KUBELET_NODENAME to the literal "${env.value}"${stale}: every Fargate pod gets its own node, so a fixed name is wrong for every other pod and after every restart.`,
      remediation: fix,
    };
  }
  return {
    status: 'FAIL',
    resource,
    messageId: `nodename-not-fieldref:${c.name}`,
    message: `${where} takes DD_KUBERNETES_KUBELET_NODENAME from a ${env.secretKeyRef ? 'Secret' : env.configMapKeyRef ? 'ConfigMap' : 'source'} instead of the pod's spec.nodeName, which no stored value can match for every Fargate pod.`,
    remediation: fix,
  };
}

/**
 * On Fargate the agent runs as a sidecar and reaches the kubelet through the API server. That mode
 * needs DD_EKS_FARGATE=true and the node name from the downward API (fieldRef spec.nodeName).
 */
export const fargateSidecarMode: Check = {
  id: 'fargate-sidecar-mode',
  area: 'wiring',
  title:
    'Agent sidecars on Fargate run in kubelet proxy mode with the node name from spec.nodeName',
  severity: 'critical',
  resourceType: 'Pod',
  risk: 'Without DD_EKS_FARGATE=true the agent looks for a kubelet Fargate does not expose; without DD_KUBERNETES_KUBELET_NODENAME from spec.nodeName it fails with "kubelet proxy mode enabled but nodename is empty" or queries the wrong node: no kubelet, pod or container data.',
  remediation:
    'In the agent container env: DD_EKS_FARGATE: "true" and DD_KUBERNETES_KUBELET_NODENAME from valueFrom.fieldRef.fieldPath: spec.nodeName.',
  requires: ['kube.pods'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const results: CheckResult[] = [];
    for (const a of discoverAgents(snapshot).agents) {
      // Cluster checks runners never read the kubelet, so proxy mode does not apply to them.
      if (!a.onFargate || isClusterChecksRunner(a)) continue;
      const where = `Container ${a.container.name} in ${agentLocation(a)}`;
      const failures = [eksFargate(a, where), nodeName(a, where)].filter(
        (r): r is CheckResult => r !== undefined,
      );
      results.push(...failures);
      if (failures.length === 0) {
        results.push({
          status: 'PASS',
          resource: agentResource(a),
          messageId: `ok:${a.container.name}`,
          message: `${where} runs in kubelet proxy mode: DD_EKS_FARGATE=true and DD_KUBERNETES_KUBELET_NODENAME from spec.nodeName.`,
          remediation: '',
        });
      }
    }
    return results;
  },
};
