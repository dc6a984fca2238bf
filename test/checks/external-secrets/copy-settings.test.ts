import { copyFollowsSource } from '../../../lambda/checks/external-secrets/copy-follows-source.js';
import { tokenConsumersMatch } from '../../../lambda/checks/token/token-consumers-match.js';
import {
  pinnedVersion,
  templateEffect,
} from '../../../lambda/checks/external-secrets/copy-settings.js';
import {
  analyseSyncWindows,
  parseSchedule,
  windowsBlocker,
} from '../../../lambda/checks/external-secrets/sync-windows.js';
import { convertExternalSecret } from '../../../lambda/collect/kube/convert.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { SyncWindows } from '../../../lambda/snapshot/snapshot.js';
import { CANARY, build, golangNamespace, summary } from '../token/support.js';

const AT = '2026-11-24T02:00:00Z';

describe('sync windows as ESO evaluates them', () => {
  it.each<{ name: string; sw: SyncWindows; share: number; longestH: number; fails: boolean }>([
    {
      name: 'a nightly 2h deny window blocks 1/12 of the time and passes',
      sw: { kind: 'deny', windows: [{ schedule: '0 22 * * *', duration: '2h' }] },
      share: 2 / 24,
      longestH: 2,
      fails: false,
    },
    {
      name: 'a weekday 08:00-20:00 deny window plus the weekend blocks most refreshes',
      sw: {
        kind: 'deny',
        windows: [
          { schedule: '0 8 * * 1-5', duration: '12h' },
          { schedule: '0 0 * * SAT,SUN', duration: '24h' },
        ],
      },
      share: (5 * 12 + 2 * 24) / (7 * 24),
      // Saturday 00:00 to Monday 00:00; Friday 20:00-24:00 and Monday 00:00-08:00 stay open.
      longestH: 48,
      fails: true,
    },
    {
      name: 'an allow window of 1h a day blocks 23h of every 24h',
      sw: { kind: 'allow', windows: [{ schedule: '@daily', duration: '1h' }] },
      share: 23 / 24,
      longestH: 23,
      fails: true,
    },
    {
      name: 'a weekly allow window leaves rotations waiting almost a week',
      sw: { kind: 'allow', windows: [{ schedule: '@weekly', duration: '72h' }] },
      share: 4 / 7,
      longestH: 96,
      fails: true,
    },
    {
      name: 'an allow list with only an unparsable schedule blocks everything',
      sw: { kind: 'allow', windows: [{ schedule: 'TZ=Europe/Paris 0 22 * * *', duration: '8h' }] },
      share: 1,
      longestH: 28 * 24,
      fails: true,
    },
    {
      name: 'a deny list with only an unparsable schedule blocks nothing',
      sw: { kind: 'deny', windows: [{ schedule: 'not-a-cron', duration: '8h' }] },
      share: 0,
      longestH: 0,
      fails: false,
    },
    {
      name: 'an unknown kind permits every refresh, as ESO does',
      sw: { kind: 'Deny', windows: [{ schedule: '* * * * *', duration: '1h' }] },
      share: 0,
      longestH: 0,
      fails: false,
    },
    {
      name: '@every 6h with a 5h allow window blocks 1h in 6',
      sw: { kind: 'allow', windows: [{ schedule: '@every 6h', duration: '5h' }] },
      share: 1 / 6,
      longestH: 1,
      fails: false,
    },
  ])('$name', ({ sw, share, longestH, fails }) => {
    const a = analyseSyncWindows(sw, AT);
    // Window ends are inclusive in ESO: allow one minute per occurrence of slack.
    expect(a.blockedShare).toBeCloseTo(share, 2);
    expect(Math.abs(a.longestBlockedMs / 3_600_000 - longestH)).toBeLessThanOrEqual(1 / 30);
    expect(windowsBlocker(a) !== undefined).toBe(fails);
  });

  it.each([
    ['0 22 * * 1-5', 'cron'],
    ['*/15 * * * *', 'cron'],
    ['0 0 1 JAN *', 'cron'],
    ['@hourly', 'cron'],
    ['@every 90m', 'every'],
    ['0 24 * * *', 'invalid'],
    ['0 22 * *', 'invalid'],
    ['@fortnightly', 'invalid'],
    ['@every soon', 'invalid'],
  ])('reads schedule %s as %s', (schedule, kind) => {
    expect(parseSchedule(schedule).kind).toBe(kind);
  });

  it('ORs day-of-month and day-of-week when both are restricted, as robfig/cron does', () => {
    // 2026-12-01 is a Tuesday: "the 1st or any Monday" fires on both.
    const a = analyseSyncWindows(
      { kind: 'deny', windows: [{ schedule: '0 0 1 * MON', duration: '1m' }] },
      '2026-11-30T00:00:00Z',
    );
    expect(a.blockedShare).toBeGreaterThan(0);
    const both = analyseSyncWindows(
      { kind: 'deny', windows: [{ schedule: '0 0 1 * *', duration: '1m' }] },
      '2026-11-30T00:00:00Z',
    );
    expect(a.blockedShare).toBeGreaterThan(both.blockedShare);
  });
});

describe('remoteRef.version pins', () => {
  it.each([
    [undefined, 'none'],
    ['AWSCURRENT', 'none'],
    ['AWSPREVIOUS', 'previous'],
    ['AWSPENDING', 'pending'],
    ['uuid/6f1c2b7e-0000-4000-8000-000000000001', 'version-id'],
    ['STABLE', 'stage'],
  ])('reads %s as %s', (version, kind) => {
    expect(pinnedVersion(version).kind).toBe(kind);
  });
});

describe('target.template and the key it writes', () => {
  const es = (template: Raw | undefined) =>
    convertExternalSecret({
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'x', namespace: 'golang' },
      spec: {
        secretStoreRef: { name: 'golang' },
        target: { name: 'x', ...(template ? { template } : {}) },
        data: [{ secretKey: 'token', remoteRef: { key: 'datadog/cluster-agent-token' } }],
      },
    });
  it.each<{ name: string; template: Raw | undefined; expected: string }>([
    { name: 'no template', template: undefined, expected: 'verbatim' },
    { name: 'a template with metadata only', template: { metadata: {} }, expected: 'verbatim' },
    {
      name: '{{ .token }} passes the value through',
      template: { data: { token: '{{ .token }}' } },
      expected: 'verbatim',
    },
    {
      name: '{{ index . "token" }} passes the value through',
      template: { data: { token: '{{ index . "token" }}' } },
      expected: 'verbatim',
    },
    {
      name: 'a prefix rewrites it',
      template: { data: { token: 'Bearer {{ .token }}' } },
      expected: 'rewritten',
    },
    {
      name: 'a filter rewrites it',
      template: { data: { token: '{{ .token | b64enc }}' } },
      expected: 'rewritten',
    },
    {
      name: 'Replace with other keys only drops it',
      template: { data: { other: '{{ .token }}' } },
      expected: 'rewritten',
    },
    {
      name: 'Merge with other keys keeps it',
      template: { mergePolicy: 'Merge', data: { other: '{{ .token }}' } },
      expected: 'verbatim',
    },
    {
      name: 'templateFrom may render it from a ConfigMap',
      template: { templateFrom: [{ configMap: { name: 'tpl', items: [{ key: 'token' }] } }] },
      expected: 'unknown',
    },
  ])('$name: $expected', ({ template, expected }) => {
    expect(templateEffect(es(template), 'token').kind).toBe(expected);
  });

  it('keeps no template text in the snapshot', () => {
    const e = es({ data: { token: 'Bearer {{ .token }} LITERAL-XYZ' } });
    expect(JSON.stringify(e)).not.toContain('LITERAL-XYZ');
  });
});

/** The golang ExternalSecret of the support builder with `spec` changes applied. */
function golangWith(change: (spec: Raw) => Raw, token: string = CANARY.token): Raw[] {
  return golangNamespace(token).map((d) =>
    d.kind === 'ExternalSecret' ? { ...d, spec: change(d.spec) } : d,
  );
}

const pinToken = (version: string) => (spec: Raw) => ({
  ...spec,
  data: spec.data.map((e: Raw) =>
    e.secretKey === 'token' ? { ...e, remoteRef: { ...e.remoteRef, version } } : e,
  ),
});

describe('copy-follows-source: each setting that stops a copy following Secrets Manager', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'remoteRef.version AWSCURRENT is what ESO reads anyway and passes',
      docs: golangWith(pinToken('AWSCURRENT')),
      expected: [
        'PASS follows:datadog_api_key golang/golang-secrets',
        'PASS follows:token golang/golang-secrets',
      ],
    },
    {
      name: 'a uuid/ version id fails although the value matches today',
      docs: golangWith(pinToken('uuid/6f1c2b7e-0000-4000-8000-000000000001')),
      expected: [
        'PASS follows:datadog_api_key golang/golang-secrets',
        'FAIL pinned-version:token golang/golang-secrets',
      ],
    },
    {
      name: 'a custom staging label fails',
      docs: golangWith(pinToken('STABLE')),
      expected: [
        'PASS follows:datadog_api_key golang/golang-secrets',
        'FAIL pinned-version:token golang/golang-secrets',
      ],
    },
    {
      name: 'refreshInterval 0 fails',
      docs: golangWith((s) => ({ ...s, refreshInterval: '0s' })),
      expected: [
        'FAIL refreshes-once:datadog_api_key golang/golang-secrets',
        'FAIL refreshes-once:token golang/golang-secrets',
      ],
    },
    {
      name: 'refreshPolicy OnChange fails',
      docs: golangWith((s) => ({ ...s, refreshPolicy: 'OnChange' })),
      expected: [
        'FAIL refreshes-once:datadog_api_key golang/golang-secrets',
        'FAIL refreshes-once:token golang/golang-secrets',
      ],
    },
    {
      name: 'deny windows blocking most refreshes fail',
      docs: golangWith((s) => ({
        ...s,
        syncWindows: { kind: 'deny', windows: [{ schedule: '0 6 * * *', duration: '18h' }] },
      })),
      expected: [
        'FAIL sync-windows:datadog_api_key golang/golang-secrets',
        'FAIL sync-windows:token golang/golang-secrets',
      ],
    },
    {
      name: 'a short nightly deny window passes',
      docs: golangWith((s) => ({
        ...s,
        syncWindows: { kind: 'deny', windows: [{ schedule: '0 22 * * *', duration: '2h' }] },
      })),
      expected: [
        'PASS follows:datadog_api_key golang/golang-secrets',
        'PASS follows:token golang/golang-secrets',
      ],
    },
    {
      name: 'a template that rewrites the token is not evaluated, never PASS',
      docs: golangWith((s) => ({
        ...s,
        target: {
          ...s.target,
          template: { mergePolicy: 'Merge', data: { token: 'Bearer {{ .token }}' } },
        },
      })),
      expected: [
        'PASS follows:datadog_api_key golang/golang-secrets',
        'ERROR template-not-comparable:token golang/golang-secrets',
      ],
    },
    {
      name: 'a template that passes the token through passes',
      docs: golangWith((s) => ({
        ...s,
        target: {
          ...s.target,
          template: { data: { token: '{{ .token }}', datadog_api_key: '{{ .datadog_api_key }}' } },
        },
      })),
      expected: [
        'PASS follows:datadog_api_key golang/golang-secrets',
        'PASS follows:token golang/golang-secrets',
      ],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(copyFollowsSource.run(build(docs)))).toEqual(expected);
  });

  it('names the window, how long it blocks and the exact edit', () => {
    const docs = golangWith((s) => ({
      ...s,
      syncWindows: { kind: 'allow', windows: [{ schedule: '0 3 * * 0', duration: '1h' }] },
    }));
    const r = copyFollowsSource.run(build(docs)).find((x) => x.messageId === 'sync-windows:token')!;
    expect(r.message).toContain(
      'spec.syncWindows (kind allow) blocks periodic refreshes 99% of the time',
    );
    expect(r.message).toContain('the next rotation will not reach it');
    expect(r.remediation).toContain(
      'Remove spec.syncWindows from ExternalSecret golang/golang-secrets',
    );
    expect(r.remediation).toContain(
      'kubectl -n golang annotate externalsecret golang-secrets force-sync',
    );
  });

  it('says why each pinned version keeps the old value', () => {
    const r = copyFollowsSource
      .run(build(golangWith(pinToken('AWSPREVIOUS'))))
      .find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain('one value behind');
    expect(r.remediation).toContain(
      'Remove remoteRef.version "AWSPREVIOUS" from the data[] entry with remoteRef.key datadog/cluster-agent-token in ExternalSecret golang/golang-secrets',
    );
  });
});

describe('token-consumers-match and a template that rewrites the token', () => {
  const withTemplate = (template: Raw, token: string) =>
    golangWith((s) => ({ ...s, target: { ...s.target, template } }), token);

  it.each<{ name: string; docs: Raw[]; expected: string }>([
    {
      name: 'a rewritten value is not evaluated, not a critical mismatch',
      docs: withTemplate(
        { mergePolicy: 'Merge', data: { token: 'Bearer {{ .token }}' } },
        `Bearer ${CANARY.token}`,
      ),
      expected: 'ERROR template-not-comparable:token golang/golang-secrets',
    },
    {
      name: 'a passed-through value is still compared and fails when it differs',
      docs: withTemplate(
        { data: { token: '{{ .token }}', datadog_api_key: '{{ .datadog_api_key }}' } },
        'CANARY-some-other-token-0000000000000000',
      ),
      expected: 'FAIL mismatch:token golang/golang-secrets',
    },
  ])('$name', ({ docs, expected }) => {
    const lines = summary(tokenConsumersMatch.run(build(docs)));
    expect(lines.filter((l) => l.includes('golang/'))).toEqual([expected]);
  });
});
