/**
 * How the agent reads its environment: `DD_<KEY>` variables, the last definition of a name wins
 * (Kubernetes semantics), booleans parsed like Go's strconv.ParseBool.
 */
import type { Container, EnvVar } from '../../snapshot/snapshot.js';
import type { AgentContainer } from '../../snapshot/agents.js';

/** The effective definition of `name` in the container's `env`, when any. */
export function envVar(c: Container, name: string): EnvVar | undefined {
  let found: EnvVar | undefined;
  for (const e of c.env) if (e.name === name) found = e;
  return found;
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool: true/false, or undefined when the value is not a boolean. */
export function parseBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

/** Sources the auditor cannot see into (ConfigMaps, Secrets via envFrom) that might set `name`. */
export function opaqueSources(c: Container, name: string): string[] {
  return c.envFrom
    .filter((s) => !s.prefix || name.startsWith(s.prefix))
    .map((s) =>
      s.configMapRef
        ? `ConfigMap ${s.configMapRef.name}`
        : s.secretRef
          ? `Secret ${s.secretRef.name}`
          : '',
    )
    .filter(Boolean);
}

/** The object whose spec a fix changes: the workload template, or the bare pod. */
export function ownerLabel(a: AgentContainer): string {
  return a.workload
    ? `${a.workload.kind} ${a.namespace}/${a.workload.meta.name}`
    : `Pod ${a.namespace}/${a.pod!.meta.name}`;
}

/**
 * True when the container is in the running pod but not in its workload's template: the Datadog
 * admission controller injected it, so the fix belongs in the injection profile, not the template.
 */
export function isInjected(a: AgentContainer): boolean {
  return (
    !!a.pod &&
    !!a.workload &&
    !a.workload.template.spec.containers.some((c) => c.name === a.container.name)
  );
}

/** Where to change the container's env, phrased for a remediation. */
export function whereToSet(a: AgentContainer): string {
  if (isInjected(a)) {
    return `the Datadog admission controller's sidecar injection profile (Helm clusterAgent.admissionController.agentSidecarInjection.profiles[].env, or the DatadogAgent's sidecar profiles), since container ${a.container.name} is injected into ${ownerLabel(a)}'s pods`;
  }
  return `container ${a.container.name} of ${ownerLabel(a)}${a.workload ? ' (spec.template.spec.containers[].env)' : ''}`;
}

/** The resource a wiring result is about: the workload (stable across pod restarts), else the pod. */
export function agentResource(a: AgentContainer): {
  kind: string;
  namespace: string;
  name: string;
} {
  return a.workload
    ? { kind: a.workload.kind, namespace: a.namespace, name: a.workload.meta.name }
    : { kind: 'Pod', namespace: a.namespace, name: a.pod!.meta.name };
}
