import type { Check } from './check.js';
import { tokenRefResolves } from './token/token-ref-resolves.js';
import { tokenSource } from './token/token-source.js';
import { tokenConsumersMatch } from './token/token-consumers-match.js';
import { tokenNotPlaintext } from './token/token-not-plaintext.js';
import { tokenNotChartGenerated } from './token/token-not-chart-generated.js';
import { tokenStaleInPods } from './token/token-stale-in-pods.js';
import { operatorTokenNotLiteral } from './operator/operator-token-not-literal.js';
import { externalsecretSynced } from './external-secrets/externalsecret-synced.js';
import { externalsecretFresh } from './external-secrets/externalsecret-fresh.js';
import { externalsecretMapping } from './external-secrets/externalsecret-mapping.js';
import { clusterexternalsecretCoverage } from './external-secrets/clusterexternalsecret-coverage.js';
import { copyFollowsSource } from './external-secrets/copy-follows-source.js';
import { secretSecondWriter } from './external-secrets/secret-second-writer.js';
import { ddSiteConsistent } from './wiring/dd-site-consistent.js';
import { datadogKeysMatch } from './keys/datadog-keys-match.js';
import { fargateProfileHealth } from './fargate/fargate-profile-health.js';
import { fargateProfileCoverage } from './fargate/fargate-profile-coverage.js';
import { fargateSubnetsPrivate } from './fargate/fargate-subnets-private.js';
import { fargateExecutionRoleMapped } from './fargate/fargate-execution-role-mapped.js';
import { sgClusterAgentPort } from './network/sg-cluster-agent-port.js';
import { mixedClusterNodeSg } from './network/mixed-cluster-node-sg.js';
import { sgControlPlanePath } from './network/sg-control-plane-path.js';
import { endpointReachableFromFargate } from './network/endpoint-reachable-from-fargate.js';
import { fargateSidecarMode } from './wiring/fargate-sidecar-mode.js';
import { clusterAgentUrl } from './wiring/cluster-agent-url.js';
import { rbacAgentContract } from './rbac/rbac-agent-contract.js';
import { rbacClusterAgentContract } from './rbac/rbac-cluster-agent-contract.js';
import { rbacAgentExcess } from './rbac/rbac-agent-excess.js';
import { datadogSetupFound } from './setup/datadog-setup-found.js';
import { injectionConfigValid } from './injection/injection-config-valid.js';
import { injectionWebhookRegistered } from './injection/injection-webhook-registered.js';
import { injectionPodsInjected } from './injection/injection-pods-injected.js';
import { injectionStatusAnnotations } from './injection/injection-status-annotations.js';
import { injectionSecretReady } from './injection/injection-secret-ready.js';
import { injectionSidecarUrl } from './injection/injection-sidecar-url.js';
import { sgAdmissionWebhookPath } from './network/sg-admission-webhook-path.js';

/** Every check the auditor runs, in report order. A new check is one file plus one line here. */
export const CHECKS: readonly Check[] = [
  datadogSetupFound,
  tokenSource,
  tokenConsumersMatch,
  tokenRefResolves,
  tokenNotPlaintext,
  tokenNotChartGenerated,
  tokenStaleInPods,
  operatorTokenNotLiteral,
  externalsecretSynced,
  externalsecretFresh,
  externalsecretMapping,
  clusterexternalsecretCoverage,
  copyFollowsSource,
  secretSecondWriter,
  datadogKeysMatch,
  fargateProfileHealth,
  fargateProfileCoverage,
  fargateSubnetsPrivate,
  fargateExecutionRoleMapped,
  sgClusterAgentPort,
  mixedClusterNodeSg,
  sgControlPlanePath,
  endpointReachableFromFargate,
  fargateSidecarMode,
  clusterAgentUrl,
  ddSiteConsistent,
  rbacAgentContract,
  rbacClusterAgentContract,
  rbacAgentExcess,
  injectionConfigValid,
  injectionWebhookRegistered,
  injectionPodsInjected,
  injectionStatusAnnotations,
  injectionSecretReady,
  injectionSidecarUrl,
  sgAdmissionWebhookPath,
];

export type { Check } from './check.js';
