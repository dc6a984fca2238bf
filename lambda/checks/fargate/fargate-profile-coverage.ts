import type { CheckResult } from '../../config/findings.js';
import {
  itemsOf,
  type ClusterSnapshot,
  type FargateProfile,
  type Pod,
} from '../../snapshot/snapshot.js';
import {
  fargatePlacement,
  FARGATE_PROFILE_LABEL,
  matchingSelector,
  type ProfileSelector,
} from '../../snapshot/workloads/fargate-profiles.js';
import type { Check } from '../check.js';
import {
  discoverAgents,
  isClusterAgentContainer,
  isNodeAgentContainer,
} from '../../snapshot/agents.js';

interface Target {
  resource: { kind: string; namespace: string; name: string };
  label: string;
  namespace: string;
  labels: Record<string, string>;
  pod?: Pod;
  /** The profile EKS recorded on the running pod (label `eks.amazonaws.com/fargate-profile`). */
  runningProfile?: string;
  /** Set when the pod template itself pins a profile with that label (a user choice, not EKS's). */
  pinnedByTemplate: boolean;
  what: string;
}

/**
 * Every pod that runs Datadog on Fargate (agent sidecars, the Cluster Agent) is selected by an
 * ACTIVE profile, with EKS's wildcard semantics; a Pending Datadog pod no profile selects will
 * never be scheduled; several profiles selecting the same pod is worth knowing (EKS picks one at
 * random).
 */
export const fargateProfileCoverage: Check = {
  id: 'fargate-profile-coverage',
  area: 'fargate',
  title: 'Every Datadog pod meant for Fargate is selected by an ACTIVE Fargate profile',
  severity: 'high',
  resourceType: 'Pod',
  risk: 'A pod that no ACTIVE Fargate profile selects is not scheduled on Fargate: in a Fargate-only cluster it stays Pending forever, and a running pod whose profile was deleted will not come back after its next restart.',
  remediation:
    'Add a selector for the namespace (and labels) to a Fargate profile: profiles are immutable, so create a new profile with it.',
  requires: ['aws.fargateProfiles', 'kube.pods'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const profiles = itemsOf(snapshot.aws.fargateProfiles);
    const discovery = discoverAgents(snapshot);
    const readyEc2 = itemsOf(snapshot.kube.nodes).some((n) => n.computeType === 'ec2' && n.ready);
    const targets = collectTargets(snapshot, discovery, readyEc2);
    const template = profiles.find((p) => p.status === 'ACTIVE') ?? profiles[0];
    const cluster = snapshot.cluster.name;
    const region = snapshot.cluster.region ? ` --region ${snapshot.cluster.region}` : '';
    const results: CheckResult[] = [];

    for (const t of targets) {
      // EKS writes the profile label on every pod it schedules; only a template's label pins.
      const { [FARGATE_PROFILE_LABEL]: _recorded, ...ownLabels } = t.labels;
      const placement = fargatePlacement(
        profiles,
        t.namespace,
        t.pinnedByTemplate ? t.labels : ownLabels,
      );
      const labelsText = describeLabels(ownLabels);
      const createCmd = `aws eks create-fargate-profile${region} --cluster-name ${cluster} --fargate-profile-name datadog-${t.namespace}${
        template?.podExecutionRoleArn
          ? ` --pod-execution-role-arn ${template.podExecutionRoleArn}`
          : ' --pod-execution-role-arn <pod-execution-role-arn>'
      } --subnets ${template?.subnets.length ? template.subnets.join(' ') : '<private-subnet-ids>'} --selectors '[{"namespace":"${t.namespace}"}]'`;

      if (placement.candidates.length === 0) {
        const pinned = t.runningProfile;
        const pinnedProfile = pinned ? profiles.find((p) => p.name === pinned) : undefined;
        const why = pinned
          ? pinnedProfile
            ? pinnedProfile.status !== 'ACTIVE'
              ? `its profile ${pinned} is ${pinnedProfile.status}`
              : `its profile ${pinned} no longer selects namespace ${t.namespace} with these labels`
            : `its profile ${pinned} no longer exists`
          : 'no ACTIVE Fargate profile selects it';
        const pending = t.pod && t.pod.status.phase === 'Pending' && !t.pod.spec.nodeName;
        results.push({
          status: 'FAIL',
          resource: t.resource,
          messageId: pending ? 'pending-unmatched' : 'unmatched',
          message: `${t.label} (${t.what}, namespace ${t.namespace}, labels ${labelsText}) ${
            pending
              ? `is Pending and ${why}${readyEc2 ? '' : '; the cluster has no ready EC2 node, so it will never be scheduled'}`
              : `runs on Fargate but ${why}: the next restart or rollout leaves it Pending`
          }. ACTIVE profiles: ${activeSummary(profiles)}.`,
          remediation: `Select namespace ${t.namespace} with an ACTIVE Fargate profile (profiles are immutable, create one): ${createCmd}`,
        });
        continue;
      }
      const chosen = placement.profile ?? placement.candidates[0]!;
      const selector = matchingSelector(chosen, t.namespace, t.labels)!;
      if (t.pinnedByTemplate && !placement.profile) {
        results.push({
          status: 'FAIL',
          resource: t.resource,
          messageId: 'pinned-profile-unmatched',
          message: `${t.label} (${t.what}) names Fargate profile ${t.labels[FARGATE_PROFILE_LABEL]} in label ${FARGATE_PROFILE_LABEL}, which is not an ACTIVE profile selecting it; ${placement.candidates.map((p) => p.name).join(', ')} would.`,
          remediation: `Set label ${FARGATE_PROFILE_LABEL} in ${t.label.startsWith('Pod ') ? `the manifest of ${t.label} (then recreate the pod)` : `the pod template of ${t.label}`} to one of ${placement.candidates.map((p) => p.name).join(', ')}, or remove it.`,
        });
        continue;
      }
      results.push({
        status: 'PASS',
        resource: t.resource,
        messageId: 'matched',
        message: `${t.label} (${t.what}) is selected by ACTIVE Fargate profile ${chosen.name} (selector ${describeSelector(selector)}).`,
        remediation: '',
      });
      if (placement.candidates.length > 1) {
        results.push({
          status: 'FAIL',
          severity: 'info',
          resource: t.resource,
          messageId: 'overlap',
          message: `${t.label} is selected by ${placement.candidates.length} ACTIVE Fargate profiles (${placement.candidates
            .map(
              (p) => `${p.name}: ${describeSelector(matchingSelector(p, t.namespace, t.labels)!)}`,
            )
            .join(
              '; ',
            )}); EKS picks one at random unless the pod pins one, so its subnets and execution role can vary between restarts.`,
          remediation: `Narrow the selectors so one profile selects ${t.namespace}, or pin one with label ${FARGATE_PROFILE_LABEL}: <profile-name> in the pod template.`,
        });
      }
    }
    return results;
  },
};

function collectTargets(
  snapshot: ClusterSnapshot,
  discovery: ReturnType<typeof discoverAgents>,
  readyEc2: boolean,
): Target[] {
  const targets = new Map<string, Target>();
  const add = (t: Target) => {
    const key = `${t.resource.kind}/${t.resource.namespace}/${t.resource.name}`;
    if (!targets.has(key)) targets.set(key, t);
  };
  for (const a of discovery.agents) {
    // DaemonSet pods never run on Fargate: those agents are the EC2 side's.
    if (a.workload?.kind === 'DaemonSet') continue;
    const pending = a.pod && a.pod.status.phase === 'Pending' && !a.pod.spec.nodeName;
    // A pending pod with a sidecar agent next to an app container is the Fargate pattern.
    const sidecar = a.pod ? a.pod.spec.containers.some((c) => !isNodeAgentContainer(c)) : false;
    if (!a.onFargate && !(pending && (sidecar || !readyEc2))) continue;
    const pinnedByTemplate = Boolean(a.workload?.template.meta.labels[FARGATE_PROFILE_LABEL]);
    if (a.pod)
      add(podTarget(a.pod, sidecar ? 'Datadog agent sidecar' : 'Datadog agent', pinnedByTemplate));
    else
      add({
        resource: { kind: a.workload!.kind, namespace: a.namespace, name: a.workload!.meta.name },
        label: `${a.workload!.kind} ${a.namespace}/${a.workload!.meta.name}`,
        namespace: a.namespace,
        labels: a.workload!.template.meta.labels,
        pinnedByTemplate,
        what: 'Datadog agent pod template',
      });
  }
  const nodes = discovery.nodesByName;
  for (const pod of discovery.clusterAgent?.pods ?? []) {
    const node = pod.spec.nodeName ? nodes.get(pod.spec.nodeName) : undefined;
    const onFargate =
      Boolean(pod.meta.labels[FARGATE_PROFILE_LABEL]) ||
      node?.computeType === 'fargate' ||
      (pod.spec.nodeName ?? '').startsWith('fargate-');
    const pending = pod.status.phase === 'Pending' && !pod.spec.nodeName;
    const pinnedByTemplate = Boolean(
      discovery.clusterAgent?.deployment?.template.meta.labels[FARGATE_PROFILE_LABEL],
    );
    if (onFargate || (pending && !readyEc2))
      add(podTarget(pod, 'Datadog Cluster Agent', pinnedByTemplate));
  }
  // Pending pods with a Cluster Agent container that discovery did not label as such.
  for (const pod of itemsOf(snapshot.kube.pods)) {
    if (pod.status.phase !== 'Pending' || pod.spec.nodeName || readyEc2) continue;
    if (pod.spec.containers.some(isClusterAgentContainer))
      add(podTarget(pod, 'Datadog Cluster Agent', false));
  }
  return [...targets.values()];
}

function podTarget(pod: Pod, what: string, pinnedByTemplate: boolean): Target {
  const namespace = pod.meta.namespace ?? '';
  const runningProfile = pod.meta.labels[FARGATE_PROFILE_LABEL];
  return {
    resource: { kind: 'Pod', namespace, name: pod.meta.name },
    label: `Pod ${namespace}/${pod.meta.name}`,
    namespace,
    labels: pod.meta.labels,
    pod,
    pinnedByTemplate,
    ...(runningProfile ? { runningProfile } : {}),
    what,
  };
}

function describeLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels).filter(([k]) => k !== 'pod-template-hash');
  return entries.length ? `{${entries.map(([k, v]) => `${k}=${v}`).join(', ')}}` : '{}';
}

function describeSelector(s: ProfileSelector): string {
  const labels = Object.entries(s.labels);
  return labels.length
    ? `namespace ${s.namespace}, labels ${labels.map(([k, v]) => `${k}=${v}`).join(', ')}`
    : `namespace ${s.namespace}`;
}

function activeSummary(profiles: FargateProfile[]): string {
  const active = profiles.filter((p) => p.status === 'ACTIVE');
  if (active.length === 0) return 'none';
  return active
    .map((p) => `${p.name} [${p.selectors.map(describeSelector).join('; ')}]`)
    .join(', ');
}
