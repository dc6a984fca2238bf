import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import { pinnedVersion, pinnedWhat, templateEffect, type TemplateEffect } from './copy-settings.js';
import { esLabel, forceSyncCommand } from '../../snapshot/eso.js';
import { analyseSyncWindows, windowsBlocker } from './sync-windows.js';
import { COPY_MODEL, copyModel } from '../../snapshot/copies/model.js';
import { COPIED_LABEL } from '../../snapshot/copies/values.js';
import {
  type CopyHop,
  copyPath,
  copyWriterLabel,
  hopRefresh,
  type SecretCopy,
} from '../../snapshot/copies/writers.js';

/** One setting of one hop that stops the copy following Secrets Manager, with its exact edit. */
interface Blocker {
  id: 'pinned-version' | 'refreshes-once' | 'orphan-target' | 'sync-windows';
  what: string;
  edit: string;
}

function where(h: CopyHop): string {
  return h.ces
    ? `spec.externalSecretSpec of ClusterExternalSecret ${h.ces.meta.name} (its child ${esLabel(h.es)} is rewritten from it)`
    : esLabel(h.es);
}

function blockersOf(h: CopyHop, collectedAt: string): Blocker[] {
  const out: Blocker[] = [];
  const pinned = pinnedVersion(h.version);
  if (pinned.kind !== 'none') {
    out.push({
      id: 'pinned-version',
      what: pinnedWhat(pinned, h.remoteKey),
      edit: `remove remoteRef.version "${pinned.version}" from the data[] entry with remoteRef.key ${h.remoteKey} in ${where(h)} (ESO then reads AWSCURRENT)`,
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
  // syncWindows apply to Periodic refreshes only; a one-off refresh is reported above.
  if (h.es.syncWindows && refresh.kind === 'periodic') {
    const why = windowsBlocker(analyseSyncWindows(h.es.syncWindows, collectedAt));
    if (why) {
      out.push({
        id: 'sync-windows',
        what: why,
        edit: `remove spec.syncWindows from ${where(h)} (or shorten its ${h.es.syncWindows.kind} windows until refreshes are allowed most of the time and never blocked for more than 24h)`,
      });
    }
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
    'Copies of the token and Datadog keys follow Secrets Manager (no pinned version, no one-off sync, no orphaned target, no blocking sync windows)',
  severity: 'high',
  resourceType: 'Secret',
  risk: 'A copy pinned to a version, synced once or orphaned keeps the old value after the next rotation: agents reading it are rejected by the Cluster Agent (token) or the intake (API key) with no warning.',
  remediation:
    'Remove remoteRef.version, give the ExternalSecret a periodic refreshInterval without CreatedOnce/OnChange, use creationPolicy Owner, and remove syncWindows that block most refreshes, along every hop of the chain.',
  requires: ['kube.externalSecrets'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    const results: CheckResult[] = [];
    for (const copy of copyModel(snapshot).copies) {
      if (copy.writer.kind !== 'ExternalSecret') continue;
      results.push(judge(copy, snapshot.collectedAt));
    }
    return results;
  },
};

/** The first hop whose template does not pass the value through as it is. */
function renderedHop(
  copy: SecretCopy,
): { h: CopyHop; t: Exclude<TemplateEffect, { kind: 'verbatim' }> } | undefined {
  // Each hop writes the key its downstream hop reads (a kubernetes-store property).
  let key = copy.key;
  for (const h of copy.writer.hops) {
    const t = templateEffect(h.es, key);
    if (t.kind !== 'verbatim') return { h, t };
    key = h.property ?? key;
  }
  return undefined;
}

function judge(copy: SecretCopy, collectedAt: string): CheckResult {
  const resource = { kind: 'Secret', namespace: copy.namespace, name: copy.secret };
  const label = `Secret ${copy.namespace}/${copy.secret} key "${copy.key}" (${COPIED_LABEL[copy.value]}, written by ${copyWriterLabel(copy.writer)})`;
  const found = copy.writer.hops.flatMap((h) => blockersOf(h, collectedAt).map((b) => ({ h, b })));
  const rendered = renderedHop(copy);
  if (found.length === 0 && rendered) {
    // It may well follow Secrets Manager, but what it holds is not the source value: no PASS.
    return {
      status: 'ERROR',
      severity: 'info',
      resource,
      messageId: `template-not-comparable:${copy.key}`,
      message: `${label} refreshes periodically from ${copyPath(copy)}, but ${esLabel(rendered.h.es)}: ${rendered.t.why}. What it holds is the template's output, not the source value, so whether it keeps matching Secrets Manager cannot be told: not evaluated.`,
      remediation: `If the key must hold the ${COPIED_LABEL[copy.value]} as it is, set spec.target.template.data["${copy.key}"] to "{{ .${copy.key} }}" (or drop the template) in ${where(rendered.h)}.`,
    };
  }
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
