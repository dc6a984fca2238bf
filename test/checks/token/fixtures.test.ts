/**
 * The token and ExternalSecret checks over the shared fixture clusters (test/fixtures/), with the
 * Secrets Manager side given as the fixture's aws.json describes it (canary tokens).
 */
import { runChecks } from '../../../lambda/checks/runner.js';
import type { Finding } from '../../../lambda/config/findings.js';
import { CHECKS } from '../../../lambda/checks/index.js';
import { fixtureSnapshot, ok } from '../../support/snapshot-builder.js';
import { TOKEN_CHECKS, tokenSourceOf } from './support.js';

/** The token in Secrets Manager per fixture, as its aws.json holds it (current canary). */
const SOURCES = {
  healthy: tokenSourceOf(),
  'field-report': tokenSourceOf(),
  'token-stale': tokenSourceOf({
    lastChangedDate: '2026-11-23T14:06:51.000Z',
    versionStages: { v2: ['AWSCURRENT'], v1: ['AWSPREVIOUS'] },
  }),
};

function audit(name: keyof typeof SOURCES): Finding[] {
  const snapshot = fixtureSnapshot(name, { aws: { tokenSource: ok(SOURCES[name]) } });
  return runChecks(snapshot, TOKEN_CHECKS).filter((f) => f.checkId !== 'audit-collection');
}

const line = (f: Finding) =>
  `${f.checkId} ${f.severity} ${f.messageId} ${f.resource.namespace ?? ''}/${f.resource.name}`;

describe('token checks over the fixture clusters', () => {
  it('runs every token check registered in the check index', () => {
    for (const c of TOKEN_CHECKS) expect(CHECKS).toContain(c);
  });

  it('finds nothing wrong in the healthy cluster, and evaluates every check there', () => {
    const findings = audit('healthy');
    expect(findings.filter((f) => f.status !== 'PASS').map(line)).toEqual([]);
    for (const c of TOKEN_CHECKS) {
      expect(findings.some((f) => f.checkId === c.id && f.status === 'PASS')).toBe(true);
    }
    // Three consumers of one token: the Cluster Agent, the runners (same Secret), the sidecar.
    expect(findings.filter((f) => f.checkId === 'token-consumers-match').map(line)).toEqual([
      'token-consumers-match critical matches-source:token datadog/datadog-secrets',
      'token-consumers-match critical matches-source:token golang/golang-secrets',
    ]);
  });

  it("finds exactly the field report's dangling go-secrets reference", () => {
    const findings = audit('field-report');
    const bad = findings.filter((f) => f.status !== 'PASS');
    expect(bad.map(line)).toEqual([
      'token-ref-resolves critical missing-secret:datadog-agent.DD_CLUSTER_AGENT_AUTH_TOKEN golang/golang-app',
    ]);
    expect(bad[0]!.message).toContain('references Secret "go-secrets" (key "token")');
    expect(bad[0]!.message).toContain('(Deployment golang/golang-app)');
    expect(bad[0]!.message).toContain(
      'Closest Secret with key "token" in golang: "golang-secrets" (written by ExternalSecret golang/golang-secrets)',
    );
    // golang-secrets itself holds the current token: the comparison passes.
    expect(findings.filter((f) => f.checkId === 'token-consumers-match').map(line)).toEqual([
      'token-consumers-match critical matches-source:token datadog/datadog-secrets',
      'token-consumers-match critical matches-source:token golang/golang-secrets',
    ]);
  });

  it('finds the stale token only in the namespace whose ExternalSecret stopped syncing', () => {
    const findings = audit('token-stale');
    const bad = findings.filter((f) => f.status !== 'PASS');
    expect(bad.map(line)).toEqual([
      'token-consumers-match critical mismatch:token golang/golang-secrets',
      'externalsecret-synced high not-ready golang/golang-secrets',
      'externalsecret-fresh medium stale golang/golang-secrets',
    ]);
    const mismatch = bad[0]!;
    expect(mismatch.message).toContain("It also differs from the Cluster Agent's token");
    expect(mismatch.message).toContain(
      'pods golang/golang-app-7d9f8b6c5-kx4wz get 403 invalid session token now',
    );
    expect(mismatch.message).toContain('past the sync grace');
    expect(bad[1]!.message).toContain('SecretSyncedError');
    // The rotated namespace is clean: its Secret matches and its pods restarted after the write.
    expect(
      findings
        .filter((f) => f.resource.namespace === 'datadog' && f.checkId.startsWith('token-'))
        .every((f) => f.status === 'PASS'),
    ).toBe(true);
  });
});
