import { parse } from 'yaml';
import { referencedSecrets } from '../../lambda/snapshot/secret-refs.js';
import { convertExternalSecret, convertPod } from '../../lambda/collect/kube/convert.js';
import { DEFAULT_SETTINGS } from '../support/snapshot-builder.js';

const pod = convertPod(
  parse(`
metadata: { name: app-1, namespace: golang, labels: { agent.datadoghq.com/sidecar: fargate } }
spec:
  containers:
    - name: app
      image: golang-app:1
      env:
        - { name: DB_PASSWORD, valueFrom: { secretKeyRef: { name: app-db, key: password } } }
      envFrom: [ { secretRef: { name: app-env } } ]
    - name: datadog-agent
      image: public.ecr.aws/datadog/agent:7
      env:
        - { name: DD_CLUSTER_AGENT_AUTH_TOKEN, valueFrom: { secretKeyRef: { name: golang-secrets, key: token } } }
      envFrom: [ { secretRef: { name: dd-extra } } ]
`),
);

const es = (name: string, key: string, secretKey = 'token') =>
  convertExternalSecret(
    parse(`
apiVersion: external-secrets.io/v1
metadata: { name: ${name}, namespace: golang }
spec:
  secretStoreRef: { name: aws, kind: ClusterSecretStore }
  target: { name: ${name}-target }
  data: [ { secretKey: ${secretKey}, remoteRef: { key: ${key} } } ]
`),
  );

describe('which secrets the audit reads', () => {
  it('names DD_* refs, envFrom of Datadog containers, the sidecar secret and Datadog ExternalSecret targets only', () => {
    const refs = referencedSecrets(
      {
        pods: [pod],
        workloads: [],
        externalSecrets: [es('dd', 'datadog/cluster-agent-token'), es('db', 'app/db', 'password')],
      },
      DEFAULT_SETTINGS,
    );
    expect([...refs.keys()]).toEqual([
      'golang/datadog-secret',
      'golang/dd-extra',
      'golang/dd-target',
      'golang/golang-secrets',
    ]);
    expect(refs.get('golang/golang-secrets')!.references).toEqual([
      { via: 'env-secretKeyRef', from: 'Pod golang/app-1', key: 'token' },
    ]);
  });

  it('never names application secrets (app-db, app-env) even in a pod with an agent', () => {
    const refs = referencedSecrets(
      { pods: [pod], workloads: [], externalSecrets: [] },
      DEFAULT_SETTINGS,
    );
    expect(refs.has('golang/app-db')).toBe(false);
    expect(refs.has('golang/app-env')).toBe(false);
  });

  it('names the Secret a sidecar profile override reads, for pods that are not injected yet', () => {
    const profiles = JSON.stringify([
      {
        env: [
          {
            name: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
            valueFrom: { secretKeyRef: { name: 'dd-agent-token', key: 'cluster-agent-token' } },
          },
          { name: 'DD_API_KEY', valueFrom: { secretKeyRef: { name: 'dd-api', key: 'key' } } },
        ],
      },
    ]);
    const clusterAgent = convertPod({
      metadata: { name: 'dca-1', namespace: 'datadog' },
      spec: {
        containers: [
          {
            name: 'cluster-agent',
            image: 'gcr.io/datadoghq/cluster-agent:7.72.1',
            env: [
              { name: 'DD_ADMISSION_CONTROLLER_ENABLED', value: 'true' },
              { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_ENABLED', value: 'true' },
              { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROVIDER', value: 'fargate' },
              { name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES', value: profiles },
            ],
          },
        ],
      },
    });
    const waiting = convertPod(
      parse(`
metadata: { name: worker-1, namespace: shop, labels: { agent.datadoghq.com/sidecar: fargate } }
spec: { containers: [ { name: app, image: shop:1 } ] }
`),
    );
    const refs = referencedSecrets(
      { pods: [clusterAgent, waiting], workloads: [], externalSecrets: [] },
      DEFAULT_SETTINGS,
    );
    expect([...refs.keys()]).toEqual(['shop/datadog-secret', 'shop/dd-agent-token', 'shop/dd-api']);
    expect(refs.get('shop/dd-agent-token')!.references).toEqual([
      { via: 'admission-sidecar', from: 'Pod shop/worker-1', key: 'cluster-agent-token' },
    ]);
  });
});
