import { externalsecretFresh } from '../../../lambda/checks/external-secrets/externalsecret-fresh.js';
import { runChecks } from '../../../lambda/checks/runner.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { TokenSource } from '../../../lambda/snapshot/snapshot.js';
import type { BuildOptions } from '../../support/snapshot-builder.js';
import { failed } from '../../support/snapshot-builder.js';
import {
  CANARY,
  build,
  datadogNamespace,
  golangNamespace,
  healthyDocs,
  namespace,
  summary,
  type EsOpts,
} from '../token/support.js';

type Opts = BuildOptions & { source?: Partial<TokenSource> };

/** Secrets Manager changed 20 minutes before the audit, after the 01:30 refresh. */
const changedAfterRefresh: Opts = { source: { lastChangedDate: '2026-11-24T01:40:00.000Z' } };

function golang(es: EsOpts): Raw[] {
  return [...datadogNamespace(), ...golangNamespace(CANARY.token, es)];
}

describe('externalsecret-fresh', () => {
  it.each<{ name: string; docs: Raw[]; opts?: Opts; expected: string[] }>([
    {
      name: 'refreshes within twice the interval pass',
      docs: healthyDocs(),
      expected: ['PASS fresh datadog/datadog-secrets', 'PASS fresh golang/golang-secrets'],
    },
    {
      name: 'a last refresh older than twice the interval fails',
      docs: golang({ refreshTime: '2026-11-23T20:00:00Z' }),
      expected: ['PASS fresh datadog/datadog-secrets', 'FAIL stale golang/golang-secrets'],
    },
    {
      name: 'the default interval (1h) applies when refreshInterval is absent',
      docs: golang({ refreshInterval: null, refreshTime: '2026-11-23T23:00:00Z' }),
      expected: ['PASS fresh datadog/datadog-secrets', 'FAIL stale golang/golang-secrets'],
    },
    {
      name: 'a 15m interval is stale after 40 minutes',
      docs: golang({ refreshInterval: '15m', refreshTime: '2026-11-24T01:20:00Z' }),
      expected: ['PASS fresh datadog/datadog-secrets', 'FAIL stale golang/golang-secrets'],
    },
    {
      name: 'a 1h30m interval is fresh after 2 hours',
      docs: golang({ refreshInterval: '1h30m', refreshTime: '2026-11-24T00:00:00Z' }),
      expected: ['PASS fresh datadog/datadog-secrets', 'PASS fresh golang/golang-secrets'],
    },
    {
      name: 'refreshInterval 0 that synced before the last change fails',
      docs: golang({ refreshInterval: '0' }),
      opts: changedAfterRefresh,
      expected: [
        'PASS fresh datadog/datadog-secrets',
        'FAIL not-refreshed-after-change golang/golang-secrets',
      ],
    },
    {
      name: 'refreshInterval 0s that synced after the last change passes',
      docs: golang({ refreshInterval: '0s' }),
      expected: [
        'PASS fresh datadog/datadog-secrets',
        'PASS synced-after-change golang/golang-secrets',
      ],
    },
    {
      name: 'refreshPolicy CreatedOnce that synced before the last change fails',
      docs: golang({ refreshPolicy: 'CreatedOnce' }),
      opts: changedAfterRefresh,
      expected: [
        'PASS fresh datadog/datadog-secrets',
        'FAIL not-refreshed-after-change golang/golang-secrets',
      ],
    },
    {
      name: 'refreshPolicy OnChange that synced before the last change fails',
      docs: golang({ refreshPolicy: 'OnChange' }),
      opts: changedAfterRefresh,
      expected: [
        'PASS fresh datadog/datadog-secrets',
        'FAIL not-refreshed-after-change golang/golang-secrets',
      ],
    },
    {
      name: 'a sync-once ExternalSecret is not judged without Secrets Manager',
      docs: golang({ refreshInterval: '0' }),
      opts: { aws: { tokenSource: { status: 'not-installed', detail: 'kubeconfig mode' } } },
      expected: ['PASS fresh datadog/datadog-secrets'],
    },
    {
      name: 'an unparseable refreshInterval fails',
      docs: golang({ refreshInterval: '1d' }),
      expected: [
        'PASS fresh datadog/datadog-secrets',
        'FAIL invalid-refresh-interval golang/golang-secrets',
      ],
    },
    {
      name: 'an ExternalSecret that never synced is left to externalsecret-synced',
      docs: golang({ refreshTime: null, ready: null }),
      expected: ['PASS fresh datadog/datadog-secrets'],
    },
    {
      name: 'without External Secrets Operator installed there is nothing to judge',
      docs: [namespace('golang')],
      opts: {
        kube: {
          externalSecrets: { status: 'not-installed', detail: 'external-secrets.io not served' },
        },
      },
      expected: [],
    },
  ])('$name', ({ docs, opts, expected }) => {
    expect(summary(externalsecretFresh.run(build(docs, opts)))).toEqual(expected);
  });

  it('states the age and the interval of a stale ExternalSecret', () => {
    const r = externalsecretFresh
      .run(build(golang({ refreshTime: '2026-11-23T20:00:00Z' })))
      .find((x) => x.status === 'FAIL')!;
    expect(r.message).toBe(
      'ExternalSecret golang/golang-secrets last refreshed at 2026-11-23T20:00:00Z (6h ago), more than twice its refreshInterval 1h: ESO is not refreshing it, so a rotated token would not reach its Secret.',
    );
    expect(r.remediation).toContain(
      'kubectl -n golang annotate externalsecret golang-secrets force-sync',
    );
  });

  it('tells a sync-once ExternalSecret to refresh periodically', () => {
    const r = externalsecretFresh
      .run(build(golang({ refreshPolicy: 'CreatedOnce' }), changedAfterRefresh))
      .find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain('refreshPolicy CreatedOnce');
    expect(r.message).toContain('changed at 2026-11-24T01:40:00.000Z');
    expect(r.remediation).toContain(
      'Set spec.refreshInterval: 1h on ExternalSecret golang/golang-secrets and remove spec.refreshPolicy',
    );
  });

  it('is medium severity and not evaluated when ExternalSecrets could not be listed', () => {
    expect(externalsecretFresh.severity).toBe('medium');
    const mine = runChecks(
      build(healthyDocs(), {
        kube: { externalSecrets: failed('externalsecrets.external-secrets.io') },
      }),
      [externalsecretFresh],
    ).filter((f) => f.checkId === 'externalsecret-fresh');
    expect(mine.map((f) => `${f.status} ${f.messageId}`)).toEqual(['ERROR not-evaluated']);
  });
});
