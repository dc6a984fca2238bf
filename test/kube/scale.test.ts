/**
 * Scale through the real client: a 10,000-pod list paged and converted, and a thousand secret
 * GETs over a handful of connections. Behaviour only (counts, pages, connections); the times are
 * printed, and their goals are benchmark figures (`npm run bench -- --timings`).
 */
import { createKubePort } from '../../lambda/collect/kube/client.js';
import { collectKube } from '../../lambda/collect/kube/collect.js';
import { convertPod } from '../../lambda/collect/kube/convert.js';
import { kindByKey } from '../../lambda/collect/kube/kinds.js';
import { listAll } from '../../lambda/collect/kube/list.js';
import { startTestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { DEFAULT_SETTINGS } from '../support/snapshot-builder.js';
import { OPTIONS, scalePod as pod, tokenAccess } from './support.js';

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
      // The time is a benchmark figure with its goal (npm run bench -- --timings), not a bound here.
      console.log(`10,000 pods listed (20 pages) and converted in ${ms.toFixed(0)} ms`);
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
