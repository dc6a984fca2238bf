import type { CheckResult } from '../../findings.js';
import type { ClusterSnapshot } from '../../snapshot.js';
import type { Check } from '../check.js';
import {
  COPIED_LABEL,
  copyPath,
  copyWriterLabel,
  hopRefresh,
  secretCopies,
  type CopyHop,
  type SecretCopy,
} from './copies.js';
import { esLabel, forceSyncCommand } from './eso.js';

/** One setting of one hop that stops the copy following Secrets Manager, with its exact edit. */
interface Blocker {
  id: 'pinned-version' | 'refreshes-once' | 'orphan-target';
  what: string;
  edit: string;
}

function where(h: CopyHop): string {
  return h.ces
    ? `spec.externalSecretSpec of ClusterExternalSecret ${h.ces.meta.name} (its child ${esLabel(h.es)} is rewritten from it)`
    : esLabel(h.es);
}

function blockersOf(h: CopyHop): Blocker[] {
  const out: Blocker[] = [];
  if (h.version) {
    out.push({
      id: 'pinned-version',
      what: `the data[] entry reading "${h.remoteKey}" pins remoteRef.version "${h.version}", so it keeps that version after every rotation`,
      edit: `remove remoteRef.version "${h.version}" from the data[] entry with remoteRef.key ${h.remoteKey} in ${where(h)} (ESO then reads AWSCURRENT)`,
    });
  }
  const refresh = hopRefresh(h);
  if (refresh.kind === 'once') {
    const policy = h.es.refreshPolicy && h.es.refreshPolicy !== 'Periodic';
    out.push({
      id: 'refreshes-once',
      what: `it has ${refresh.label}`,
      edit: `set spec.refreshInterval: 1h${policy ? ` and remove spec.refreshPolicy: ${h.es.refreshPolicy}` : ''} in ${where(h)}`,
    });
  }
  if (h.es.target.creationPolicy === 'Orphan') {
    out.push({
      id: 'orphan-target',
      what: 'spec.target.creationPolicy is Orphan, so ESO never repairs hand edits of the Secret and leaves it behind when the ExternalSecret goes',
      edit: `set spec.target.creationPolicy: Owner in ${where(h)}`,
    });
  }
  return out;
}

/**
 * Every copy of the token and of the Datadog keys keeps following Secrets Manager: no pinned
 * remoteRef.version, a periodic refresh, an owned target; along the whole chain. Reported even
 * when today's value still matches, because the next rotation will not arrive.
 */
export const copyFollowsSource: Check = {
  id: 'copy-follows-source',
  area: 'external-secrets',
  title:
    'Copies of the token and Datadog keys follow Secrets Manager (no pinned version, no one-off sync, no orphaned target)',
  severity: 'high',
  resourceType: 'Secret',
  risk: 'A copy pinned to a version, synced once or orphaned keeps the old value after the next rotation: agents reading it are rejected by the Cluster Agent (token) or the intake (API key) with no warning.',
  remediation:
    'Remove remoteRef.version, give the ExternalSecret a periodic refreshInterval without CreatedOnce/OnChange, and use creationPolicy Owner, along every hop of the chain.',
  requires: ['kube.externalSecrets'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const results: CheckResult[] = [];
    for (const copy of secretCopies(snapshot)) {
      if (copy.writer.kind !== 'ExternalSecret') continue;
      results.push(judge(copy));
    }
    return results;
  },
};

function judge(copy: SecretCopy): CheckResult {
  const resource = { kind: 'Secret', namespace: copy.namespace, name: copy.secret };
  const label = `Secret ${copy.namespace}/${copy.secret} key "${copy.key}" (${COPIED_LABEL[copy.value]}, written by ${copyWriterLabel(copy.writer)})`;
  const found = copy.writer.hops.flatMap((h) => blockersOf(h).map((b) => ({ h, b })));
  if (found.length === 0) {
    return {
      status: 'PASS',
      resource,
      messageId: `follows:${copy.key}`,
      message: `${label} follows Secrets Manager: ${copyPath(copy)}, periodic refresh, no pinned version, owned target.`,
      remediation: '',
    };
  }
  const causes = found.map(({ h, b }) => `${esLabel(h.es)}: ${b.what}`).join('; ');
  const edits = found.map(({ b }) => b.edit);
  const sync = [...new Set(found.map(({ h }) => forceSyncCommand(h.es)))];
  return {
    status: 'FAIL',
    resource,
    messageId: `${found[0]!.b.id}:${copy.key}`,
    message: `${label} stops following Secrets Manager (${copyPath(copy)}): ${causes}. Even if it matches today, the next rotation will not reach it.`,
    remediation: `${edits.map((e) => e[0]!.toUpperCase() + e.slice(1)).join('. ')}. Then sync: ${sync.join('; ')}.`,
  };
}
