/**
 * `eks-datadog-auditor token` as kubectl's exec credential plugin, for real: kubectl runs the CLI,
 * reads its ExecCredential and sends the token to a test API server, which accepts it only if it
 * is shaped like an EKS IAM token (a presigned STS GetCallerIdentity URL signing x-k8s-aws-id).
 * Skipped with a notice where kubectl is not installed.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { decodeEksToken } from '../../lambda/collect/aws/eks-token.js';

const haveKubectl =
  spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!haveKubectl) console.warn('kubectl not found: the exec-plugin test is skipped');

const CLUSTER = 'golang-cluster';
const BIN = join(process.cwd(), 'node_modules', '.bin');

(haveKubectl ? describe : describe.skip)('token as a kubectl exec credential plugin', () => {
  // The server runs in its own process: kubectl is an outside client, like in production.
  let child: ChildProcess;
  let nextLine: () => Promise<string>;
  let kubeconfig: string;

  beforeAll(async () => {
    child = spawn(
      join(BIN, 'tsx'),
      ['test/support/fixture-server-process.ts', 'healthy', '--accept-eks-tokens'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: child.stdout! });
    const waiting: ((l: string) => void)[] = [];
    lines.on('line', (l) => waiting.shift()?.(l));
    nextLine = () => new Promise((resolve) => waiting.push(resolve));
    const server = JSON.parse(await nextLine()) as { url: string; caPem: string };
    const dir = mkdtempSync(join(tmpdir(), 'auditor-kubectl-'));
    writeFileSync(join(dir, 'ca.pem'), server.caPem);
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: CLUSTER,
            cluster: { server: server.url, 'certificate-authority': join(dir, 'ca.pem') },
          },
        ],
        users: [
          {
            name: 'auditor',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1beta1',
                // The CLI from its sources (a checkout has no dist/ until `npm run build`; the
                // installed bin is exercised by test/package/install.test.ts).
                command: join(BIN, 'tsx'),
                args: [
                  join(process.cwd(), 'lambda', 'run', 'cli.ts'),
                  'token',
                  '--cluster',
                  CLUSTER,
                  '--region',
                  'eu-west-1',
                ],
                interactiveMode: 'Never',
              },
            },
          },
        ],
        contexts: [{ name: CLUSTER, context: { cluster: CLUSTER, user: 'auditor' } }],
        'current-context': CLUSTER,
      }),
    );
  });
  afterAll(() => child?.stdin?.end());

  it('lets kubectl authenticate with the ExecCredential it prints', async () => {
    const run = await promisify(execFile)(
      'kubectl',
      ['--kubeconfig', kubeconfig, 'get', 'namespaces', '-o', 'name'],
      {
        encoding: 'utf8',
        env: {
          PATH: `${BIN}:${process.env.PATH}`,
          HOME: process.env.HOME ?? '/tmp',
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        timeout: 60_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')).toEqual(
      expect.arrayContaining(['namespace/datadog', 'namespace/golang']),
    );

    child.stdin!.write('tokens\n');
    const tokens = JSON.parse(await nextLine()) as string[];
    expect(tokens.length).toBeGreaterThan(0);
    const url = decodeEksToken(tokens[0]!);
    expect(url.hostname).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request$/,
    );
  });
});
