import type { CheckResult } from '../../config/findings.js';
import { selectorMatches } from '../../snapshot/net/label-selector.js';
import {
  itemsOf,
  type ClusterExternalSecret,
  type ClusterSnapshot,
  type ExternalSecret,
  type LabelSelector,
} from '../../snapshot/snapshot.js';
import { externalSecretTarget } from '../../snapshot/secret-refs.js';
import type { Check } from '../check.js';
import { quoteConditionMessage, readyCondition } from '../../snapshot/eso.js';
import { COPY_MODEL, copyModel } from '../../snapshot/copies/model.js';
import { readerLabel } from '../../snapshot/copies/readers.js';
import { sameSmSecret, sourceSecrets } from '../../snapshot/copies/values.js';
import { parentCes } from '../../snapshot/copies/writers.js';

/** Name of the ExternalSecrets (and, by default, Secrets) a ClusterExternalSecret creates. */
export function childName(ces: ClusterExternalSecret): string {
  return ces.externalSecretName ?? ces.meta.name;
}

/** Secret each child writes: the spec's target name, else the child's name. */
export function childTarget(ces: ClusterExternalSecret): string {
  return externalSecretTarget(ces.externalSecretSpec);
}

/** The selectors ESO ORs: namespaceSelectors, the older namespaceSelector, and namespaces. */
export function selects(ces: ClusterExternalSecret, name: string, labels: Record<string, string>) {
  if (ces.namespaces.includes(name)) return true;
  const selectors: LabelSelector[] = [
    ...ces.namespaceSelectors,
    ...(ces.namespaceSelector ? [ces.namespaceSelector] : []),
  ];
  return selectors.some((s) => selectorMatches(s, labels));
}

/** True when the ClusterExternalSecret writes the token or a Datadog key, directly or by chain. */
function carriesDatadogValue(ces: ClusterExternalSecret, snapshot: ClusterSnapshot): boolean {
  const sources = sourceSecrets(snapshot.settings);
  if (
    ces.externalSecretSpec.data.some((d) =>
      sources.some((s) => sameSmSecret(d.remoteRef.key, s.secretId)),
    )
  ) {
    return true;
  }
  return copyModel(snapshot).copies.some((c) => c.writer.hops[0]?.ces === ces);
}

function labelCommand(ces: ClusterExternalSecret, ns: string): string {
  const first = ces.namespaceSelectors[0] ?? ces.namespaceSelector;
  const labels = Object.entries(first?.matchLabels ?? {});
  if (labels.length > 0) {
    return `kubectl label namespace ${ns} ${labels.map(([k, v]) => `${k}=${v}`).join(' ')}`;
  }
  return `add "${ns}" to spec.namespaces (or a label its spec.namespaceSelectors match) of ClusterExternalSecret ${ces.meta.name}`;
}

function reconcileCommand(ces: ClusterExternalSecret): string {
  // Any change to the object makes ESO reconcile it (and re-select namespaces) at once.
  return `kubectl annotate clusterexternalsecret ${ces.meta.name} force-sync=$(date +%s) --overwrite`;
}

/**
 * A ClusterExternalSecret that fans the token or a Datadog key out must have a child in every
 * namespace whose agents read the Secret it writes: selected, not failed, child present.
 */
export const clusterexternalsecretCoverage: Check = {
  id: 'clusterexternalsecret-coverage',
  area: 'external-secrets',
  title: 'ClusterExternalSecrets reach every namespace whose agents read the Secret they write',
  severity: 'high',
  resourceType: 'ClusterExternalSecret',
  risk: 'A namespace the ClusterExternalSecret does not select, or where its child failed, has no (or an old) token or API key Secret: its agents fail to start or are rejected by the Cluster Agent and the intake.',
  remediation:
    'Label the namespace so a namespaceSelector matches it, fix the reason in status.failedNamespaces, then make ESO reconcile the ClusterExternalSecret.',
  requires: ['kube.namespaces'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const collected = snapshot.kube.clusterExternalSecrets;
    if (!collected || collected.status !== 'ok') return [];
    const namespaces = new Map(
      itemsOf(snapshot.kube.namespaces).map((n) => [n.meta.name, n.meta.labels]),
    );
    const cesByName = new Map(collected.value.map((c) => [c.meta.name, c]));
    const children = new Map<string, ExternalSecret>();
    for (const es of itemsOf(snapshot.kube.externalSecrets)) {
      const parent = parentCes(es, cesByName);
      if (parent) children.set(`${parent.meta.name}/${es.meta.namespace ?? ''}`, es);
    }

    const carrying = collected.value.filter((ces) => carriesDatadogValue(ces, snapshot));
    if (carrying.length === 0) return [];
    // Who reads the Secrets the ClusterExternalSecrets write, by name then namespace: the readers
    // of the one copy model (containers, workloads not running, sidecar requests, DatadogAgents).
    const targets = new Set(carrying.map(childTarget));
    const readers = new Map<string, Map<string, Set<string>>>();
    const { keys } = copyModel(snapshot);
    for (const k of [...keys.token, ...keys['api-key'], ...keys['app-key']]) {
      if (!targets.has(k.secret) || k.users.length === 0) continue;
      let byNs = readers.get(k.secret);
      if (!byNs) readers.set(k.secret, (byNs = new Map()));
      const from = byNs.get(k.namespace) ?? new Set<string>();
      for (const u of k.users) {
        // A pod and the workload whose template to fix, as the collector's references list them.
        const labels = [readerLabel(u)];
        if (u.pod && u.workload) {
          labels.push(`${u.workload.kind} ${u.namespace}/${u.workload.meta.name}`);
        }
        for (const label of labels) from.add(label);
      }
      byNs.set(k.namespace, from);
    }

    const results: CheckResult[] = [];
    for (const ces of carrying) {
      const target = childTarget(ces);
      const byNs = readers.get(target);
      if (!byNs) continue;
      for (const ns of [...byNs.keys()].sort()) {
        results.push(judge(ces, ns, target, namespaces.get(ns), [...byNs.get(ns)!], children));
      }
    }
    return results;
  },
};

function judge(
  ces: ClusterExternalSecret,
  ns: string,
  target: string,
  labels: Record<string, string> | undefined,
  from: string[],
  children: Map<string, ExternalSecret>,
): CheckResult {
  const resource = { kind: 'ClusterExternalSecret', name: ces.meta.name };
  const who = `ClusterExternalSecret ${ces.meta.name}`;
  const readBy = `Secret ${ns}/${target} is read by ${from.slice(0, 4).join(', ')}${from.length > 4 ? ` and ${from.length - 4} more` : ''}`;
  const ready = readyCondition(ces.status.conditions);
  const readyText =
    ready && ready.status !== 'True'
      ? ` ${who} is not Ready${ready.message ? `: ${quoteConditionMessage(ready.message)}` : ''}.`
      : '';
  const failed = ces.status.failedNamespaces.find((f) => f.namespace === ns);
  if (failed) {
    const reason = quoteConditionMessage(failed.reason) || 'no reason given';
    return {
      status: 'FAIL',
      resource,
      messageId: `failed:${ns}`,
      message: `${who} failed in namespace ${ns}: ${reason}. ${readBy}, which it should write (ExternalSecret ${ns}/${childName(ces)}).${readyText}`,
      remediation: `Fix the cause in namespace ${ns} (${reason}), e.g. delete a Secret or ExternalSecret named ${childName(ces)} that ESO does not own there, then make ESO reconcile: ${reconcileCommand(ces)}.`,
    };
  }
  const child = children.get(`${ces.meta.name}/${ns}`);
  if (!labels) {
    return {
      status: 'ERROR',
      resource,
      messageId: `namespace-unknown:${ns}`,
      message: `${readBy}, but namespace ${ns} could not be read, so whether ${who} selects it is unknown.`,
      remediation: `Grant the auditor list on namespaces and re-run.`,
      severity: 'info',
    };
  }
  if (!selects(ces, ns, labels)) {
    return {
      status: 'FAIL',
      resource,
      messageId: `not-selected:${ns}`,
      message: `${who} does not select namespace ${ns} (its labels match none of spec.namespaceSelectors${ces.namespaces.length ? ' and it is not in spec.namespaces' : ''}). ${readBy}, which only ${who} writes under that name${child ? '' : ', so it is missing or left over from an earlier selection'}.`,
      remediation: `Select the namespace: ${labelCommand(ces, ns)}. ESO creates the child at its next reconcile; to do it now: ${reconcileCommand(ces)}. Then restart the pods that read ${ns}/${target}.`,
    };
  }
  if (!child) {
    const provisioned = ces.status.provisionedNamespaces.includes(ns);
    return {
      status: 'FAIL',
      resource,
      messageId: `no-child:${ns}`,
      message: `${who} selects namespace ${ns} but no ExternalSecret ${ns}/${childName(ces)} controlled by it (ownerReference) exists${provisioned ? ' although status.provisionedNamespaces lists it' : ''}. ${readBy}.${readyText}`,
      remediation: `Make ESO reconcile the ClusterExternalSecret: ${reconcileCommand(ces)}; if it still does not appear, read the ESO controller log for ${ces.meta.name}.`,
    };
  }
  return {
    status: 'PASS',
    resource,
    messageId: `provisioned:${ns}`,
    message: `${who} selects namespace ${ns} and its child ExternalSecret ${ns}/${child.meta.name} writes Secret ${ns}/${target}.`,
    remediation: '',
  };
}

/**
 * The object that should have written Secret `namespace/secret` when it is missing: a
 * ClusterExternalSecret whose children write that name, with why it did not. Undefined when none.
 */
export function expectedWriter(
  snapshot: ClusterSnapshot,
  namespace: string,
  secret: string,
): string | undefined {
  const collected = snapshot.kube.clusterExternalSecrets;
  if (!collected || collected.status !== 'ok') return undefined;
  const labels = itemsOf(snapshot.kube.namespaces).find((n) => n.meta.name === namespace)?.meta
    .labels;
  for (const ces of collected.value) {
    if (childTarget(ces) !== secret) continue;
    const who = `ClusterExternalSecret ${ces.meta.name}`;
    const failed = ces.status.failedNamespaces.find((f) => f.namespace === namespace);
    if (failed) {
      return `${who} should write it but failed in ${namespace}: ${quoteConditionMessage(failed.reason) || 'no reason given'} (see clusterexternalsecret-coverage).`;
    }
    if (labels && !selects(ces, namespace, labels)) {
      return `${who} writes Secrets of this name but does not select namespace ${namespace}: ${labelCommand(ces, namespace)} (see clusterexternalsecret-coverage).`;
    }
    return `${who} should write it here; make ESO reconcile it: ${reconcileCommand(ces)}.`;
  }
  return undefined;
}
