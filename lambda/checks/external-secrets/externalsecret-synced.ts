import type { CheckResult } from '../../config/findings.js';
import { isDatadogExternalSecret } from '../../snapshot/secret-refs.js';
import type { ClusterSnapshot, ExternalSecret, SecretStore } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import {
  esLabel,
  forceSyncCommand,
  isReady,
  quoteConditionMessage,
  readyCondition,
  storeOf,
} from '../../snapshot/eso.js';
import { COPY_MODEL, tokenExternalSecrets, tokenKeys } from '../../snapshot/copies/model.js';

function reasonAdvice(es: ExternalSecret, reason: string | undefined): string {
  const ns = es.meta.namespace ?? '';
  const describe = `kubectl -n ${ns} describe externalsecret ${es.meta.name}`;
  switch (reason) {
    case 'SecretSyncedError':
      return `ESO could not read the remote keys or write the Secret: check that every data[].remoteRef.key exists in Secrets Manager and that the store's IAM role may call secretsmanager:GetSecretValue on them (and kms:Decrypt), then ${forceSyncCommand(es)}. Details: ${describe}.`;
    case 'SecretMissing':
      return `With creationPolicy ${es.target.creationPolicy ?? 'Owner'} ESO does not create the target Secret: create it first, or set spec.target.creationPolicy: Owner.`;
    case 'SecretDeleted':
      return `The target Secret was deleted: ${forceSyncCommand(es)} to recreate it (creationPolicy Owner recreates it on the next sync).`;
    default:
      return `Inspect the events (${describe}) and the ESO controller logs, fix the cause, then ${forceSyncCommand(es)}.`;
  }
}

/**
 * Each ExternalSecret that feeds the Cluster Agent token (or carries Datadog keys) reports
 * Ready=True, and its SecretStore/ClusterSecretStore is Ready. A failing sync leaves the target
 * Secret missing or at its old value, which turns into 403s at the next rotation.
 */
export const externalsecretSynced: Check = {
  id: 'externalsecret-synced',
  area: 'external-secrets',
  title:
    'ExternalSecrets feeding the Cluster Agent token or Datadog keys are Ready, and so are their stores',
  severity: 'high',
  resourceType: 'ExternalSecret',
  risk: 'An ExternalSecret that is not Ready stops updating its Secret: the token stays missing (pods cannot start) or stale (403 invalid session token after the next rotation).',
  remediation:
    'Fix the cause named by the Ready condition (IAM on the remote key, missing remote key, store auth), then force a sync.',
  requires: ['kube.externalSecrets'],
  models: [COPY_MODEL],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    if (snapshot.kube.externalSecrets.status !== 'ok') return []; // ESO not installed
    const relevant = new Set(tokenExternalSecrets(tokenKeys(snapshot)));
    for (const es of snapshot.kube.externalSecrets.value) {
      if (isDatadogExternalSecret(es, snapshot.settings)) relevant.add(es);
    }
    const list = [...relevant].sort((a, b) =>
      `${a.meta.namespace}/${a.meta.name}`.localeCompare(`${b.meta.namespace}/${b.meta.name}`),
    );

    const results: CheckResult[] = list.map((es) => esResult(es));
    results.push(...storeResults(snapshot, list));
    return results;
  },
};

function esResult(es: ExternalSecret): CheckResult {
  const resource = {
    kind: 'ExternalSecret',
    namespace: es.meta.namespace ?? '',
    name: es.meta.name,
  };
  const ready = readyCondition(es.status.conditions);
  if (!ready) {
    return {
      status: 'FAIL',
      resource,
      messageId: 'not-reconciled',
      message: `${esLabel(es)} has no Ready condition: External Secrets Operator has not reconciled it (controller down, or not serving ${es.apiVersion}).`,
      remediation: `Check that the ESO controller runs (kubectl -n external-secrets get pods) and serves ${es.apiVersion}, then ${forceSyncCommand(es)}.`,
    };
  }
  if (ready.status !== 'True') {
    const msg = quoteConditionMessage(ready.message);
    return {
      status: 'FAIL',
      resource,
      messageId: 'not-ready',
      message: `${esLabel(es)} is not Ready (Ready=${ready.status}, reason ${ready.reason ?? 'unknown'}${
        msg ? `: "${msg}"` : ''
      }${ready.lastTransitionTime ? `, since ${ready.lastTransitionTime}` : ''}). Its Secret keeps its last value or does not exist.`,
      remediation: reasonAdvice(es, ready.reason),
    };
  }
  return {
    status: 'PASS',
    resource,
    messageId: 'synced',
    message: `${esLabel(es)} is Ready (${ready.reason ?? 'SecretSynced'})${
      es.status.refreshTime ? `, last refreshed ${es.status.refreshTime}` : ''
    }.`,
    remediation: '',
  };
}

function storeResults(snapshot: ClusterSnapshot, list: ExternalSecret[]): CheckResult[] {
  const groups = new Map<string, { es: ExternalSecret[]; first: ExternalSecret }>();
  for (const es of list) {
    const cluster = es.secretStoreRef.kind === 'ClusterSecretStore';
    const key = `${cluster ? 'ClusterSecretStore' : 'SecretStore'}/${cluster ? '' : es.meta.namespace}/${es.secretStoreRef.name}`;
    const g = groups.get(key) ?? { es: [], first: es };
    g.es.push(es);
    groups.set(key, g);
  }
  const results: CheckResult[] = [];
  for (const { es: users, first } of groups.values()) {
    const cluster = first.secretStoreRef.kind === 'ClusterSecretStore';
    const kind = cluster ? 'ClusterSecretStore' : 'SecretStore';
    const resource = {
      kind,
      ...(cluster ? {} : { namespace: first.meta.namespace ?? '' }),
      name: first.secretStoreRef.name,
    };
    const label = `${kind} ${cluster ? '' : `${first.meta.namespace}/`}${first.secretStoreRef.name}`;
    const usedBy = `used by ${users.map(esLabel).join(', ')}`;
    const found = storeOf(first, snapshot);
    if (found.status === 'unknown') continue; // the collection failure is its own finding
    if (found.status === 'missing') {
      results.push({
        status: 'FAIL',
        resource,
        messageId: 'store-missing',
        message: `${label} does not exist (${usedBy}): these ExternalSecrets cannot sync.`,
        remediation: `Create ${label} with provider aws (service: SecretsManager, region ${snapshot.cluster.region ?? '<region>'}), or fix spec.secretStoreRef of ${users.map(esLabel).join(', ')}.`,
      });
      continue;
    }
    results.push(storeResult(found.store, label, usedBy, users, resource));
  }
  return results;
}

function storeResult(
  store: SecretStore,
  label: string,
  usedBy: string,
  users: ExternalSecret[],
  resource: CheckResult['resource'],
): CheckResult {
  const ready = readyCondition(store.conditions);
  // Stores applied without status (older ESO) still work when their ExternalSecrets sync.
  if (!ready && users.every((es) => isReady(es.status.conditions))) {
    return {
      status: 'PASS',
      resource,
      messageId: 'store-ready',
      message: `${label} reports no Ready condition, but every ExternalSecret using it is Ready (${users.map(esLabel).join(', ')}).`,
      remediation: '',
    };
  }
  if (!ready || ready.status !== 'True') {
    const msg = quoteConditionMessage(ready?.message);
    return {
      status: 'FAIL',
      resource,
      messageId: 'store-not-ready',
      message: `${label} is not Ready (${ready ? `Ready=${ready.status}, reason ${ready.reason ?? 'unknown'}${msg ? `: "${msg}"` : ''}` : 'no Ready condition'}), ${usedBy}.`,
      remediation: `Fix the store's provider settings and credentials (spec.provider.aws: region, auth.jwt.serviceAccountRef or role, and the IAM policy allowing secretsmanager:GetSecretValue), then check: kubectl ${resource.namespace ? `-n ${resource.namespace} ` : ''}describe ${resource.kind.toLowerCase()} ${resource.name}.`,
    };
  }
  return {
    status: 'PASS',
    resource,
    messageId: 'store-ready',
    message: `${label} is Ready, ${usedBy}.`,
    remediation: '',
  };
}
