/**
 * Benchmark helper process: serves a synthetic cluster on the local test API server, so the
 * audit process's peak RSS is its own. Prints one JSON line with how to reach it; answers
 * `stats` on stdin with request counts, and exits on `exit` or when stdin closes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTestApiServer } from '../test/support/kube-api-server.js';
import { generateCluster } from './generate.js';

const [n, latencyMs, dir] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!];
const cluster = generateCluster(n);
const server = await startTestApiServer({ manifests: cluster.manifests, latencyMs });
const kubeconfig = join(dir, `kubeconfig-${n}-${latencyMs}.yaml`);
writeFileSync(kubeconfig, server.kubeconfig());
process.stdout.write(
  JSON.stringify({
    url: server.url,
    caData: server.caData,
    token: server.token,
    kubeconfig,
    objects: cluster.manifests.length,
    broken: cluster.broken,
  }) + '\n',
);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'stats') {
    const lists = server.requests.filter(
      (r) =>
        !/\/secrets\/[^/]+$/.test(r.path) && !/^\/apis?$|^\/apis?\/[^/]+(\/[^/]+)?$/.test(r.path),
    );
    const gets = server.requests.filter((r) => /\/secrets\/[^/]+$/.test(r.path));
    const discovery = server.requests.length - lists.length - gets.length;
    const byPath: Record<string, number> = {};
    for (const r of lists) byPath[r.path] = (byPath[r.path] ?? 0) + 1;
    process.stdout.write(
      JSON.stringify({
        total: server.requests.length,
        listPages: lists.length,
        gets: gets.length,
        discovery,
        byPath,
      }) + '\n',
    );
    server.requests.length = 0;
  } else if (line === 'exit') {
    void server.close().then(() => process.exit(0));
  }
});
lines.on('close', () => void server.close().then(() => process.exit(0)));
