import {
  plannedAccessReviews,
  reviewKey,
  toReview,
} from '../../lambda/snapshot/rbac/access-review.js';
import { fixtureSnapshot } from '../support/snapshot-builder.js';

describe('plannedAccessReviews', () => {
  const planned = plannedAccessReviews(fixtureSnapshot('field-report'));

  it('asks about every contract request of the Fargate agent ServiceAccount and the Cluster Agent', () => {
    const subjects = new Set(planned.map((r) => `${r.namespace}/${r.serviceAccount}`));
    expect([...subjects].sort()).toEqual([
      'datadog/datadog-agent-cluster-agent',
      'golang/golang-app',
    ]);
    expect(planned).toContainEqual({
      serviceAccount: 'golang-app',
      namespace: 'golang',
      verb: 'get',
      group: '',
      resource: 'nodes',
      subresource: 'proxy',
    });
    expect(planned).toContainEqual({
      serviceAccount: 'golang-app',
      namespace: 'golang',
      verb: 'list',
      group: '',
      resource: 'endpoints',
    });
  });

  it("asks about the Cluster Agent's leader-election object (a ConfigMap, as the chart configures it) in its own namespace", () => {
    expect(planned).toContainEqual({
      serviceAccount: 'datadog-agent-cluster-agent',
      namespace: 'datadog',
      verb: 'update',
      group: '',
      resource: 'configmaps',
      resourceNamespace: 'datadog',
      name: 'datadog-agent-leader-election',
    });
  });

  it('asks each question once', () => {
    expect(new Set(planned.map(reviewKey)).size).toBe(planned.length);
  });

  it('keys a review by the request, so an answer finds its question', () => {
    const sa = { namespace: 'golang', name: 'golang-app' };
    const asked = toReview(sa, { verb: 'get', group: '', resource: 'nodes', subresource: 'proxy' });
    expect(reviewKey({ ...asked, allowed: true } as typeof asked)).toBe(reviewKey(asked));
    expect(reviewKey(toReview(sa, { verb: 'get', group: '', resource: 'nodes' }))).not.toBe(
      reviewKey(asked),
    );
  });
});
