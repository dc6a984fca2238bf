import type { CheckResult } from '../../config/findings.js';
import type { ClusterSnapshot } from '../../snapshot/snapshot.js';
import type { Check } from '../check.js';
import {
  datadogAgentsOf,
  ddaLabel,
  ddaResource,
  operatorTokenRef,
  suggestedTokenSecret,
} from '../../snapshot/operator.js';

/**
 * A DatadogAgent does not carry the Cluster Agent token as a literal `spec.global.clusterAgentToken`.
 * The Operator copies it into `<name>-token`; the literal stays readable by anyone who may get
 * DatadogAgents, in Git, and in kubectl's last-applied-configuration, and never follows Secrets
 * Manager. The value is never read into the snapshot: only that it is set and its length.
 */
export const operatorTokenNotLiteral: Check = {
  id: 'operator-token-not-literal',
  area: 'operator',
  title: 'A DatadogAgent does not hold the Cluster Agent token as a literal clusterAgentToken',
  severity: 'high',
  resourceType: 'DatadogAgent',
  risk: 'A literal spec.global.clusterAgentToken is readable by anyone who can get DatadogAgents (and in Git and last-applied-configuration), and never follows rotation in Secrets Manager, so agents synced from Secrets Manager get 403 invalid session token.',
  remediation:
    'Remove spec.global.clusterAgentToken; set spec.global.clusterAgentTokenSecret {secretName, keyName} to a Secret an ExternalSecret writes from Secrets Manager; rotate the exposed token.',
  requires: ['kube.datadogAgents'],
  run(snapshot: ClusterSnapshot): CheckResult[] {
    return datadogAgentsOf(snapshot).map((dda): CheckResult => {
      const resource = ddaResource(dda);
      const ns = resource.namespace;
      const literal = dda.literalClusterAgentToken;
      if (!literal) {
        return {
          status: 'PASS',
          resource,
          messageId: 'no-literal',
          message: `${ddaLabel(dda)} sets no literal spec.global.clusterAgentToken.`,
          remediation: '',
        };
      }
      const ref = operatorTokenRef(dda);
      const shadowed = ref.source === 'secret';
      const named = dda.clusterAgentTokenSecret;
      const use =
        shadowed && named?.keyName
          ? { secretName: named.secretName, keyName: named.keyName, how: '' }
          : suggestedTokenSecret(snapshot, dda);
      return {
        status: 'FAIL',
        resource,
        messageId: shadowed ? 'literal-shadowed' : 'literal',
        message: `${ddaLabel(dda)} holds the Cluster Agent token in plain text in spec.global.clusterAgentToken (${literal.length} bytes; the value is not shown). ${
          shadowed
            ? `The Operator uses spec.global.clusterAgentTokenSecret (${ref.secret} key "${ref.key}") instead, but the literal is still readable by anyone who can get DatadogAgents.`
            : `The Operator writes it into Secret ${ns}/${ref.secret} key "${ref.key}", which the Cluster Agent reads: it never follows Secrets Manager, and anyone who can get DatadogAgents (or read kubectl's last-applied-configuration) has it.`
        }`,
        remediation: `In ${ddaLabel(dda)} remove spec.global.clusterAgentToken${
          shadowed
            ? ''
            : ` and set spec.global.clusterAgentTokenSecret: {secretName: ${use.secretName}, keyName: ${use.keyName}}. ${use.how}`
        }\nThen rotate the token in Secrets Manager: the literal has been exposed.`,
      };
    });
  },
};
