/**
 * A finding's id is how drift, suppressions and Security Hub recognise it from run to run: the
 * same finding must keep the same id across versions of the auditor, whatever computes it.
 */
import { findingHash, findingId } from '../../lambda/config/findings.js';

describe('findingId', () => {
  it('is stable: the first 16 hex of sha256 over the NUL-joined identity, as every earlier version wrote it', () => {
    const resource = { kind: 'Deployment', namespace: 'datadog', name: 'datadog-cluster-agent' };
    // Computed once with createHash('sha256').update(key).digest('hex').slice(0, 16).
    expect(findingHash('token-consumers-match', 'golang-cluster', resource, 'token-mismatch')).toBe(
      '904d795f341b497c',
    );
    expect(findingId('token-consumers-match', 'golang-cluster', resource, 'token-mismatch')).toBe(
      'token-consumers-match:904d795f341b497c',
    );
  });

  it('reads a missing namespace as the empty one, and a namespace as part of the identity', () => {
    const a = findingHash('c', 'k', { kind: 'ClusterRole', name: 'r' }, 'm');
    const b = findingHash('c', 'k', { kind: 'ClusterRole', namespace: '', name: 'r' }, 'm');
    expect(a).toBe(b);
    expect(findingHash('c', 'k', { kind: 'Role', namespace: 'x', name: 'r' }, 'm')).not.toBe(a);
  });
});
