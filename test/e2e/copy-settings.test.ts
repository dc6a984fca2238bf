/**
 * The copies-settings fixture audited through the real Kubernetes client and the test API server:
 * every ExternalSecret setting that stops a copy of the token following Secrets Manager is a FAIL
 * with its exact edit although every copy matches today; the ones that keep it following pass; a
 * template that rewrites the value is "not evaluated", never PASS nor a mismatch.
 */
import type { Finding } from '../../lambda/config/findings.js';
import type { ClusterReport } from '../../lambda/report/types.js';
import { runDemoAudit } from '../../lambda/run/demo/demo.js';

const line = (f: Finding) =>
  `${f.status} ${f.severity} ${f.checkId} ${f.resource.namespace ?? ''}/${f.resource.name} ${f.messageId}`;

describe('copies-settings audited end to end', () => {
  let c: ClusterReport;
  beforeAll(async () => {
    const report = await runDemoAudit({ fixture: 'copies-settings' });
    c = report.clusters[0]!;
  }, 120_000);

  const inSettings = () => c.findings.filter((f) => f.resource.namespace === 'settings');
  const get = (checkId: string, name: string) =>
    inSettings().find((f) => f.checkId === checkId && f.resource.name === name)!;

  it('fails each setting that stops the copy following, and only those', () => {
    expect(
      inSettings()
        .filter((f) => f.checkId === 'copy-follows-source')
        .map(line)
        .sort(),
    ).toEqual([
      'ERROR info copy-follows-source settings/trimmed-template template-not-comparable:token',
      'FAIL high copy-follows-source settings/allow-sunday sync-windows:token',
      'FAIL high copy-follows-source settings/created-once refreshes-once:token',
      'FAIL high copy-follows-source settings/deny-daytime sync-windows:token',
      'FAIL high copy-follows-source settings/interval-zero refreshes-once:token',
      'FAIL high copy-follows-source settings/on-change refreshes-once:token',
      'FAIL high copy-follows-source settings/pinned-version-id pinned-version:token',
      'PASS high copy-follows-source settings/deny-nightly follows:token',
      'PASS high copy-follows-source settings/pinned-current follows:token',
    ]);
  });

  it('finds every copy equal to Secrets Manager today, the templated one included', () => {
    const match = inSettings().filter((f) => f.checkId === 'token-consumers-match');
    expect(match.filter((f) => f.status !== 'PASS')).toEqual([]);
    expect(match).toHaveLength(9);
    expect(get('token-consumers-match', 'pinned-version-id').status).toBe('PASS');
  });

  it('gives the exact edit for each setting', () => {
    expect(get('copy-follows-source', 'pinned-version-id').remediation).toContain(
      'Remove remoteRef.version "uuid/a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a5b" from the data[] entry with remoteRef.key datadog/cluster-agent-token in ExternalSecret settings/pinned-version-id',
    );
    expect(get('copy-follows-source', 'created-once').remediation).toContain(
      'Set spec.refreshInterval: 1h and remove spec.refreshPolicy: CreatedOnce in ExternalSecret settings/created-once',
    );
    expect(get('copy-follows-source', 'on-change').remediation).toContain(
      'remove spec.refreshPolicy: OnChange',
    );
    expect(get('copy-follows-source', 'interval-zero').message).toContain('refreshInterval 0s');
    const deny = get('copy-follows-source', 'deny-daytime');
    expect(deny.message).toContain('spec.syncWindows (kind deny) blocks periodic refreshes 75%');
    expect(deny.remediation).toContain(
      'Remove spec.syncWindows from ExternalSecret settings/deny-daytime',
    );
    expect(deny.remediation).toContain(
      'kubectl -n settings annotate externalsecret deny-daytime force-sync=$(date +%s) --overwrite',
    );
    const allow = get('copy-follows-source', 'allow-sunday');
    expect(allow.message).toMatch(
      /kind allow\) blocks periodic refreshes 99% of the time, up to 166h59m in a row/,
    );
    expect(get('copy-follows-source', 'trimmed-template').message).toContain(
      'spec.target.template.data["token"] renders the value through a template',
    );
  });
});
