import { runChecks } from '../../../lambda/checks/runner.js';
import { tokenNotChartGenerated } from '../../../lambda/checks/token/token-not-chart-generated.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import { failed } from '../../support/snapshot-builder.js';
import {
  CANARY,
  build,
  clusterAgent,
  datadogNamespace,
  externalSecret,
  golangNamespace,
  healthyDocs,
  namespace,
  secret,
  summary,
  tokenRef,
} from './support.js';

const helmLabels = {
  'app.kubernetes.io/managed-by': 'Helm',
  'helm.sh/chart': 'datadog-3.81.0',
  'app.kubernetes.io/instance': 'datadog-agent',
};
const helmAnnotations = {
  'meta.helm.sh/release-name': 'datadog-agent',
  'meta.helm.sh/release-namespace': 'datadog',
};

/** The chart's own token Secret, as `helm install` without tokenExistingSecret leaves it. */
function chartSecret(
  labels: Record<string, string> = helmLabels,
  annotations: Record<string, string> = helmAnnotations,
): Raw {
  return secret(
    'datadog',
    'datadog-agent-cluster-agent',
    { token: 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA' },
    { labels, annotations, manager: 'helm' },
  );
}

const caOnChartSecret = (): Raw[] => [
  namespace('datadog'),
  ...clusterAgent('datadog', [tokenRef('datadog-agent-cluster-agent')]),
];

describe('token-not-chart-generated', () => {
  it.each<{ name: string; docs: Raw[]; expected: string[] }>([
    {
      name: 'a Cluster Agent token Secret written by an ExternalSecret passes',
      docs: healthyDocs(),
      expected: ['PASS existing-secret:token datadog/datadog-secrets'],
    },
    {
      name: "the chart's <release>-cluster-agent Secret fails",
      docs: [...caOnChartSecret(), chartSecret()],
      expected: ['FAIL chart-generated:token datadog/datadog-agent-cluster-agent'],
    },
    {
      name: 'a chart Secret rendered by Argo CD (helm template: labels only) fails',
      docs: [...caOnChartSecret(), chartSecret(helmLabels, {})],
      expected: ['FAIL chart-generated:token datadog/datadog-agent-cluster-agent'],
    },
    {
      name: 'a <release>-cluster-agent Secret written by an ExternalSecret passes',
      docs: [
        ...caOnChartSecret(),
        secret(
          'datadog',
          'datadog-agent-cluster-agent',
          { token: CANARY.token },
          {
            labels: helmLabels,
            ownerES: 'datadog-agent-cluster-agent',
          },
        ),
        externalSecret('datadog', 'datadog-agent-cluster-agent'),
      ],
      expected: ['PASS existing-secret:token datadog/datadog-agent-cluster-agent'],
    },
    {
      name: 'a Helm-labelled <release>-cluster-agent Secret written by current ESO (field manager only) passes',
      docs: [
        ...caOnChartSecret(),
        secret(
          'datadog',
          'datadog-agent-cluster-agent',
          { token: CANARY.token },
          {
            labels: helmLabels,
            manager: 'externalsecrets.external-secrets.io/datadog-agent-cluster-agent',
          },
        ),
      ],
      expected: ['PASS existing-secret:token datadog/datadog-agent-cluster-agent'],
    },
    {
      name: 'a hand-made Secret with a chart-like name but no Helm metadata passes',
      docs: [...caOnChartSecret(), chartSecret({}, {})],
      expected: ['PASS existing-secret:token datadog/datadog-agent-cluster-agent'],
    },
    {
      name: 'a Cluster Agent without any DD_CLUSTER_AGENT_AUTH_TOKEN fails',
      docs: [namespace('datadog'), ...clusterAgent('datadog', [])],
      expected: ['FAIL no-token-configured datadog/datadog-agent-cluster-agent'],
    },
    {
      name: 'a literal token is left to token-not-plaintext',
      docs: [
        namespace('datadog'),
        ...clusterAgent('datadog', [{ name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: CANARY.token }]),
      ],
      expected: [],
    },
    {
      name: 'a missing token Secret is left to token-ref-resolves',
      docs: caOnChartSecret(),
      expected: [],
    },
    {
      name: 'a cluster without a Cluster Agent yields nothing',
      docs: golangNamespace(),
      expected: [],
    },
  ])('$name', ({ docs, expected }) => {
    expect(summary(tokenNotChartGenerated.run(build(docs)))).toEqual(expected);
  });

  it('explains the regeneration and gives the Helm value and the ExternalSecret to apply', () => {
    const [r] = tokenNotChartGenerated.run(
      build([...caOnChartSecret(), chartSecret(), ...golangNamespace()]),
    );
    expect(r!.message).toContain('Helm release "datadog-agent"');
    expect(r!.message).toContain('regenerated on every render');
    expect(r!.remediation).toContain(
      'clusterAgent.tokenExistingSecret: datadog-cluster-agent-token',
    );
    expect(r!.remediation).toContain('kind: ExternalSecret');
    expect(r!.remediation).toContain('key: datadog/cluster-agent-token');
  });

  it('reuses the ExternalSecret that already maps the token in the Cluster Agent namespace', () => {
    const [r] = tokenNotChartGenerated.run(
      build([
        ...datadogNamespace().filter((d) => !(d.kind === 'Deployment' || d.kind === 'Pod')),
        ...caOnChartSecret(),
        chartSecret(),
      ]),
    );
    expect(r!.remediation).toContain('clusterAgent.tokenExistingSecret: datadog-secrets');
    expect(r!.remediation).toContain(
      'ExternalSecret datadog/datadog-secrets already maps the token',
    );
  });

  it('is not evaluated when pods could not be listed', () => {
    const mine = runChecks(build(healthyDocs(), { kube: { pods: failed('pods') } }), [
      tokenNotChartGenerated,
    ]);
    expect(
      mine.filter((f) => f.checkId === 'token-not-chart-generated').map((f) => f.messageId),
    ).toEqual(['not-evaluated']);
  });
});
