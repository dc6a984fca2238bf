/**
 * One Fargate profile matcher: agent discovery (does a workload template with no running pod land
 * on Fargate?) and the network and coverage checks (which profile places a pod?) must agree, with
 * EKS's rules: `*` and `?` in namespaces, label keys and label values; only ACTIVE profiles
 * schedule pods.
 */
import { discoverAgents } from '../../lambda/snapshot/agents.js';
import { fargatePlacement } from '../../lambda/snapshot/workloads/fargate-profiles.js';
import type { FargateProfile } from '../../lambda/snapshot/snapshot.js';
import { ok, snapshotFromManifests } from '../support/snapshot-builder.js';

const TEMPLATE_LABELS = { app: 'web', team: 'go' };

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'golang' },
  spec: {
    template: {
      metadata: { labels: TEMPLATE_LABELS },
      spec: {
        serviceAccountName: 'web',
        containers: [
          { name: 'app', image: 'golang:1.23' },
          { name: 'datadog-agent', image: 'public.ecr.aws/datadog/agent:7.60.0' },
        ],
      },
    },
  },
};

function profile(status: string, selector: FargateProfile['selectors'][number]): FargateProfile {
  return { name: 'apps', status, subnets: [], selectors: [selector], healthIssues: [] };
}

describe('one Fargate profile matcher for agent discovery and placement', () => {
  it.each([
    {
      name: 'a wildcard in a selector label key selects the template (EKS allows * and ? in keys)',
      profile: profile('ACTIVE', { namespace: 'golang', labels: { 'tea?': 'go' } }),
      onFargate: true,
    },
    {
      name: 'a CREATING profile schedules nothing yet',
      profile: profile('CREATING', { namespace: 'golang', labels: {} }),
      onFargate: false,
    },
    {
      name: 'a CREATE_FAILED profile schedules nothing',
      profile: profile('CREATE_FAILED', { namespace: 'golang', labels: {} }),
      onFargate: false,
    },
    {
      name: 'an ACTIVE profile with wildcard namespace and value selects the template',
      profile: profile('ACTIVE', { namespace: 'go*', labels: { app: 'w?b' } }),
      onFargate: true,
    },
  ])('$name', ({ profile: p, onFargate }) => {
    const snapshot = snapshotFromManifests([deployment], { aws: { fargateProfiles: ok([p]) } });
    const [agent] = discoverAgents(snapshot).agents;
    const placed = fargatePlacement([p], 'golang', TEMPLATE_LABELS).profile !== undefined;
    expect(placed).toBe(onFargate);
    expect(agent?.onFargate).toBe(onFargate);
  });
});
