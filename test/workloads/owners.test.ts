import type { Pod } from '../../lambda/snapshot/snapshot.js';
import {
  ownerWorkload,
  workloadIndex,
  workloadOf,
} from '../../lambda/snapshot/workloads/owners.js';
import { isLivePod } from '../../lambda/snapshot/workloads/pods.js';
import { snapshotFromManifests } from '../support/snapshot-builder.js';

const template = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image: 'golang:1.23' }] },
};
const snapshot = snapshotFromManifests([
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'golang' },
    spec: { template },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'golang' },
    spec: { template },
  },
]);

function pod(owners: Pod['meta']['ownerReferences'], labels: Record<string, string> = {}) {
  return {
    meta: { name: 'p', namespace: 'golang', labels, annotations: {}, ownerReferences: owners },
  };
}

describe('one owner lookup', () => {
  it.each([
    {
      name: 'a ReplicaSet named <deployment>-<pod-template-hash> belongs to the Deployment',
      pod: pod([{ kind: 'ReplicaSet', name: 'web-7d9f8c6b5', controller: true }], {
        'pod-template-hash': '7d9f8c6b5',
      }),
      expected: 'Deployment/web',
    },
    {
      name: 'the controller reference wins over an earlier non-controller owner',
      pod: pod([
        { kind: 'ConfigMap', name: 'web' },
        { kind: 'StatefulSet', name: 'db', controller: true },
      ]),
      expected: 'StatefulSet/db',
    },
    {
      name: 'an owner the snapshot does not hold gives no workload',
      pod: pod([{ kind: 'ReplicaSet', name: 'gone-5f6d7c8b9', controller: true }]),
      expected: undefined,
    },
    { name: 'a bare pod has no workload', pod: pod([]), expected: undefined },
  ])('$name', ({ pod: p, expected }) => {
    const w = ownerWorkload(p, workloadIndex(snapshot));
    expect(w && `${w.kind}/${w.meta.name}`).toBe(expected);
    if (w) expect(workloadOf(p)).toEqual({ kind: w.kind, namespace: 'golang', name: w.meta.name });
  });
});

describe('one live-pod rule', () => {
  it.each([
    ['Running', true],
    ['Pending', true],
    ['Unknown', true],
    [undefined, true],
    ['Succeeded', false],
    ['Failed', false],
  ])('a pod in phase %s is live: %s', (phase, live) => {
    expect(isLivePod({ status: { ...(phase ? { phase } : {}) } } as Pick<Pod, 'status'>)).toBe(
      live,
    );
  });
});
