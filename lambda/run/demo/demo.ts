/**
 * The built-in demo (`eks-datadog-auditor audit --demo`): a local HTTPS Kubernetes API server
 * serving a fixture cluster, our own AWS clients answered from the same fixture at the SDK
 * operation level, and the real audit (real Kubernetes client, real checks) in between. No AWS
 * account or cluster needed. It ships with the package (dependencies only) and the end-to-end
 * tests use it too, so it takes no jest globals.
 */
import { join } from 'node:path';
import { newRunId, runAudit } from '../audit.js';
import { createAwsClients } from '../../collect/aws/clients.js';
import { CHECKS } from '../../checks/index.js';
import type { Check } from '../../checks/check.js';
import { collectCluster } from '../../collect/collect.js';
import { parseConfig, type AuditorConfigInput } from '../../config/config.js';
import type { Raw } from '../../collect/kube/raw.js';
import type { AuditReport } from '../../report/types.js';
import {
  answerFromFixture,
  awsFixtureResponder,
  loadAwsFixture,
  type AwsFixture,
} from './aws-fixture.js';
import {
  startTestApiServer,
  type TestApiServer,
  type TestApiServerOptions,
} from './kube-api-server.js';
import { DEFAULT_COLLECTED_AT, demoFixturesDir, loadManifests } from './fixtures.js';

export interface DemoOptions {
  fixture: string;
  /** Where the fixture directories are; default: the shipped ones (see fixtures.ts). */
  fixturesDir?: string;
  progress?: (text: string) => void;
  now?: () => Date;
  /** Config fields to merge (token secret, overrides); clusters are set by the demo. */
  config?: Partial<AuditorConfigInput>;
  checks?: readonly Check[];
  /** Test API server options beyond the fixture's manifests (access review answers, CRDs). */
  server?: Omit<TestApiServerOptions, 'manifests'>;
  /** Rewrites the fixture's manifests before they are served (a rollout, a rescale). */
  manifests?: (docs: Raw[]) => Raw[];
  /** Rewrites the fixture's AWS responses (a Fargate profile for another namespace). */
  aws?: (fixture: AwsFixture) => AwsFixture;
  /** Called with the running server before the audit, e.g. to inject faults. */
  beforeAudit?: (server: TestApiServer) => void | Promise<void>;
}

export async function runDemoAudit(opts: DemoOptions): Promise<AuditReport> {
  const dir = join(opts.fixturesDir ?? demoFixturesDir(), opts.fixture);
  const progress = opts.progress ?? (() => undefined);
  // Fixtures describe a cluster as of DEFAULT_COLLECTED_AT (ESO refresh times, pod start times):
  // the demo audits it at that moment so time-based checks judge it as the fixture intends.
  const now = opts.now ?? (() => new Date(DEFAULT_COLLECTED_AT));
  const awsFixture = opts.aws ? opts.aws(loadAwsFixture(dir)) : loadAwsFixture(dir);
  const docs = loadManifests(dir);
  const server = await startTestApiServer({
    ...opts.server,
    manifests: opts.manifests ? opts.manifests(docs) : docs,
  });
  const awsAnswers = awsFixtureResponder(awsFixture);
  try {
    await opts.beforeAudit?.(server);
    progress(
      `demo: serving fixture "${opts.fixture}" at ${server.url} (TLS with a per-run CA, bearer token)\n`,
    );
    const config = parseConfig(
      {
        ...opts.config,
        clusters: [{ name: opts.fixture, region: awsFixture.region ?? 'eu-west-1' }],
      },
      `demo fixture ${opts.fixture}`,
    );
    return await runAudit(
      config,
      config.clusters,
      {
        collect: (cluster, cfg) =>
          collectCluster(cluster, cfg, {
            now,
            awsClients: (region, roleArn) =>
              answerFromFixture(
                createAwsClients({ region, ...(roleArn ? { roleArn } : {}) }),
                awsAnswers,
              ),
            kubeAccess: {
              kind: 'token',
              clusterName: cluster.name,
              server: server.url,
              caData: server.caData,
              token: async () => server.token,
            },
          }),
        checks: opts.checks ?? CHECKS,
        now,
        newRunId: () => newRunId(now()),
        logger: {
          info: (m) => progress(`demo: ${m}\n`),
          warn: (m) => progress(`demo: warning: ${m}\n`),
          error: (m, e) => progress(`demo: error: ${m} ${e ? JSON.stringify(e) : ''}\n`),
        },
      },
      'cli',
    );
  } finally {
    await server.close();
  }
}
