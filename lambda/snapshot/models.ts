/**
 * Models derived from a snapshot (the RBAC index, every copy of a secret) are computed once per
 * snapshot and shared by the checks that read them. At 5,000 namespaces each is several MB, and
 * the heap is fullest at the end of the checks, beside every finding. So a check declares the
 * models it reads (`models`, next to `requires`); the runner runs the readers of a model together
 * and releases it after the last of them (see runPlan in checks/runner.ts).
 *
 * The declaration only decides when memory is given back: a model read after its release is
 * computed again, so an undeclared read costs time, never a wrong result. A test runs every check
 * over every fixture and fails when a check reads a model it does not declare.
 */
import type { ClusterSnapshot } from './snapshot.js';

export interface SnapshotModel<T> {
  readonly name: string;
  /** The model of `snapshot`, computed on first use. */
  get(snapshot: ClusterSnapshot): T;
  /** Forgets the model of `snapshot`; the next `get` computes it again. */
  release(snapshot: ClusterSnapshot): void;
}

/** Every model, in the order the runner groups their users (largest first). */
export const SNAPSHOT_MODELS: SnapshotModel<unknown>[] = [];

type Reader = (model: string) => void;
let reader: Reader | undefined;

/** Tells `onRead` the name of every model read until the returned function is called. */
export function traceModelReads(onRead: Reader): () => void {
  reader = onRead;
  return () => {
    reader = undefined;
  };
}

export function snapshotModel<T>(
  name: string,
  compute: (snapshot: ClusterSnapshot) => T,
): SnapshotModel<T> {
  const cache = new WeakMap<ClusterSnapshot, T>();
  const model: SnapshotModel<T> = {
    name,
    get(snapshot) {
      reader?.(name);
      if (cache.has(snapshot)) return cache.get(snapshot) as T;
      const value = compute(snapshot);
      cache.set(snapshot, value);
      return value;
    },
    release(snapshot) {
      cache.delete(snapshot);
    },
  };
  SNAPSHOT_MODELS.push(model as SnapshotModel<unknown>);
  return model;
}
