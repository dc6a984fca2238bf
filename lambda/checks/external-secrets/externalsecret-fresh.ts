import type { CheckResult } from '../../config/findings.js';
import { valueOf, type ClusterSnapshot, type ExternalSecret } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import { ago, esLabel, forceSyncCommand, msBetween, refreshMode } from '../../snapshot/eso.js';
import { COPY_MODEL, tokenExternalSecrets, tokenKeys } from '../../snapshot/copies/model.js';

/**
 * The ExternalSecrets that feed the Cluster Agent token refresh on time: the last refresh is no
 * older than twice the refreshInterval, and one that never refreshes (refreshInterval 0,
 * CreatedOnce, OnChange) has synced since Secrets Manager last changed.
 */
export const externalsecretFresh: Check = {
  id: 'externalsecret-fresh',
  area: 'external-secrets',
  title: 'ExternalSecrets feeding the Cluster Agent token refresh on schedule',
  severity: 'medium',
  resourceType: 'ExternalSecret',
  risk: 'A token ExternalSecret that stopped refreshing (or never refreshes) keeps the old token after a rotation in Secrets Manager, and its agents get 403 invalid session token.',
  remediation:
    'Give the ExternalSecret a periodic spec.refreshInterval (e.g. 1h), make sure the ESO controller runs, and force a sync.',
  requires: ['kube.externalSecrets'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    if (snapshot.kube.externalSecrets.status !== 'ok') return [];
    const results: CheckResult[] = [];
    for (const es of tokenExternalSecrets(tokenKeys(snapshot))) {
      const r = judge(snapshot, es);
      if (r) results.push(r);
    }
    return results;
  },
};

function judge(snapshot: ClusterSnapshot, es: ExternalSecret): CheckResult | undefined {
  const resource = {
    kind: 'ExternalSecret',
    namespace: es.meta.namespace ?? '',
    name: es.meta.name,
  };
  const mode = refreshMode(es);
  const refreshed = es.status.refreshTime;
  if (mode.kind === 'invalid') {
    return {
      status: 'FAIL',
      resource,
      messageId: 'invalid-refresh-interval',
      message: `${esLabel(es)} has ${mode.label}: ESO cannot schedule its refreshes.`,
      remediation: `Set spec.refreshInterval of ${esLabel(es)} to a Go duration such as 1h or 15m.`,
    };
  }
  // Without a refresh time the ExternalSecret never synced: externalsecret-synced reports that.
  if (!refreshed) return undefined;

  if (mode.kind === 'periodic') {
    const age = msBetween(refreshed, snapshot.collectedAt);
    if (age === undefined) return undefined;
    if (age > 2 * mode.intervalMs) {
      return {
        status: 'FAIL',
        resource,
        messageId: 'stale',
        message: `${esLabel(es)} last refreshed at ${refreshed} (${ago(age)}), more than twice its ${mode.label}: ESO is not refreshing it, so a rotated token would not reach its Secret.`,
        remediation: `Check that the ESO controller runs (kubectl -n external-secrets get pods) and that ${esLabel(es)} and its store are Ready (externalsecret-synced), then ${forceSyncCommand(es)}.`,
      };
    }
    return {
      status: 'PASS',
      resource,
      messageId: 'fresh',
      message: `${esLabel(es)} last refreshed at ${refreshed} (${ago(age)}), within twice its ${mode.label}.`,
      remediation: '',
    };
  }

  const changed = valueOf(snapshot.aws.tokenSource)?.lastChangedDate;
  const since = msBetween(refreshed, changed);
  // Without Secrets Manager's change time there is nothing to compare a one-off sync with.
  if (since === undefined) return undefined;
  if (since > 0) {
    return {
      status: 'FAIL',
      resource,
      messageId: 'not-refreshed-after-change',
      message: `${esLabel(es)} has ${mode.label}: it last synced at ${refreshed}, but the token in Secrets Manager changed at ${changed}, so its Secret still holds the previous token.`,
      remediation: `Set spec.refreshInterval: 1h on ${esLabel(es)}${
        es.refreshPolicy && es.refreshPolicy !== 'Periodic' ? ' and remove spec.refreshPolicy' : ''
      }, then ${forceSyncCommand(es)} and restart the pods that read its Secret.`,
    };
  }
  return {
    status: 'PASS',
    resource,
    messageId: 'synced-after-change',
    message: `${esLabel(es)} has ${mode.label}; it synced at ${refreshed}, after the token in Secrets Manager last changed (${changed}).`,
    remediation: '',
  };
}
