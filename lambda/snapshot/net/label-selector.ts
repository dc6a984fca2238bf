import type { LabelSelector } from '../snapshot.js';

/**
 * Kubernetes label selector semantics: matchLabels and matchExpressions are ANDed, and an empty
 * selector (`{}`) matches everything. A SecurityGroupPolicy's `podSelector: {}` therefore selects
 * every pod of its namespace.
 */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // The API server rejects unknown operators; never match what we cannot interpret.
        return false;
    }
  }
  return true;
}
