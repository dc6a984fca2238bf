/**
 * token-stale-in-pods tells "the token changed after this container started" from "another key
 * or only metadata changed": per-key field ownership (managedFields fieldsV1), the previous run's
 * copy record (fingerprints of each key and of ESO's data-hash) and, failing both, a FAIL that
 * says what it could not tell.
 */
import { tokenStaleInPods } from '../../../lambda/checks/token/token-stale-in-pods.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { convertSecret } from '../../../lambda/collect/kube/secrets.js';
import type { ClusterSnapshot } from '../../../lambda/snapshot/snapshot.js';
import { CANARY, PODS_STARTED, build, datadogNamespace, golangNamespace } from './support.js';
import { asCopyRecordSet, keyLastWrite } from '../../../lambda/snapshot/copies/record.js';
import { copyRecord } from '../../../lambda/snapshot/copies/model.js';

const OLD_TOKEN = 'CANARY-dd-cluster-agent-token-old-0000000000000000';
/** After the pods started (2026-11-20T10:00Z). */
const WRITTEN = '2026-11-22T09:00:00.000Z';
const BEFORE_START = '2026-10-01T08:01:00.000Z';
const DATA_HASH = 'reconcile.external-secrets.io/data-hash';

interface Write {
  manager: string;
  time: string;
  /** Data keys it owns; undefined: no fieldsV1 (ownership unknown). */
  keys?: string[];
}

/** golang-secrets as the API server serves it: values, data-hash, managedFields with fieldsV1. */
function golangSecret(values: Record<string, string>, writes: Write[], dataHash?: string): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'golang-secrets',
      namespace: 'golang',
      creationTimestamp: '2026-03-04T05:04:02Z',
      resourceVersion: dataHash ? `rv-${dataHash}` : 'rv-1',
      labels: { 'reconcile.external-secrets.io/managed': 'true' },
      annotations: dataHash ? { [DATA_HASH]: dataHash } : {},
      ownerReferences: [
        {
          apiVersion: 'external-secrets.io/v1',
          kind: 'ExternalSecret',
          name: 'golang-secrets',
          controller: true,
        },
      ],
      managedFields: writes.map((w) => ({
        manager: w.manager,
        operation: 'Update',
        apiVersion: 'v1',
        time: w.time,
        fieldsType: 'FieldsV1',
        ...(w.keys
          ? {
              fieldsV1: {
                'f:metadata': { 'f:annotations': { '.': {} } },
                ...(w.keys.length
                  ? {
                      'f:data': {
                        '.': {},
                        ...Object.fromEntries(w.keys.map((k) => [`f:${k}`, {}])),
                      },
                    }
                  : {}),
              },
            }
          : {}),
      })),
    },
    type: 'Opaque',
    stringData: values,
  };
}

function docs(secret: Raw): Raw[] {
  return [
    ...datadogNamespace(),
    ...golangNamespace().map((d) =>
      d.kind === 'Secret' && d.metadata.name === 'golang-secrets' ? secret : d,
    ),
  ];
}

const ESO = 'externalsecrets.external-secrets.io/golang-secrets';
const values = (token: string, apiKey: string = CANARY.apiKey) => ({
  datadog_api_key: apiKey,
  token,
});

/** A snapshot of `now` that carries the record a run at `at` made of `before`. */
function withPrevious(now: Raw, before: Raw, at: string): ClusterSnapshot {
  const previous = copyRecord(build(docs(before), { collectedAt: at }));
  // Through JSON and back, as the archive stores it.
  const archived = asCopyRecordSet(JSON.parse(JSON.stringify(previous)));
  return { ...build(docs(now)), previousRun: archived! };
}

const golangResults = (s: ClusterSnapshot) =>
  tokenStaleInPods
    .run(s)
    .filter((r) => r.resource.namespace === 'golang')
    .map((r) => `${r.status}${r.severity ? `@${r.severity}` : ''} ${r.messageId}`);

describe('token-stale-in-pods: which key a write changed', () => {
  it.each<{ name: string; snapshot: () => ClusterSnapshot; expected: string; says: string }>([
    {
      name: 'no previous run and no field ownership: FAIL that says the key is unknown',
      snapshot: () =>
        build(docs(golangSecret(values(CANARY.token), [{ manager: ESO, time: WRITTEN }]))),
      expected: 'FAIL started-before-change:datadog-agent',
      says: 'Which key that write changed is unknown',
    },
    {
      name: 'a later write that owns metadata only (kubectl annotate) does not count',
      snapshot: () =>
        build(
          docs(
            golangSecret(values(CANARY.token), [
              { manager: ESO, time: BEFORE_START, keys: ['token', 'datadog_api_key'] },
              { manager: 'kubectl-annotate', time: WRITTEN, keys: [] },
            ]),
          ),
        ),
      expected: 'PASS started-after-change:datadog-agent',
      says: `after Secret golang/golang-secrets key "token" last changed (${BEFORE_START})`,
    },
    {
      name: 'a later write by a manager owning another key only does not count',
      snapshot: () =>
        build(
          docs(
            golangSecret(values(CANARY.token), [
              { manager: ESO, time: BEFORE_START, keys: ['token'] },
              { manager: 'api-key-rotator', time: WRITTEN, keys: ['datadog_api_key'] },
            ]),
          ),
        ),
      expected: 'PASS started-after-change:datadog-agent',
      says: BEFORE_START,
    },
    {
      name: 'a later write by the manager that owns the token counts',
      snapshot: () =>
        build(
          docs(
            golangSecret(values(CANARY.token), [
              { manager: ESO, time: WRITTEN, keys: ['token', 'datadog_api_key'] },
            ]),
          ),
        ),
      expected: 'FAIL started-before-change:datadog-agent',
      says: `(${WRITTEN} by ${ESO})`,
    },
    {
      name: 'the previous run saw the same token and no write since before the start; the data-hash changed: another key changed',
      snapshot: () =>
        withPrevious(
          golangSecret(
            values(CANARY.token, 'CANARY-new-api-key'),
            [{ manager: ESO, time: WRITTEN }],
            'h2',
          ),
          golangSecret(values(CANARY.token), [{ manager: ESO, time: BEFORE_START }], 'h1'),
          '2026-11-21T02:00:00.000Z',
        ),
      expected: 'PASS unchanged-since-previous-run:datadog-agent',
      says: "ESO's data-hash of the Secret changed: another key of it changed.",
    },
    {
      name: 'the previous run saw the same token and the same data-hash: metadata only',
      snapshot: () =>
        withPrevious(
          golangSecret(values(CANARY.token), [{ manager: ESO, time: WRITTEN }], 'h1'),
          golangSecret(values(CANARY.token), [{ manager: ESO, time: BEFORE_START }], 'h1'),
          '2026-11-21T02:00:00.000Z',
        ),
      expected: 'PASS unchanged-since-previous-run:datadog-agent',
      says: 'no key changed, the write touched metadata only',
    },
    {
      name: 'the token changed after a previous run that followed the start: FAIL high',
      snapshot: () =>
        withPrevious(
          golangSecret(values(CANARY.token), [{ manager: ESO, time: WRITTEN }], 'h2'),
          golangSecret(values(OLD_TOKEN), [{ manager: ESO, time: BEFORE_START }], 'h1'),
          '2026-11-21T02:00:00.000Z',
        ),
      expected: 'FAIL@high changed-since-previous-run:datadog-agent',
      says: 'changed after the previous run at 2026-11-21T02:00:00.000Z (per the previous run\'s digest of key "token"',
    },
    {
      name: 'the token changed since a previous run that preceded the start: FAIL medium, "most likely"',
      snapshot: () =>
        withPrevious(
          golangSecret(values(CANARY.token), [{ manager: ESO, time: WRITTEN }], 'h2'),
          golangSecret(values(OLD_TOKEN), [{ manager: ESO, time: BEFORE_START }], 'h1'),
          '2026-11-19T02:00:00.000Z',
        ),
      expected: 'FAIL changed-since-previous-run:datadog-agent',
      says: 'most likely still sends the old token',
    },
    {
      name: 'same token, but the previous run had seen a write after the start: it cannot tell, so the write time decides',
      snapshot: () =>
        withPrevious(
          golangSecret(values(CANARY.token), [{ manager: ESO, time: WRITTEN }], 'h2'),
          golangSecret(
            values(CANARY.token),
            [{ manager: ESO, time: '2026-11-20T12:00:00.000Z' }],
            'h1',
          ),
          '2026-11-21T02:00:00.000Z',
        ),
      expected: 'FAIL started-before-change:datadog-agent',
      says: 'possibly another key or only metadata',
    },
  ])('$name', ({ snapshot, expected, says }) => {
    const s = snapshot();
    expect(golangResults(s)).toEqual([expected]);
    const r = tokenStaleInPods.run(s).find((x) => x.resource.namespace === 'golang')!;
    expect(r.message).toContain(says);
  });

  it('the pods started when the support builder says', () => {
    expect(PODS_STARTED).toBe('2026-11-20T10:00:00.000Z');
  });
});

describe('the copy record', () => {
  const now = () =>
    build(docs(golangSecret(values(CANARY.token), [{ manager: ESO, time: WRITTEN }], 'h1')));

  it('holds one entry per copy, with fingerprints and no value or digest', () => {
    const s = now();
    const record = copyRecord(s);
    expect(record.collectedAt).toBe(s.collectedAt);
    expect(record.copies.map((c) => `${c.namespace}/${c.secret}/${c.key}`)).toEqual([
      'datadog/datadog-secrets/api-key',
      'datadog/datadog-secrets/app-key',
      'datadog/datadog-secrets/token',
      'golang/golang-secrets/datadog_api_key',
      'golang/golang-secrets/token',
    ]);
    const text = JSON.stringify(record);
    const lookup = s.kube.secrets.find((l) => l.name === 'golang-secrets')!;
    const digest = lookup.result.status === 'found' ? lookup.result.secret.data['token']! : null;
    expect(text).not.toContain(CANARY.token);
    expect(text).not.toContain(digest!.sha256);
    expect(text).not.toContain(digest!.sha256.slice(0, 16));
  });

  it('fingerprints equal values alike across runs and different values differently', () => {
    const a = copyRecord(now()).copies.find((c) => c.namespace === 'golang' && c.key === 'token')!;
    const b = copyRecord(
      build(docs(golangSecret(values(CANARY.token), [{ manager: ESO, time: WRITTEN }], 'h1'))),
    ).copies.find((c) => c.namespace === 'golang' && c.key === 'token')!;
    const c = copyRecord(
      build(docs(golangSecret(values(OLD_TOKEN), [{ manager: ESO, time: WRITTEN }], 'h1'))),
    ).copies.find((x) => x.namespace === 'golang' && x.key === 'token')!;
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
  });

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['a string', 'x'],
    ['no collectedAt', { copies: [] }],
    ['copies not a list', { collectedAt: '2026-11-21T02:00:00Z', copies: {} }],
  ])('reads %s back as no record', (_name, value) => {
    expect(asCopyRecordSet(value)).toBeUndefined();
  });

  it('drops entries that are not fingerprints when read back', () => {
    const read = asCopyRecordSet({
      collectedAt: '2026-11-21T02:00:00Z',
      copies: [
        { namespace: 'a', secret: 'b', key: 'token', fingerprint: 'not-hex' },
        { namespace: 'a', secret: 'b', key: 'token', fingerprint: '0'.repeat(32) },
      ],
    });
    expect(read?.copies).toHaveLength(1);
  });
});

describe('field ownership from managedFields', () => {
  it.each<{ name: string; writes: Write[]; expected: string | undefined }>([
    {
      name: 'the newest write of any manager when ownership is unknown',
      writes: [
        { manager: 'a', time: BEFORE_START },
        { manager: 'b', time: WRITTEN },
      ],
      expected: WRITTEN,
    },
    {
      name: 'skips managers that own metadata only',
      writes: [
        { manager: 'a', time: BEFORE_START, keys: ['token'] },
        { manager: 'b', time: WRITTEN, keys: [] },
      ],
      expected: BEFORE_START,
    },
    {
      name: 'falls back to the creation time when only metadata managers wrote',
      writes: [{ manager: 'b', time: WRITTEN, keys: [] }],
      expected: '2026-03-04T05:04:02Z',
    },
  ])('$name', ({ writes, expected }) => {
    const secret = convertSecret(golangSecret(values(CANARY.token), writes));
    expect(keyLastWrite(secret, 'token')?.time).toBe(expected);
    expect(JSON.stringify(secret.managedFields)).not.toContain(CANARY.token);
  });
});
