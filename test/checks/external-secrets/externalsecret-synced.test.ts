import { externalsecretSynced } from '../../../lambda/checks/external-secrets/externalsecret-synced.js';
import { runChecks } from '../../../lambda/checks/runner.js';
import type { Raw } from '../../../lambda/collect/kube/raw.js';
import type { BuildOptions } from '../../support/snapshot-builder.js';
import { failed } from '../../support/snapshot-builder.js';
import {
  CANARY,
  build,
  datadogNamespace,
  externalSecret,
  golangNamespace,
  healthyDocs,
  namespace,
  secretStore,
  summary,
} from '../token/support.js';

const notInstalled: BuildOptions = {
  kube: {
    externalSecrets: { status: 'not-installed', detail: 'external-secrets.io not served' },
    secretStores: { status: 'not-installed', detail: 'external-secrets.io not served' },
    clusterSecretStores: { status: 'not-installed', detail: 'external-secrets.io not served' },
  },
};

const HEALTHY = [
  'PASS synced datadog/datadog-secrets',
  'PASS synced golang/golang-secrets',
  'PASS store-ready datadog/datadog',
  'PASS store-ready golang/golang',
];

const syncError = {
  status: 'False',
  reason: 'SecretSyncedError',
  message:
    'could not get secret data from provider: AccessDeniedException: User is not authorized to perform secretsmanager:GetSecretValue',
};

function without(docs: Raw[], kind: string, ns: string): Raw[] {
  return docs.filter((d) => !(d.kind === kind && d.metadata.namespace === ns));
}

describe('externalsecret-synced', () => {
  it.each<{ name: string; docs: Raw[]; opts?: BuildOptions; expected: string[] }>([
    { name: 'Ready ExternalSecrets and stores pass', docs: healthyDocs(), expected: HEALTHY },
    {
      name: 'an ExternalSecret with Ready=False fails',
      docs: [...datadogNamespace(), ...golangNamespace(CANARY.token, { ready: syncError })],
      expected: [
        'PASS synced datadog/datadog-secrets',
        'FAIL not-ready golang/golang-secrets',
        'PASS store-ready datadog/datadog',
        'PASS store-ready golang/golang',
      ],
    },
    {
      name: 'an ExternalSecret ESO never reconciled (no Ready condition) fails',
      docs: [
        ...datadogNamespace(),
        ...golangNamespace(CANARY.token, { ready: null, refreshTime: null }),
      ],
      expected: [
        'PASS synced datadog/datadog-secrets',
        'FAIL not-reconciled golang/golang-secrets',
        'PASS store-ready datadog/datadog',
        'PASS store-ready golang/golang',
      ],
    },
    {
      name: 'a store that is not Ready fails once for all its ExternalSecrets',
      docs: [
        ...datadogNamespace(),
        ...without(golangNamespace(), 'SecretStore', 'golang'),
        secretStore('golang', 'golang', {
          status: 'False',
          reason: 'InvalidProviderConfig',
          message: 'unable to validate store',
        }),
      ],
      expected: [
        'PASS synced datadog/datadog-secrets',
        'PASS synced golang/golang-secrets',
        'PASS store-ready datadog/datadog',
        'FAIL store-not-ready golang/golang',
      ],
    },
    {
      name: 'a store that does not exist fails',
      docs: [...datadogNamespace(), ...without(golangNamespace(), 'SecretStore', 'golang')],
      expected: [
        'PASS synced datadog/datadog-secrets',
        'PASS synced golang/golang-secrets',
        'PASS store-ready datadog/datadog',
        'FAIL store-missing golang/golang',
      ],
    },
    {
      name: 'a store without status passes while its ExternalSecrets sync',
      docs: [
        ...datadogNamespace(),
        ...without(golangNamespace(), 'SecretStore', 'golang'),
        secretStore('golang', 'golang', null),
      ],
      expected: HEALTHY,
    },
    {
      name: 'a store without status fails when its ExternalSecret does not sync',
      docs: [
        ...datadogNamespace(),
        ...without(golangNamespace(CANARY.token, { ready: syncError }), 'SecretStore', 'golang'),
        secretStore('golang', 'golang', null),
      ],
      expected: [
        'PASS synced datadog/datadog-secrets',
        'FAIL not-ready golang/golang-secrets',
        'PASS store-ready datadog/datadog',
        'FAIL store-not-ready golang/golang',
      ],
    },
    {
      name: 'a ClusterSecretStore shared by both namespaces is one cluster-scoped result',
      docs: [
        ...without(
          datadogNamespace(CANARY.token, { store: { name: 'aws', kind: 'ClusterSecretStore' } }),
          'SecretStore',
          'datadog',
        ),
        ...without(
          golangNamespace(CANARY.token, { store: { name: 'aws', kind: 'ClusterSecretStore' } }),
          'SecretStore',
          'golang',
        ),
        secretStore(undefined, 'aws'),
      ],
      expected: [
        'PASS synced datadog/datadog-secrets',
        'PASS synced golang/golang-secrets',
        'PASS store-ready aws',
      ],
    },
    {
      name: 'v1beta1 ExternalSecrets are judged the same way',
      docs: [
        ...datadogNamespace(CANARY.token, { apiVersion: 'external-secrets.io/v1beta1' }),
        ...golangNamespace(CANARY.token, {
          apiVersion: 'external-secrets.io/v1beta1',
          ready: syncError,
        }),
      ],
      expected: [
        'PASS synced datadog/datadog-secrets',
        'FAIL not-ready golang/golang-secrets',
        'PASS store-ready datadog/datadog',
        'PASS store-ready golang/golang',
      ],
    },
    {
      name: 'ExternalSecrets unrelated to Datadog are not judged',
      docs: [
        ...healthyDocs(),
        externalSecret('golang', 'db-credentials', {
          data: [{ secretKey: 'password', key: 'golang/db' }],
          ready: syncError,
          store: { name: 'golang' },
        }),
      ],
      expected: HEALTHY,
    },
    {
      name: 'stores are skipped when they could not be listed (the collection error says so)',
      docs: healthyDocs(),
      opts: { kube: { secretStores: failed('secretstores.external-secrets.io') } },
      expected: ['PASS synced datadog/datadog-secrets', 'PASS synced golang/golang-secrets'],
    },
    {
      name: 'without External Secrets Operator installed there is nothing to judge',
      docs: [namespace('golang')],
      opts: notInstalled,
      expected: [],
    },
  ])('$name', ({ docs, opts, expected }) => {
    expect(summary(externalsecretSynced.run(build(docs, opts)))).toEqual(expected);
  });

  it('quotes the Ready reason and message and points at the IAM permission', () => {
    const r = externalsecretSynced
      .run(build([...datadogNamespace(), ...golangNamespace(CANARY.token, { ready: syncError })]))
      .find((x) => x.status === 'FAIL')!;
    expect(r.message).toContain(
      'ExternalSecret golang/golang-secrets is not Ready (Ready=False, reason SecretSyncedError: "could not get secret data from provider',
    );
    expect(r.remediation).toContain('secretsmanager:GetSecretValue');
    expect(r.remediation).toContain(
      'kubectl -n golang annotate externalsecret golang-secrets force-sync',
    );
  });

  it('explains SecretMissing with the creation policy', () => {
    const r = externalsecretSynced
      .run(
        build(
          golangNamespace(CANARY.token, {
            creationPolicy: 'Merge',
            ready: {
              status: 'False',
              reason: 'SecretMissing',
              message: 'secret will not be created',
            },
          }),
        ),
      )
      .find((x) => x.status === 'FAIL')!;
    expect(r.remediation).toContain(
      'With creationPolicy Merge ESO does not create the target Secret',
    );
  });

  it('is not evaluated when ExternalSecrets could not be listed', () => {
    const mine = runChecks(
      build(healthyDocs(), {
        kube: { externalSecrets: failed('externalsecrets.external-secrets.io') },
      }),
      [externalsecretSynced],
    ).filter((f) => f.checkId === 'externalsecret-synced');
    expect(mine.map((f) => `${f.status} ${f.messageId}`)).toEqual(['ERROR not-evaluated']);
  });
});
