/**
 * The kube client as the function bundle has it: undici reduced to its dispatchers
 * (infra/bundling.ts undiciDispatchersOnly), KubeConfig's TLS dispatcher, `dispatcher.request`.
 * Bundled with the function's esbuild options and run in its own Node process against the local
 * HTTPS API server: a list page, a GET by name, a 404 read as absent, and a certificate from
 * another CA refused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions } from '../../infra/bundling.js';
import { startTestApiServer, type TestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { yamlDocs } from '../kube/support.js';

const MANIFESTS = yamlDocs(`
apiVersion: v1
kind: Pod
metadata: { name: agent, namespace: datadog }
spec: { containers: [{ name: agent, image: agent:7 }] }
---
apiVersion: v1
kind: Secret
metadata: { name: datadog-secrets, namespace: datadog }
stringData: { token: tok }
`);

const SCRIPT = `
import { createKubePort } from ${JSON.stringify(resolve('lambda/collect/kube/client.ts'))};
import { kindByKey } from ${JSON.stringify(resolve('lambda/collect/kube/kinds.ts'))};
const { url, caData, token, kubeconfig } = JSON.parse(process.env.KUBE_TARGET);
const port = createKubePort(
  kubeconfig
    ? { kind: 'kubeconfig', clusterName: 'bundled', path: kubeconfig }
    : { kind: 'token', clusterName: 'bundled', server: url, caData, token: async () => token },
  { pageSize: 500, requestTimeoutMs: 20000, secretConcurrency: 4 },
);
const out = {};
try {
  const page = await port.listPage(kindByKey('pods'), { limit: 10 });
  out.pods = page.items.map((p) => p.metadata.name);
  out.secret = (await port.getSecret('datadog', 'datadog-secrets'))?.metadata?.name ?? null;
  out.missing = await port.getSecret('datadog', 'nope');
} catch (err) {
  out.error = err.code ?? err.message;
}
await port.close();
process.stdout.write(JSON.stringify(out));
`;

describe('the kube client in the function bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundled-kube-'));
  let bundle: string;
  let server: TestApiServer;
  let otherCa: TestApiServer;
  beforeAll(async () => {
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, SCRIPT);
    bundle = join(dir, 'client.mjs');
    await build({
      ...esbuildOptions(bundle),
      entryPoints: [entry],
      sourcemap: false,
      metafile: false,
      logLevel: 'silent',
    });
    server = await startTestApiServer({ manifests: MANIFESTS, token: 'bundled-token' });
    otherCa = await startTestApiServer({ manifests: MANIFESTS, certFromOtherCa: true });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([server?.close(), otherCa?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function run(
    target: TestApiServer,
    extra: { kubeconfig?: string; env?: Record<string, string> } = {},
  ): Promise<Record<string, unknown>> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [bundle], {
        env: {
          ...process.env,
          ...extra.env,
          KUBE_TARGET: JSON.stringify({
            url: target.url,
            caData: target.caData,
            token: target.token,
            ...(extra.kubeconfig ? { kubeconfig: extra.kubeconfig } : {}),
          }),
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', fail);
      child.on('close', (code) =>
        code === 0 ? done(JSON.parse(stdout)) : fail(new Error(`exit ${code}: ${stderr}`)),
      );
    });
  }

  it('lists, gets by name and reads a 404 as absent over verified TLS', async () => {
    expect(await run(server)).toEqual({
      pods: ['agent'],
      secret: 'datadog-secrets',
      missing: null,
    });
  });

  it('refuses a server whose certificate another CA signed', async () => {
    expect(await run(otherCa)).toEqual({ error: 'TLS' });
  });

  it('uses the default dispatcher, still verifying, for a kubeconfig that names no CA', async () => {
    // KubeConfig then sets no dispatcher: undici's default one trusts the system's CAs, here
    // with the test CA added the way an operator adds a private CA (NODE_EXTRA_CA_CERTS).
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: c, cluster: { server: "' + server.url + '" } }]',
        'users: [{ name: u, user: { token: "' + server.token + '" } }]',
        'contexts: [{ name: x, context: { cluster: c, user: u } }]',
        'current-context: x',
      ].join('\n'),
    );
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, server.caPem);
    expect(await run(server, { kubeconfig, env: { NODE_EXTRA_CA_CERTS: ca } })).toEqual({
      pods: ['agent'],
      secret: 'datadog-secrets',
      missing: null,
    });
    expect(await run(server, { kubeconfig })).toEqual({ error: 'TLS' });
  });
});
