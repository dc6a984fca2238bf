/**
 * What a copy holds and where it comes from: the Cluster Agent token, the Datadog API key and the
 * application key; the variable each is read through; and the Secrets Manager secret each is
 * configured to come from.
 */
import { SIDECAR_API_KEY, SIDECAR_TOKEN_KEY } from '../admission/sidecar-config.js';
import { DEFAULT_API_KEY_SECRET_ID, DEFAULT_APP_KEY_SECRET_ID } from '../../config/config.js';
import type { AuditSettings } from '../snapshot.js';

/** What a copy holds. */
export type CopiedValue = 'token' | 'api-key' | 'app-key';

export const COPIED_VALUES: readonly CopiedValue[] = ['token', 'api-key', 'app-key'];

export const COPIED_LABEL: Record<CopiedValue, string> = {
  token: 'Cluster Agent token',
  'api-key': 'Datadog API key',
  'app-key': 'Datadog application key',
};

/** The variable the node agents, cluster checks runners and the Cluster Agent read the token from. */
export const TOKEN_ENV = 'DD_CLUSTER_AGENT_AUTH_TOKEN';
/** Key the Helm chart and the admission controller read from the token Secret. */
export const TOKEN_KEY = 'token';

/** The environment variable each copied value is read through. */
export const VALUE_ENV: Record<CopiedValue, string> = {
  token: TOKEN_ENV,
  'api-key': 'DD_API_KEY',
  'app-key': 'DD_APP_KEY',
};

/** The `datadog-secret` key the injected sidecar reads each value from (it reads no app key). */
export const SIDECAR_KEY: Partial<Record<CopiedValue, string>> = {
  token: SIDECAR_TOKEN_KEY,
  'api-key': SIDECAR_API_KEY,
};

/** The Secrets Manager secret (and JSON property) a value is configured to come from. */
export interface SourceSecret {
  value: CopiedValue;
  secretId: string;
  property?: string;
}

/** Configured Secrets Manager secrets, token first; keys fall back to their defaults. */
export function sourceSecrets(settings: AuditSettings): SourceSecret[] {
  return [
    {
      value: 'token',
      secretId: settings.tokenSecretId,
      ...(settings.tokenSecretProperty ? { property: settings.tokenSecretProperty } : {}),
    },
    {
      value: 'api-key',
      secretId: settings.apiKeySecretId ?? DEFAULT_API_KEY_SECRET_ID,
      ...(settings.apiKeySecretProperty ? { property: settings.apiKeySecretProperty } : {}),
    },
    {
      value: 'app-key',
      secretId: settings.appKeySecretId ?? DEFAULT_APP_KEY_SECRET_ID,
      ...(settings.appKeySecretProperty ? { property: settings.appKeySecretProperty } : {}),
    },
  ];
}

/** Secret name inside a Secrets Manager ARN, without the 6-character suffix AWS appends. */
function nameFromArn(id: string): string {
  const m = /^arn:aws[a-z-]*:secretsmanager:[^:]*:\d*:secret:(.+)$/.exec(id);
  return m ? m[1]!.replace(/-[A-Za-z0-9]{6}$/, '') : id;
}

/** True when a remote key names the Secrets Manager secret `id` (by name or ARN). */
export function sameSmSecret(remoteKey: string, id: string, arn?: string): boolean {
  if (remoteKey === id || (arn !== undefined && remoteKey === arn)) return true;
  return nameFromArn(remoteKey) === nameFromArn(id);
}
