import type { CheckResult } from '../../findings.js';
import { itemsOf, type ClusterSnapshot } from '../../snapshot.js';
import type { Check } from '../check.js';
import { COPIED_LABEL, copyWriterLabel, pushWriters, secretCopies } from './copies.js';

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
    'Delete the PushSecret (or point it at another remote key): Secrets Manager must have one writer, its rotation.',
  requires: [],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const collected = snapshot.kube.pushSecrets;
    if (!collected || collected.status !== 'ok') return [];
    const writers = pushWriters(snapshot);
    const results: CheckResult[] = [];
    for (const w of writers) {
      const ns = w.push.meta.namespace ?? '';
      const first: string[] = [];
      for (const c of secretCopies(snapshot)) {
        if (c.value !== w.value) continue;
        const label = copyWriterLabel(c.writer);
        if (!first.includes(label)) first.push(label);
        if (first.length === 3) break;
      }
      const rotation = w.value === 'token' ? snapshot.aws.tokenSource : undefined;
      const owner =
        rotation?.status === 'ok' && rotation.value.rotationEnabled
          ? 'Secrets Manager rotation (enabled)'
          : 'whoever maintains it (rotation or the team owning it)';
      results.push({
        status: 'FAIL',
        resource: { kind: 'PushSecret', namespace: ns, name: w.push.meta.name },
        messageId: `pushes-into-source:${w.value}`,
        message: `PushSecret ${ns}/${w.push.meta.name} pushes${w.secretKey ? ` key "${w.secretKey}" of` : ''} Secret ${ns}/${w.push.sourceSecret ?? '?'} into ${w.remoteKey}${w.property ? ` property "${w.property}"` : ''}, the Secrets Manager secret of the ${COPIED_LABEL[w.value]}. It is a second writer beside ${owner}${w.push.updatePolicy === 'IfNotExists' ? ' (updatePolicy IfNotExists: it writes only when the secret is missing, e.g. after a deletion)' : ''}${first.length ? `; copies written by ${first.join(', ')} follow whatever it pushed` : ''}.`,
        remediation: `Delete it (kubectl -n ${ns} delete pushsecret ${w.push.meta.name}) or change spec.data[].match.remoteRef.remoteKey ${w.remoteKey} to another secret; keep ${w.source.secretId} written only by its rotation.`,
      });
    }
    // A PushSecret into other keys is not about Datadog: only the pushes above are evaluated.
    if (results.length === 0 && itemsOf(collected).length > 0) {
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
