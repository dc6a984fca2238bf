/**
 * Benchmark helper process: serves a synthetic cluster on the local test API server, so the
 * audit process's peak RSS is its own. Prints one JSON line with how to reach it; answers
 * `stats` on stdin with request counts, and exits on `exit` or when stdin closes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTestApiServer } from '../lambda/run/demo/kube-api-server.js';
import { generateCluster } from './generate.js';

const [n, latencyMs, dir] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!];
const cluster = generateCluster(n);
const server = await startTestApiServer({ manifests: cluster.manifests, latencyMs });
/** Objects per `group/resource`, so the benchmark can say how many list pages each kind needs. */
const objectsByResource: Record<string, number> = {};
for (const m of cluster.manifests) {
  const group = String(m.apiVersion).includes('/') ? String(m.apiVersion).split('/')[0] : '';
  const kind = String(m.kind).toLowerCase();
  const key = `${group}/${kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`}`;
  objectsByResource[key] = (objectsByResource[key] ?? 0) + 1;
}
const kubeconfig = join(dir, `kubeconfig-${n}-${latencyMs}.yaml`);
writeFileSync(kubeconfig, server.kubeconfig());
process.stdout.write(
  JSON.stringify({
    url: server.url,
    caData: server.caData,
    token: server.token,
    kubeconfig,
    objects: cluster.manifests.length,
    objectsByResource,
    broken: cluster.broken,
  }) + '\n',
);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'stats') {
    const kindOf = (r: { method: string; path: string }) =>
      r.method === 'POST'
        ? 'reviews'
        : /\/namespaces\/[^/]+\/(secrets|configmaps)\/[^/]+$/.test(r.path)
          ? 'gets'
          : /^\/api(\/[^/]+)?$|^\/apis(\/[^/]+){0,2}$/.test(r.path)
            ? 'discovery'
            : 'listPages';
    const counts = { listPages: 0, gets: 0, reviews: 0, discovery: 0 };
    const byPath: Record<string, number> = {};
    for (const r of server.requests) {
      const kind = kindOf(r);
      counts[kind] += 1;
      if (kind === 'listPages') byPath[r.path] = (byPath[r.path] ?? 0) + 1;
    }
    process.stdout.write(
      JSON.stringify({ total: server.requests.length, ...counts, byPath }) + '\n',
    );
    server.requests.length = 0;
  } else if (line === 'exit') {
    void server.close().then(() => process.exit(0));
  }
});
lines.on('close', () => void server.close().then(() => process.exit(0)));
