/**
 * The `client.authentication.k8s.io/v1beta1` ExecCredential that kubectl reads from an exec
 * credential plugin's stdout: the same document `aws eks get-token` prints.
 */

export interface ExecCredential {
  kind: 'ExecCredential';
  apiVersion: 'client.authentication.k8s.io/v1beta1';
  spec: Record<string, never>;
  status: { expirationTimestamp: string; token: string };
}

export function execCredential(token: string, expiresAt: Date): ExecCredential {
  return {
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    spec: {},
    // RFC 3339 without fractional seconds, as `aws eks get-token` writes it.
    status: { expirationTimestamp: expiresAt.toISOString().replace(/\.\d+Z$/, 'Z'), token },
  };
}
