/**
 * Which Secret keys a DatadogAgent makes the Operator's components read, decided as the Operator
 * decides it (DataDog/datadog-operator internal/controller/datadogagent/global: isValidSecretConfig,
 * AddDCATokenDependencies, GetAPIKeySecret; pkg/secrets: GetDefaultDCATokenSecretName,
 * GetDefaultCredentialsSecretName). Shared by the collector (which Secrets to GET) and the checks.
 */
import type { ClusterSnapshot, DatadogAgent, OperatorSecretRef } from './snapshot.js';

/** Key the Operator writes the token under in `<name>-token` (v2alpha1 DefaultTokenKey). */
export const OPERATOR_TOKEN_KEY = 'token';
/** Default keys of the credentials Secrets (v2alpha1 DefaultAPIKeyKey, DefaultAPPKeyKey). */
export const OPERATOR_API_KEY_KEY = 'api_key';
export const OPERATOR_APP_KEY_KEY = 'app_key';

export interface OperatorTokenRef {
  namespace: string;
  secret: string;
  key: string;
  /**
   * `secret`: spec.global.clusterAgentTokenSecret names an existing Secret (both fields set).
   * `literal`: the Operator writes spec.global.clusterAgentToken into `<name>-token`.
   * `generated`: neither; the Operator writes a random token into `<name>-token` and keeps it in
   * status.clusterAgent.generatedToken.
   */
  source: 'secret' | 'literal' | 'generated';
  /** clusterAgentTokenSecret is set but without keyName, so the Operator ignores it. */
  ignoredTokenSecret?: OperatorSecretRef;
}

/** The Secret key the Operator's Cluster Agent reads DD_CLUSTER_AGENT_AUTH_TOKEN from. */
export function operatorTokenRef(dda: DatadogAgent): OperatorTokenRef {
  const namespace = dda.meta.namespace ?? '';
  const ref = dda.clusterAgentTokenSecret;
  // The Operator honours the Secret only with both names set; otherwise it falls back silently.
  if (ref?.keyName)
    return { namespace, secret: ref.secretName, key: ref.keyName, source: 'secret' };
  return {
    namespace,
    secret: `${dda.meta.name}-token`,
    key: OPERATOR_TOKEN_KEY,
    source: dda.literalClusterAgentToken ? 'literal' : 'generated',
    ...(ref ? { ignoredTokenSecret: ref } : {}),
  };
}

export interface OperatorKeyRef {
  namespace: string;
  secret: string;
  key: string;
  kind: 'api-key' | 'app-key';
  /** `secret`: named by apiSecret/appSecret; `literal`: the Operator writes the literal key into `<name>-secret`. */
  source: 'secret' | 'literal';
}

/**
 * The Datadog API and application key Secrets a DatadogAgent's components read
 * (spec.global.credentials). A Secret ref wins over a literal key, as in the Operator; keyName
 * defaults to `api_key` / `app_key`. Without either, nothing is read.
 */
export function operatorKeyRefs(dda: DatadogAgent): OperatorKeyRef[] {
  const namespace = dda.meta.namespace ?? '';
  const fallback = `${dda.meta.name}-secret`;
  const out: OperatorKeyRef[] = [];
  const one = (
    kind: OperatorKeyRef['kind'],
    ref: OperatorSecretRef | undefined,
    literal: boolean,
    defaultKey: string,
  ) => {
    if (ref) {
      out.push({
        namespace,
        secret: ref.secretName,
        key: ref.keyName ?? defaultKey,
        kind,
        source: 'secret',
      });
    } else if (literal) {
      out.push({ namespace, secret: fallback, key: defaultKey, kind, source: 'literal' });
    }
  };
  one('api-key', dda.credentials.apiSecret, dda.credentials.literalApiKey, OPERATOR_API_KEY_KEY);
  one('app-key', dda.credentials.appSecret, dda.credentials.literalAppKey, OPERATOR_APP_KEY_KEY);
  return out;
}

/**
 * The DatadogAgents of a snapshot; none when the CRD is not installed, the list failed (see the
 * collection findings), or the snapshot predates their collection (archived runs).
 */
export function datadogAgentsOf(snapshot: ClusterSnapshot): DatadogAgent[] {
  const c = snapshot.kube.datadogAgents as ClusterSnapshot['kube']['datadogAgents'] | undefined;
  return c?.status === 'ok' ? c.value : [];
}
