import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD = 'infra/build-bundle.ts';

/**
 * The one code asset every auditor function runs (each its own handler export of
 * lambda/run/handler.ts): built once by infra/build-bundle.ts, the shared esbuild options with their
 * plugins, which is also the bundle `npm run bench` measures. Built locally; Docker (the SAM
 * Node.js 22 build image) only where no local Node.js can run it.
 */
export function auditorCode(): lambda.Code {
  return lambda.Code.fromAsset(REPO_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      command: ['bash', '-c', `npm ci && npx tsx ${BUILD} /asset-output`],
      local: {
        tryBundle(outputDir: string): boolean {
          const run = spawnSync('npx', ['tsx', BUILD, outputDir], {
            cwd: REPO_ROOT,
            stdio: ['ignore', process.stderr, process.stderr],
          });
          return run.status === 0;
        },
      },
    },
  });
}
