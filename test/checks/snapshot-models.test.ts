import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '../../lambda/checks/index.js';
import { runChecks, runPlan } from '../../lambda/checks/runner.js';
import type { Check } from '../../lambda/checks/check.js';
import {
  SNAPSHOT_MODELS,
  snapshotModel,
  traceModelReads,
  type SnapshotModel,
} from '../../lambda/snapshot/models.js';
import { RbacIndex } from '../../lambda/snapshot/rbac/evaluator.js';
import { fixtureAws } from '../support/aws-snapshot.js';
import { fixtureSnapshot } from '../support/snapshot-builder.js';

const FIXTURES_DIR = join(import.meta.dirname, '..', 'fixtures');
const FIXTURES = readdirSync(FIXTURES_DIR).filter((n) =>
  statSync(join(FIXTURES_DIR, n)).isDirectory(),
);

/** Which models each check reads, over every fixture cluster. */
function modelReaders(): Map<string, Set<string>> {
  const readers = new Map<string, Set<string>>();
  for (const name of FIXTURES) {
    const snapshot = fixtureSnapshot(name, { aws: fixtureAws(name) });
    for (const check of CHECKS) {
      // Each check computes what it reads, so a model read while computing another counts too.
      for (const m of SNAPSHOT_MODELS) m.release(snapshot);
      const stop = traceModelReads((model) => {
        const set = readers.get(model) ?? new Set<string>();
        set.add(check.id);
        readers.set(model, set);
      });
      try {
        check.run(snapshot);
      } catch {
        // A check that cannot run on a fixture reads what it read before it threw.
      } finally {
        stop();
      }
    }
  }
  return readers;
}

describe('snapshot models', () => {
  const declares = (id: string, m: (typeof SNAPSHOT_MODELS)[number]) =>
    CHECKS.find((c) => c.id === id)?.models?.includes(m) ?? false;

  it('are declared by every check that reads them, so the runner releases them only after their last reader', () => {
    const readers = modelReaders();
    expect(readers.size).toBeGreaterThan(0);
    const unlisted = (m: (typeof SNAPSHOT_MODELS)[number]) =>
      [...(readers.get(m.name) ?? [])].filter((id) => !declares(id, m)).sort();
    expect(Object.fromEntries(SNAPSHOT_MODELS.map((m) => [m.name, unlisted(m)]))).toEqual(
      Object.fromEntries(SNAPSHOT_MODELS.map((m) => [m.name, []])),
    );
  });

  it('are declared only by checks that read them, and each declared model is registered', () => {
    const readers = modelReaders();
    const ids = new Set(CHECKS.map((c) => c.id));
    for (const check of CHECKS) {
      for (const m of check.models ?? []) expect(SNAPSHOT_MODELS).toContain(m);
    }
    for (const model of SNAPSHOT_MODELS) {
      const users = CHECKS.filter((c) => c.models?.includes(model)).map((c) => c.id);
      for (const id of users) {
        expect({ model: model.name, id, exists: ids.has(id) }).toEqual({
          model: model.name,
          id,
          exists: true,
        });
        expect({ model: model.name, id, reads: readers.get(model.name)?.has(id) ?? false }).toEqual(
          { model: model.name, id, reads: true },
        );
      }
    }
  });
});

describe('runPlan', () => {
  const check = (id: string, models: SnapshotModel<unknown>[] = []): Check =>
    ({ id, requires: [], models, run: () => [] }) as unknown as Check;

  it('runs the readers of a model together and releases it after the last one', () => {
    const model = snapshotModel('test-model', () => ({}));
    try {
      const checks = ['a', 'b', 'c', 'd', 'e'].map((id) =>
        check(id, id === 'b' || id === 'd' ? [model] : []),
      );
      const { order, releaseAfter } = runPlan(checks);
      const ids = order.map((i) => checks[i]!.id);
      expect(ids.indexOf('d') - ids.indexOf('b')).toBe(1);
      // Checks that read no model keep their declared order among themselves.
      expect(ids.filter((id) => ['a', 'c', 'e'].includes(id))).toEqual(['a', 'c', 'e']);
      const step = [...releaseAfter].find(([, models]) => models.includes(model))?.[0];
      expect(step).toBe(ids.indexOf('d'));
    } finally {
      SNAPSHOT_MODELS.splice(SNAPSHOT_MODELS.indexOf(model), 1);
    }
  });

  it('keeps the declared order of the results and computes a released model again on demand', () => {
    const snapshot = fixtureSnapshot('healthy', { aws: fixtureAws('healthy') });
    const findings = runChecks(snapshot, CHECKS);
    const position = new Map(CHECKS.map((c, i) => [c.id, i]));
    const positions = findings
      .filter((f) => position.has(f.checkId))
      .map((f) => position.get(f.checkId)!);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // Released at the end of the run, and still available to whoever asks afterwards.
    const index = RbacIndex.forSnapshot(snapshot);
    expect(index.bindings.length).toBeGreaterThan(0);
    expect(RbacIndex.forSnapshot(snapshot)).toBe(index);
  });
});
