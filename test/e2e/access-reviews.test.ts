/**
 * SubjectAccessReview confirmation of the RBAC checks, through the real client against the test
 * API server's authorizer.
 */
import { runDemoAudit } from '../../lambda/run/demo/demo.js';
import {
  SUBJECT_ACCESS_REVIEWS_PATH,
  type TestApiServer,
} from '../../lambda/run/demo/kube-api-server.js';

describe('SubjectAccessReview confirmation', () => {
  it('asks the API server about each contract rule and stays quiet when it agrees', async () => {
    let server: TestApiServer | undefined;
    const report = await runDemoAudit({
      fixture: 'field-report',
      beforeAudit: (s) => void (server = s),
    });
    const c = report.clusters[0]!;
    const reviews = server!.requests.filter(
      (r) => r.method === 'POST' && r.path === SUBJECT_ACCESS_REVIEWS_PATH,
    );
    expect(reviews.length).toBeGreaterThan(10);
    expect(c.stats.kubeAccessReviews).toBe(reviews.length);
    expect(c.findings.filter((f) => f.messageId.startsWith('access-review:'))).toEqual([]);
  });

  it('reports a disagreement as info with both verdicts, keeping the static verdict primary', async () => {
    const report = await runDemoAudit({
      fixture: 'field-report',
      // An authorizer that allows everything (a webhook, say): the static "missing endpoints" stays.
      server: { accessReviews: () => ({ allowed: true, reason: 'webhook: allowed' }) },
    });
    const c = report.clusters[0]!;
    const disagreements = c.findings.filter((f) => f.messageId.startsWith('access-review:'));
    expect(disagreements.length).toBeGreaterThan(0);
    for (const d of disagreements) expect(d.severity).toBe('info');
    expect(
      disagreements.some(
        (d) => d.message.includes('endpoints') && d.message.includes('webhook: allowed'),
      ),
    ).toBe(true);
    expect(
      c.findings.some(
        (f) => f.checkId === 'rbac-agent-contract' && f.status === 'FAIL' && f.severity === 'high',
      ),
    ).toBe(true);
  });

  it('keeps the static verdicts alone when the auditor may not create SubjectAccessReviews', async () => {
    let server: TestApiServer | undefined;
    const report = await runDemoAudit({
      fixture: 'healthy',
      server: { accessReviews: 'forbidden' },
      beforeAudit: (s) => void (server = s),
    });
    const c = report.clusters[0]!;
    expect(c.status).toBe('PASS');
    expect(c.errors).toEqual([]);
    expect(server!.requests.filter((r) => r.path === SUBJECT_ACCESS_REVIEWS_PATH)).toHaveLength(1);
  });

  it('skips the confirmation above the configured number of reviews, and when disabled', async () => {
    for (const kubernetes of [{ maxAccessReviews: 3 }, { accessReviews: false }]) {
      let server: TestApiServer | undefined;
      const report = await runDemoAudit({
        fixture: 'healthy',
        config: { kubernetes },
        beforeAudit: (s) => void (server = s),
      });
      expect(report.clusters[0]!.status).toBe('PASS');
      expect(server!.requests.filter((r) => r.path === SUBJECT_ACCESS_REVIEWS_PATH)).toEqual([]);
    }
  });
});
