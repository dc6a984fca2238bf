/**
 * The handler hands each cluster's previous copy record (archived with its report) to the next
 * audit, so token-stale-in-pods can say the token itself changed after a container started.
 */
import 'aws-sdk-client-mock-jest';
import { tokenStaleInPods } from '../../lambda/checks/token/token-stale-in-pods.js';
import { auditWith, createHandler } from '../../lambda/run/direct.js';
import { type HandlerSummary } from '../../lambda/deliver/deliver.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { latestKey, type LatestRead } from '../../lambda/deliver/archive.js';
import { copyRecordOf } from '../../lambda/deliver/previous-copies.js';
import { snapshotFromManifests } from '../support/snapshot-builder.js';
import {
  CANARY,
  build,
  datadogNamespace,
  golangNamespace,
  secret,
} from '../checks/token/support.js';
import { harness } from './support.js';

const OLD_TOKEN = 'CANARY-dd-cluster-agent-token-old-0000000000000000';

function docs(token: string, writtenAt: string): Raw[] {
  return [
    ...datadogNamespace(),
    ...golangNamespace(token).map((d) =>
      d.kind === 'Secret' && d.metadata.name === 'golang-secrets'
        ? secret('golang', 'golang-secrets', d.stringData, {
            ownerES: 'golang-secrets',
            writtenAt,
            annotations: {
              'reconcile.external-secrets.io/data-hash': token === OLD_TOKEN ? 'h1' : 'h2',
            },
          })
        : d,
    ),
  ];
}

describe('the previous run copy record through the handler', () => {
  it('archives the record and gives it to the next run, which then knows the token changed', async () => {
    const h = harness();
    // Run 1 after the pods started (2026-11-20T10:00Z), with the old token; run 2 after ESO wrote
    // the new one (2026-11-22T09:00Z).
    const runs = [
      () =>
        build(docs(OLD_TOKEN, '2026-10-01T08:01:00.000Z'), {
          cluster: 'golang-cluster',
          collectedAt: '2026-11-21T02:00:00.000Z',
        }),
      () => build(docs(CANARY.token, '2026-11-22T09:00:00.000Z'), { cluster: 'golang-cluster' }),
    ];
    let run = 0;
    const handler = createHandler({
      ...h.deps,
      audit: auditWith({
        collect: async (cluster) =>
          cluster.name === 'golang-cluster'
            ? runs[run]!()
            : snapshotFromManifests([], { cluster: cluster.name }),
        checks: [tokenStaleInPods],
        now: () => new Date('2026-11-24T02:00:00.000Z'),
      }),
    });

    await handler({});
    const first = h.bucket.json(latestKey('golang-cluster'));
    expect(first.copyRecord.collectedAt).toBe('2026-11-21T02:00:00.000Z');
    expect(JSON.stringify(first.copyRecord)).not.toContain(OLD_TOKEN);
    const stale1 = first.findings.filter(
      (f: { checkId: string; status: string }) =>
        f.checkId === 'token-stale-in-pods' && f.status === 'FAIL',
    );
    expect(stale1).toEqual([]);

    run = 1;
    const result = (await handler({})) as HandlerSummary;
    expect(result.clusters[0]!.name).toBe('golang-cluster');
    const second = h.bucket.json(latestKey('golang-cluster'));
    const stale = second.findings.filter(
      (f: { checkId: string; status: string }) =>
        f.checkId === 'token-stale-in-pods' && f.status === 'FAIL',
    );
    expect(
      stale.map((f: { severity: string; messageId: string }) => `${f.severity} ${f.messageId}`),
    ).toEqual(['high changed-since-previous-run:datadog-agent']);
    expect(stale[0].message).toContain(
      'changed after the previous run at 2026-11-21T02:00:00.000Z (per the previous run\'s digest of key "token"',
    );
  });
});

describe('reading the previous copy record back', () => {
  const record = { collectedAt: '2026-11-21T02:00:00.000Z', copies: [] };
  const latest = (name: string, region?: string): LatestRead => ({
    report: { name, ...(region ? { region } : {}), copyRecord: record } as never,
  });

  it.each<{ name: string; read: LatestRead | undefined; expected: boolean }>([
    {
      name: 'the same cluster and region',
      read: latest('golang-cluster', 'eu-west-1'),
      expected: true,
    },
    {
      name: 'another region (a shared key)',
      read: latest('golang-cluster', 'us-east-1'),
      expected: false,
    },
    { name: 'another cluster', read: latest('payments', 'eu-west-1'), expected: false },
    { name: 'a first run', read: {}, expected: false },
    { name: 'an unreadable report', read: undefined, expected: false },
  ])('$name: used $expected', ({ read, expected }) => {
    const got = copyRecordOf(read, { name: 'golang-cluster', region: 'eu-west-1' });
    expect(got !== undefined).toBe(expected);
  });
});
