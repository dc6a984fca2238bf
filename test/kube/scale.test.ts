/**
 * Scale through the real client: a 10,000-pod list paged and converted, and a thousand secret
 * GETs over a handful of connections. Bounds are generous (shared CI cores); the figures are
 * printed so regressions show.
 */
import { createKubePort } from '../../lambda/kube/client.js';
import { collectKube } from '../../lambda/kube/collect.js';
import { convertPod } from '../../lambda/kube/convert.js';
import { kindByKey } from '../../lambda/kube/kinds.js';
import { listAll } from '../../lambda/kube/list.js';
import { startTestApiServer } from '../../lambda/demo/kube-api-server.js';
import { DEFAULT_SETTINGS } from '../support/snapshot-builder.js';
import { OPTIONS, tokenAccess } from './support.js';

function pod(i: number) {
  const namespace = `ns-${i % 5000}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `app-${i}-7d9f8b6c5-x2k4p`,
      namespace,
      labels: { app: `app-${i}`, 'eks.amazonaws.com/fargate-profile': 'apps' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `app-${i}-7d9f8b6c5` }],
    },
    spec: {
      serviceAccountName: 'app',
      nodeName: `fargate-ip-10-0-${i % 250}-${i % 200}.eu-west-1.compute.internal`,
      containers: [
        {
          name: 'app',
          image: 'repo/app:1.2.3',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'PORT', value: '8080' }],
        },
        {
          name: 'datadog-agent',
          image: 'public.ecr.aws/datadog/agent:7',
          env: [
            { name: 'DD_EKS_FARGATE', value: 'true' },
            {
              name: 'DD_CLUSTER_AGENT_AUTH_TOKEN',
              valueFrom: { secretKeyRef: { name: 'datadog-secrets', key: 'token' } },
            },
          ],
        },
      ],
    },
    status: {
      phase: 'Running',
      startTime: '2026-11-01T00:00:00Z',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: '2026-11-01T00:00:00Z' } },
        },
      ],
    },
  };
}

describe('scale through the real client', () => {
  it('lists and converts 10,000 pods in pages of 500', async () => {
    const server = await startTestApiServer({
      manifests: Array.from({ length: 10_000 }, (_, i) => pod(i)),
    });
    const port = createKubePort(tokenAccess(server), OPTIONS);
    try {
      // One warm-up list, so the figure is about steady-state work, not JIT.
      await listAll(port, kindByKey('pods'), { pageSize: 500, map: convertPod });
      const started = performance.now();
      const result = await listAll(port, kindByKey('pods'), { pageSize: 500, map: convertPod });
      const ms = performance.now() - started;
      expect(result.status === 'ok' && result.items.length).toBe(10_000);
      expect(result.status === 'ok' && result.pages).toBe(20);
      console.log(`10,000 pods listed (20 pages) and converted in ${ms.toFixed(0)} ms`);
      expect(ms).toBeLessThan(15_000);
    } finally {
      await port.close();
      await server.close();
    }
  });

  it('reads a thousand referenced secrets over a few reused connections', async () => {
    const manifests = [];
    for (let i = 0; i < 1000; i++) {
      const p = pod(i);
      p.metadata.namespace = `ns-${i}`;
      manifests.push(p, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'datadog-secrets', namespace: `ns-${i}` },
        stringData: { token: 'x' },
      });
    }
    const server = await startTestApiServer({ manifests });
    const port = createKubePort(tokenAccess(server), { ...OPTIONS, secretConcurrency: 16 });
    try {
      const started = performance.now();
      const kube = await collectKube(port, DEFAULT_SETTINGS, { ...OPTIONS, secretConcurrency: 16 });
      const ms = performance.now() - started;
      expect(kube.secrets).toHaveLength(1000);
      expect(kube.secrets.every((s) => s.result.status === 'found')).toBe(true);
      console.log(
        `1,000 pods + 1,000 secret GETs collected in ${ms.toFixed(0)} ms over ${server.connections} connections`,
      );
      // Without pooling, KubeConfig would open one TLS connection per request.
      expect(server.connections).toBeLessThan(40);
    } finally {
      await port.close();
      await server.close();
    }
  });
});
