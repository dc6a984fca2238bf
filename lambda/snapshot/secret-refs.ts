/**
 * Which secrets the audit reads, decided from metadata alone. Only Datadog-relevant secrets are
 * named: `DD_*` secretKeyRefs, envFrom of Datadog containers, ExternalSecret targets that carry the
 * token or Datadog keys, the admission controller's `datadog-secret` for pods that ask for an
 * injected sidecar (and the Secrets a sidecar profile names instead), and the token and key Secrets a DatadogAgent names (or the Operator writes).
 * Application secrets are never read.
 */
import {
  readInjectionConfig,
  sidecarRequestMatcher,
  sidecarSecretInputs,
  type SidecarRequestMatcher,
  type SidecarSecretInput,
} from './admission/sidecar-config.js';
import { operatorKeyRefs, operatorTokenRef } from './operator-refs.js';
import type {
  AuditSettings,
  Collected,
  Container,
  DatadogAgent,
  ExternalSecret,
  KubeSnapshot,
  Namespace,
  Pod,
  PodSpec,
  SecretReference,
  Workload,
} from './snapshot.js';

/** Secret the admission controller's injected Fargate sidecar reads (keys `token`, `api-key`). */
export const ADMISSION_SIDECAR_SECRET = 'datadog-secret';
/** Pod label asking the admission controller to inject the agent sidecar. */
export const SIDECAR_INJECTION_LABEL = 'agent.datadoghq.com/sidecar';

export function isDatadogContainer(c: Container): boolean {
  return (
    /datadog|dd-agent|cluster-agent/i.test(c.image) ||
    /^datadog|^dd-agent|cluster-agent/i.test(c.name) ||
    c.env.some((e) => e.name.startsWith('DD_'))
  );
}

/** True when an ExternalSecret may carry the Cluster Agent token or other Datadog keys. */
export function isDatadogExternalSecret(es: ExternalSecret, settings: AuditSettings): boolean {
  const keys = [
    ...es.data.map((d) => d.remoteRef.key),
    ...es.dataFrom.map((d) => d.extract?.key ?? ''),
  ];
  return (
    es.data.some((d) => d.secretKey === 'token') ||
    keys.some((k) => k === settings.tokenSecretId || /datadog/i.test(k)) ||
    /datadog/i.test(es.meta.name) ||
    /datadog/i.test(es.target.name ?? '')
  );
}

/** Effective target Secret name of an ExternalSecret (defaults to the ExternalSecret's name). */
export function externalSecretTarget(es: ExternalSecret): string {
  return es.target.name ?? es.meta.name;
}

export interface SecretRefInput {
  pods: Pod[];
  workloads: Workload[];
  externalSecrets: ExternalSecret[];
  /** For the admission controller's namespace selector; without them only the object selector counts. */
  namespaces?: Namespace[];
  /** The Operator's DatadogAgents: their token and key Secrets are read even before any pod runs. */
  datadogAgents?: DatadogAgent[];
}

/** What the Secrets worth reading are found from, taken from the listed kinds of a snapshot. */
export function secretRefInputOf(kube: Omit<KubeSnapshot, 'secrets'>): SecretRefInput {
  const items = <T>(c: Collected<T[]>): T[] => (c.status === 'ok' ? c.value : []);
  return {
    pods: items(kube.pods),
    workloads: [...items(kube.deployments), ...items(kube.daemonsets), ...items(kube.statefulsets)],
    externalSecrets: items(kube.externalSecrets),
    namespaces: items(kube.namespaces),
    datadogAgents: items(kube.datadogAgents),
  };
}

/**
 * Which pods ask for an injected sidecar, and which Secret keys that sidecar will read, by the
 * Cluster Agent's own injection settings (the first Cluster Agent container found, in the
 * configured namespace when one is set). The checks use the same rules through agent discovery.
 */
function collectorSidecarMatcher(
  input: SecretRefInput,
  settings: AuditSettings,
): { asksForSidecar: SidecarRequestMatcher; inputs: SidecarSecretInput[] } {
  const isCa = (c: Container) => /cluster-agent/i.test(c.image) || /^cluster-agent$/.test(c.name);
  const inScope = (ns: string | undefined) =>
    !settings.clusterAgent.namespace || ns === settings.clusterAgent.namespace;
  let found: { c: Container; ns: string } | undefined;
  for (const p of input.pods) {
    if (!inScope(p.meta.namespace)) continue;
    const c = p.spec.containers.find(isCa);
    if (c) {
      found = { c, ns: p.meta.namespace ?? '' };
      break;
    }
  }
  if (!found) {
    for (const w of input.workloads) {
      if (w.kind !== 'Deployment' || !inScope(w.meta.namespace)) continue;
      const c = w.template.spec.containers.find(isCa);
      if (c) {
        found = { c, ns: w.meta.namespace ?? '' };
        break;
      }
    }
  }
  const config = found && readInjectionConfig(found.c, found.ns);
  return {
    asksForSidecar: sidecarRequestMatcher(config, input.namespaces ?? []),
    inputs: sidecarSecretInputs(config),
  };
}

/** `namespace/name` -> the references that name it, in a stable order. */
export function referencedSecrets(
  input: SecretRefInput,
  settings: AuditSettings,
): Map<string, { namespace: string; name: string; references: SecretReference[] }> {
  const out = new Map<string, { namespace: string; name: string; references: SecretReference[] }>();
  const add = (namespace: string, name: string, ref: SecretReference) => {
    if (!namespace || !name) return;
    const key = `${namespace}/${name}`;
    let entry = out.get(key);
    if (!entry) {
      entry = { namespace, name, references: [] };
      out.set(key, entry);
    }
    if (
      !entry.references.some((r) => r.via === ref.via && r.from === ref.from && r.key === ref.key)
    ) {
      entry.references.push(ref);
    }
  };

  const fromSpec = (namespace: string, spec: PodSpec, from: string) => {
    for (const c of [...spec.containers, ...spec.initContainers]) {
      for (const e of c.env) {
        if (e.secretKeyRef && e.name.startsWith('DD_')) {
          add(namespace, e.secretKeyRef.name, {
            via: 'env-secretKeyRef',
            from,
            key: e.secretKeyRef.key,
          });
        }
      }
      if (isDatadogContainer(c)) {
        for (const f of c.envFrom) {
          if (f.secretRef) add(namespace, f.secretRef.name, { via: 'envFrom-secretRef', from });
        }
      }
    }
  };

  const { asksForSidecar, inputs } = collectorSidecarMatcher(input, settings);
  // datadog-secret is read for every pod that asks, even when a profile points both variables
  // elsewhere: its absence is what older Cluster Agents and the docs' setups trip on.
  const sidecarSecrets = (ns: string, from: string) => {
    add(ns, ADMISSION_SIDECAR_SECRET, { via: 'admission-sidecar', from });
    for (const i of inputs) {
      if (i.fromProfile) add(ns, i.secret, { via: 'admission-sidecar', from, key: i.key });
    }
  };
  for (const pod of input.pods) {
    const ns = pod.meta.namespace ?? '';
    const from = `Pod ${ns}/${pod.meta.name}`;
    fromSpec(ns, pod.spec, from);
    if (asksForSidecar(pod.meta.labels, ns)) sidecarSecrets(ns, from);
  }
  for (const w of input.workloads) {
    const ns = w.meta.namespace ?? '';
    fromSpec(ns, w.template.spec, `${w.kind} ${ns}/${w.meta.name}`);
    if (asksForSidecar(w.template.meta.labels, ns)) {
      sidecarSecrets(ns, `${w.kind} ${ns}/${w.meta.name}`);
    }
  }
  for (const es of input.externalSecrets) {
    if (!isDatadogExternalSecret(es, settings)) continue;
    const ns = es.meta.namespace ?? '';
    add(ns, externalSecretTarget(es), {
      via: 'externalsecret-target',
      from: `ExternalSecret ${ns}/${es.meta.name}`,
    });
  }
  for (const dda of input.datadogAgents ?? []) {
    const from = `DatadogAgent ${dda.meta.namespace ?? ''}/${dda.meta.name}`;
    const token = operatorTokenRef(dda);
    add(token.namespace, token.secret, { via: 'datadogagent', from, key: token.key });
    for (const k of operatorKeyRefs(dda)) {
      add(k.namespace, k.secret, { via: 'datadogagent', from, key: k.key });
    }
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
