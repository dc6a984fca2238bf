import { App, Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import { ConfigError } from '../lambda/config/config.js';
import { AUDITOR_APP_CONTEXT, AuditorStack } from './auditor-stack.js';
import { DEFAULT_CONFIG_FILE, loadDeploymentConfig } from './config.js';
import { MemberStack } from './member-stack.js';

// `npx cdk deploy` (or `-c configFile=other.json`): one configuration file, validated before any
// construct exists, so a bad field fails synth with its name.
const app = new App({ context: AUDITOR_APP_CONTEXT });
const configFile =
  (app.node.tryGetContext('configFile') as string | undefined) ?? DEFAULT_CONFIG_FILE;

try {
  const config = loadDeploymentConfig(configFile);
  new AuditorStack(app, config.deploy.stackName, {
    config,
    description: 'eks-datadog-auditor: scheduled read-only audit of Datadog on EKS Fargate',
    env: {
      account: process.env.CDK_DEFAULT_ACCOUNT,
      region: config.region ?? process.env.CDK_DEFAULT_REGION,
    },
  });
  // The reader role for member accounts: deploy its template as a StackSet (docs/deploy.md).
  // With discover, it also gives the clusters discovery selects (same tags, same regions) their
  // access entry for the reader role.
  new MemberStack(app, `${config.deploy.stackName}Member`, {
    description: 'eks-datadog-auditor: read-only reader role the auditor assumes in this account',
    ...(config.discover
      ? { clusterTags: config.discover.tags, clusterRegions: config.discover.regions }
      : {}),
  });
} catch (err) {
  // The message names the file and the field; a stack trace would only bury it.
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

// cdk-nag 3 runs as a synthesis validation plugin: any unacknowledged finding fails synth.
// (cdk-nag is CommonJS; Node's ESM loader does not see its re-exports as named exports.)
Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app, { verbose: true }));
