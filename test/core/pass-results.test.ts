import { BLOCK_SIZE, PassResults, isCompactPass } from '../../lambda/checks/pass-results.js';
import { runChecks } from '../../lambda/checks/runner.js';
import type { Check } from '../../lambda/checks/check.js';
import { findingHash, findingId, type Finding } from '../../lambda/config/findings.js';
import { snapshotFromManifests } from '../support/snapshot-builder.js';

/** Messages a check could write: quotes, newlines, control and bidi characters, emoji. */
function message(i: number): string {
  return `Pod ns-${i}/web-${i} "quoted" \n\u0007\u202e ✓ 🐕 passes (${'x'.repeat(i % 300)})`;
}

function plain(i: number): Finding {
  const resource = { kind: 'Deployment', namespace: `ns-${i}`, name: `web-${i}` };
  return {
    id: findingId('a-check', 'c1', resource, 'ok'),
    checkId: 'a-check',
    cluster: 'c1',
    severity: 'high',
    status: 'PASS',
    resource,
    messageId: 'ok',
    message: message(i),
    remediation: '',
    ...(i % 2 ? { affected: { count: 1, names: [`web-${i}-abc12`] } } : {}),
  };
}

function compact(store: PassResults, i: number): Finding {
  const p = plain(i);
  return store.add({
    checkId: p.checkId,
    cluster: p.cluster,
    severity: p.severity,
    resource: p.resource,
    messageId: p.messageId,
    message: p.message,
    hash: findingHash(p.checkId, p.cluster, p.resource, p.messageId),
    ...(p.affected ? { affected: p.affected } : {}),
  });
}

describe('PassResults', () => {
  const count = BLOCK_SIZE * 2 + 17;
  const store = new PassResults('a-check');
  const findings = Array.from({ length: count }, (_, i) => compact(store, i));

  it('gives findings that serialise, spread, list their keys and compare exactly like plain ones, across compressed blocks', () => {
    for (const i of [0, 1, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, count - 1]) {
      const f = findings[i]!;
      expect(JSON.stringify(f)).toBe(JSON.stringify(plain(i)));
      expect(Object.keys(f)).toEqual(Object.keys(plain(i)));
      expect({ ...f }).toEqual(plain(i));
      expect(f).toEqual(plain(i));
      expect(isCompactPass(f)).toBe(true);
      expect(isCompactPass({ ...f })).toBe(false);
    }
  });

  it('reads messages back in any order, each exactly as the check wrote it', () => {
    const order = [count - 1, 3, BLOCK_SIZE + 5, 0, count - 2, BLOCK_SIZE * 2, 1];
    for (const i of order) expect(findings[i]!.message).toBe(message(i));
    expect(findings.map((f) => f.id)).toEqual(findings.map((_, i) => plain(i).id));
  });
});

describe('runChecks with compact PASS results', () => {
  const many: Check = {
    id: 'many-passes',
    area: 'test',
    title: 'A check with many results',
    severity: 'medium',
    resourceType: 'Secret',
    risk: 'none',
    remediation: 'none',
    requires: [],
    run: () =>
      Array.from({ length: BLOCK_SIZE + 40 }, (_, i) => ({
        status: i % 100 === 7 ? ('FAIL' as const) : ('PASS' as const),
        resource: { kind: 'Secret', namespace: `ns-${i}`, name: 'token' },
        messageId: `same:${'key'}`,
        message: message(i),
        remediation: i % 100 === 7 ? `Fix ns-${i}` : '',
      })),
  };

  it('keeps every result, in order, with the id and message a plain finding would have', () => {
    const findings = runChecks(snapshotFromManifests([], { cluster: 'c1' }), [many]);
    expect(findings).toHaveLength(BLOCK_SIZE + 40);
    findings.forEach((f, i) => {
      const resource = { kind: 'Secret', namespace: `ns-${i}`, name: 'token' };
      expect(f).toEqual({
        id: findingId('many-passes', 'c1', resource, 'same:key'),
        checkId: 'many-passes',
        cluster: 'c1',
        severity: 'medium',
        status: i % 100 === 7 ? 'FAIL' : 'PASS',
        resource,
        messageId: 'same:key',
        message: message(i),
        remediation: i % 100 === 7 ? `Fix ns-${i}` : '',
      });
      expect(isCompactPass(f)).toBe(f.status === 'PASS');
    });
  });
});
