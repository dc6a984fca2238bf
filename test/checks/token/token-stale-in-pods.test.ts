import { runChecks } from '../../../lambda/checks/runner.js';
import { tokenStaleInPods } from '../../../lambda/checks/token/token-stale-in-pods.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { failed } from '../../support/snapshot-builder.js';
import {
  CANARY,
  PODS_STARTED,
  build,
  datadogNamespace,
  golangNamespace,
  healthyDocs,
  namespace,
  summary,
  syncedSecret,
} from './support.js';

const CA_POD = 'datadog/datadog-agent-cluster-agent-6b9f7c5d4-x2k8q';
const APP_POD = 'golang/golang-app-7d9f8b6c5-abcde';
/** ESO wrote the rotated token two days after the pods started. */
const ROTATED = '2026-11-22T09:00:00.000Z';

/** Replaces the ESO-written Secret `ns/name` with one last written at `writtenAt`. */
function rewritten(docs: Raw[], ns: string, name: string, writtenAt: string): Raw[] {
  return docs.map((d) =>
    d.kind === 'Secret' && d.metadata.namespace === ns && d.metadata.name === name
      ? syncedSecret(ns, name, d.stringData, writtenAt)
      : d,
  );
}

/** The agent container of the app pod restarted at `at` (the pod itself started earlier). */
function containerRestartedAt(docs: Raw[], at: string): Raw[] {
  return docs.map((d) =>
    d.kind === 'Pod' && d.metadata.namespace === 'golang'
      ? {
          ...d,
          status: {
            ...d.status,
            containerStatuses: d.status.containerStatuses.map((c: Raw) =>
              c.name === 'datadog-agent'
                ? { ...c, restartCount: 1, state: { running: { startedAt: at } } }
                : c,
            ),
          },
        }
      : d,
  );
}

function containerWaiting(docs: Raw[]): Raw[] {
  return docs.map((d) =>
    d.kind === 'Pod' && d.metadata.namespace === 'golang'
      ? {
          ...d,
          status: {
            ...d.status,
            containerStatuses: d.status.containerStatuses.map((c: Raw) => ({
              ...c,
              ready: false,
              state: { waiting: { reason: 'CreateContainerConfigError' } },
            })),
          },
        }
      : d,
  );
}

describe('token-stale-in-pods', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'containers started after their token Secret last changed pass',
      docs: healthyDocs(),
      expected: [
        `PASS started-after-change:cluster-agent ${CA_POD}`,
        `PASS started-after-change:datadog-agent ${APP_POD}`,
      ],
    },
    {
      name: 'a container started before its Secret was rewritten fails',
      docs: rewritten(healthyDocs(), 'golang', 'golang-secrets', ROTATED),
      expected: [
        `PASS started-after-change:cluster-agent ${CA_POD}`,
        `FAIL started-before-change:datadog-agent ${APP_POD}`,
      ],
    },
    {
      name: 'a Cluster Agent started before its Secret was rewritten fails',
      docs: rewritten(healthyDocs(), 'datadog', 'datadog-secrets', ROTATED),
      expected: [
        `FAIL started-before-change:cluster-agent ${CA_POD}`,
        `PASS started-after-change:datadog-agent ${APP_POD}`,
      ],
    },
    {
      name: 'a container restarted after the change read the new token and passes',
      docs: containerRestartedAt(
        rewritten(healthyDocs(), 'golang', 'golang-secrets', ROTATED),
        '2026-11-23T00:00:00Z',
      ),
      expected: [
        `PASS started-after-change:cluster-agent ${CA_POD}`,
        `PASS started-after-change:datadog-agent ${APP_POD}`,
      ],
    },
    {
      name: 'a container that is not running is not evaluated (it reads the Secret when it starts)',
      docs: containerWaiting(rewritten(healthyDocs(), 'golang', 'golang-secrets', ROTATED)),
      expected: [`PASS started-after-change:cluster-agent ${CA_POD}`],
    },
    {
      name: 'a cluster without token consumers yields nothing',
      docs: [namespace('default')],
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(tokenStaleInPods.run(build(docs)))).toEqual(expected);
  });

  it('says the pod holds the old token when Secrets Manager changed after the container started', () => {
    const docs = rewritten(healthyDocs(), 'golang', 'golang-secrets', ROTATED);
    const r = tokenStaleInPods
      .run(build(docs, { source: { lastChangedDate: '2026-11-22T08:58:00.000Z' } }))
      .find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain(
      `Pod ${APP_POD} container datadog-agent reads Secret golang/golang-secrets key "token".`,
    );
    expect(r.message).toContain(
      `The token in Secrets Manager changed at 2026-11-22T08:58:00.000Z, after this container started at ${PODS_STARTED}`,
    );
    expect(r.message).toContain('still sends the old token');
    expect(r.remediation).toBe(
      'Restart these pods so they read the current token: kubectl -n golang rollout restart deployment/golang-app.',
    );
  });

  it('hedges when only the Secret write time is known', () => {
    const r = tokenStaleInPods
      .run(build(rewritten(healthyDocs(), 'golang', 'golang-secrets', ROTATED)))
      .find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain(
      `before the Secret's last write that could have changed key "token" (${ROTATED} by external-secrets). Which key that write changed is unknown`,
    );
  });

  it('warns that a stale Cluster Agent rejects agents holding the new token', () => {
    const r = tokenStaleInPods
      .run(build(rewritten(healthyDocs(), 'datadog', 'datadog-secrets', ROTATED)))
      .find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain('This is the Cluster Agent');
    expect(r.remediation).toContain(
      'kubectl -n datadog rollout restart deployment/datadog-agent-cluster-agent',
    );
  });

  it('is medium severity', () => {
    expect(tokenStaleInPods.severity).toBe('medium');
  });

  it('is not evaluated when pods could not be listed', () => {
    const mine = runChecks(build(healthyDocs(), { kube: { pods: failed('pods') } }), [
      tokenStaleInPods,
    ]);
    expect(mine.filter((f) => f.checkId === 'token-stale-in-pods').map((f) => f.messageId)).toEqual(
      ['not-evaluated'],
    );
  });

  it('ignores Secrets it cannot date', () => {
    const docs = [
      ...datadogNamespace(),
      ...golangNamespace(CANARY.token).map((d) =>
        d.kind === 'Secret'
          ? { ...d, metadata: { ...d.metadata, managedFields: [], creationTimestamp: undefined } }
          : d,
      ),
    ];
    expect(summary(tokenStaleInPods.run(build(docs)))).toEqual([
      `PASS started-after-change:cluster-agent ${CA_POD}`,
    ]);
  });
});
