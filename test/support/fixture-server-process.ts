/**
 * A fixture cluster's test API server in a process of its own, for tests whose client is another
 * program (kubectl). Prints one JSON line `{ url, caPem, token }`; exits when stdin closes.
 * `--accept-eks-tokens` also accepts bearer tokens shaped like EKS IAM tokens for this cluster.
 */
import { join } from 'node:path';
import { decodeEksToken } from '../../lambda/collect/aws/eks-token.js';
import { startTestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import { FIXTURES_DIR, loadManifests } from './snapshot-builder.js';

const [fixture, flag] = process.argv.slice(2);
const acceptEks = flag === '--accept-eks-tokens';

/** What EKS checks of a token before verifying it with STS: a presigned GetCallerIdentity URL. */
function looksLikeEksToken(bearer: string): boolean {
  try {
    const q = decodeEksToken(bearer).searchParams;
    return (
      q.get('Action') === 'GetCallerIdentity' &&
      q.get('Version') === '2011-06-15' &&
      q.get('X-Amz-Expires') === '60' &&
      (q.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id') &&
      /^[0-9a-f]{64}$/.test(q.get('X-Amz-Signature') ?? '')
    );
  } catch {
    return false;
  }
}

const accepted: string[] = [];
const server = await startTestApiServer({
  manifests: loadManifests(join(FIXTURES_DIR, fixture ?? 'healthy')),
  ...(acceptEks
    ? {
        authenticate: (t: string) => {
          const ok = looksLikeEksToken(t);
          if (ok) accepted.push(t);
          return ok;
        },
      }
    : {}),
});
process.stdout.write(
  JSON.stringify({ url: server.url, caPem: server.caPem, token: server.token }) + '\n',
);
process.stdin.on('data', (d) => {
  // `tokens` asks which EKS tokens were accepted (they carry no secret: a presigned URL).
  if (String(d).trim() === 'tokens') process.stdout.write(JSON.stringify(accepted) + '\n');
});
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
