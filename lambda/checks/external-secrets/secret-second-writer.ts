import type { CheckResult } from '../../config/findings.js';
import { itemsOf, type ClusterSnapshot } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import { COPY_MODEL, copyModel } from '../../snapshot/copies/model.js';
import { COPIED_LABEL } from '../../snapshot/copies/values.js';
import { copyWriterLabel, type PushWriter } from '../../snapshot/copies/writers.js';

/**
 * Nothing in the cluster writes back into the Secrets Manager secrets of the token or the
 * Datadog keys: a PushSecret doing so is a second writer, racing rotation and the team that owns
 * the secret, and copies everywhere follow whatever it pushed.
 */
export const secretSecondWriter: Check = {
  id: 'secret-second-writer',
  area: 'external-secrets',
  title: 'No PushSecret writes into the Secrets Manager secret of the token or a Datadog key',
  severity: 'high',
  resourceType: 'PushSecret',
  risk: 'A PushSecret overwrites the Secrets Manager secret every refreshInterval: a rotation is undone, or a stale in-cluster copy becomes the value every ExternalSecret then spreads to all agents.',
  remediation:
    'Delete the PushSecret (or point it at another remote key); for a child of a ClusterPushSecret, change the ClusterPushSecret (its namespace selectors or the Secret it pushes): Secrets Manager must have one writer, its rotation.',
  requires: [],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const collected = snapshot.kube.pushSecrets;
    const parents = snapshot.kube.clusterPushSecrets;
    if (collected?.status !== 'ok' && parents?.status !== 'ok') return [];
    const writers = copyModel(snapshot).pushes;
    const results: CheckResult[] = [];
    // Children of one ClusterPushSecret are one finding on the parent: ESO recreates a child.
    const byParent = new Map<string, PushWriter[]>();
    for (const w of writers) {
      if (!w.parent) continue;
      const id = `${w.parent.name}/${w.value}`;
      byParent.set(id, [...(byParent.get(id) ?? []), w]);
    }
    for (const w of writers) {
      const owner = ownerText(snapshot, w);
      const copies = copiesText(snapshot, w);
      if (w.parent) {
        const group = byParent.get(`${w.parent.name}/${w.value}`);
        if (!group || group[0] !== w) continue;
        results.push(parentResult(w, group, owner, copies));
        continue;
      }
      const ns = w.namespace;
      results.push({
        status: 'FAIL',
        resource: { kind: 'PushSecret', namespace: ns, name: w.push.meta.name },
        messageId: `pushes-into-source:${w.value}`,
        message: `PushSecret ${ns}/${w.push.meta.name} pushes${w.secretKey ? ` key "${w.secretKey}" of` : ''} Secret ${ns}/${w.push.sourceSecret ?? '?'} into ${w.remoteKey}${w.property ? ` property "${w.property}"` : ''}, the Secrets Manager secret of the ${COPIED_LABEL[w.value]}. It is a second writer beside ${owner}${updatePolicyText(w)}${copies}.`,
        remediation: `Delete it (kubectl -n ${ns} delete pushsecret ${w.push.meta.name}) or change spec.data[].match.remoteRef.remoteKey ${w.remoteKey} to another secret; keep ${w.source.secretId} written only by its rotation.`,
      });
    }
    // A PushSecret into other keys is not about Datadog: only the pushes above are evaluated.
    if (results.length === 0 && collected?.status === 'ok' && itemsOf(collected).length > 0) {
      results.push({
        status: 'PASS',
        resource: { kind: 'PushSecret', name: '*' },
        messageId: 'no-push-into-source',
        message: `None of the ${itemsOf(collected).length} PushSecret(s) writes into the Secrets Manager secrets of the token or the Datadog keys.`,
        remediation: '',
      });
    }
    return results;
  },
};

function ownerText(snapshot: ClusterSnapshot, w: PushWriter): string {
  const rotation = w.value === 'token' ? snapshot.aws.tokenSource : undefined;
  return rotation?.status === 'ok' && rotation.value.rotationEnabled
    ? 'Secrets Manager rotation (enabled)'
    : 'whoever maintains it (rotation or the team owning it)';
}

function updatePolicyText(w: PushWriter): string {
  return w.push.updatePolicy === 'IfNotExists'
    ? ' (updatePolicy IfNotExists: it writes only when the secret is missing, e.g. after a deletion)'
    : '';
}

/** `; copies written by A, B follow whatever it pushed`, naming at most three writers. */
function copiesText(snapshot: ClusterSnapshot, w: PushWriter): string {
  const first: string[] = [];
  for (const c of copyModel(snapshot).copies) {
    if (c.value !== w.value) continue;
    const label = copyWriterLabel(c.writer);
    if (!first.includes(label)) first.push(label);
    if (first.length === 3) break;
  }
  return first.length ? `; copies written by ${first.join(', ')} follow whatever it pushed` : '';
}

/**
 * The PushSecrets a ClusterPushSecret creates, reported on the parent: the fix is its namespace
 * selectors or the Secret and remote key of its pushSecretSpec, never a child that ESO recreates.
 */
function parentResult(
  w: PushWriter,
  group: PushWriter[],
  owner: string,
  copies: string,
): CheckResult {
  const name = w.parent!.name;
  const children = [...new Set(group.map((g) => `${g.namespace}/${g.push.meta.name}`))].sort();
  const shown = children.slice(0, 5).join(', ');
  const more = children.length > 5 ? ` and ${children.length - 5} more` : '';
  const spec = w.parent!.object ? ' (its spec.pushSecretSpec; no child was collected)' : '';
  const selectors = w.parent!.object?.namespaceSelectors.length
    ? 'narrow spec.namespaceSelectors so it selects no namespace holding that Secret'
    : 'narrow its spec.namespaceSelectors';
  return {
    status: 'FAIL',
    resource: { kind: 'ClusterPushSecret', name },
    messageId: `pushes-into-source:${w.value}`,
    message: `ClusterPushSecret ${name} creates PushSecret ${shown}${more}${spec}, which push${w.secretKey ? ` key "${w.secretKey}" of` : ''} Secret ${w.push.sourceSecret ?? '?'} into ${w.remoteKey}${w.property ? ` property "${w.property}"` : ''}, the Secrets Manager secret of the ${COPIED_LABEL[w.value]}. It is a second writer beside ${owner}${updatePolicyText(w)}${copies}. ESO recreates a deleted child from the ClusterPushSecret within its refreshTime.`,
    remediation: `Change ClusterPushSecret ${name}: set spec.pushSecretSpec.data[].match.remoteRef.remoteKey ${w.remoteKey} to another secret (or spec.pushSecretSpec.selector.secret.name to a Secret that does not hold the ${COPIED_LABEL[w.value]}), or ${selectors}; if it should not exist: kubectl delete clusterpushsecret ${name}. Keep ${w.source.secretId} written only by its rotation.`,
  };
}
