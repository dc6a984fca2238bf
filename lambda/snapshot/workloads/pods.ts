/**
 * The one live-pod rule: a pod whose phase is Succeeded or Failed has stopped for good (its
 * containers will not restart), so it reads no Secret and runs no agent. Pending, Running and
 * Unknown pods (and pods whose phase was not reported) count as live.
 */
import type { Pod } from '../snapshot.js';

export function isLivePod(pod: Pick<Pod, 'status'>): boolean {
  return pod.status.phase !== 'Succeeded' && pod.status.phase !== 'Failed';
}
