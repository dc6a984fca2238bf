/**
 * How the Lambda bundle is built: one definition for the CDK stack and the benchmark, which builds
 * the same bundle with esbuild to report its size and cold import time.
 *
 * The options include esbuild plugins (below), which the CDK's NodejsFunction cannot run: the
 * stack must build through {@link buildHandlerBundle} (e.g. `lambda.Code.fromAsset` with local
 * bundling running `npx tsx infra/build-bundle.ts <outdir>`) for the bundle to be the one measured.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

export const HANDLER_ENTRY = 'lambda/handler.ts';
export const ESBUILD_TARGET = 'node22';

/** ESM bundles still meet CommonJS dependencies that call require(). */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

/**
 * NODE_OPTIONS of the function: none. `--enable-source-maps` decodes the whole source map the
 * first time any stack trace is formatted, and undici formats some when the connection pool is
 * closed at the end of every audit: +57 MB RSS and 90 ms on a 256 MB function (2.5 MB map). The
 * map is still built (without the sources' text) to decode a trace from the logs offline.
 */
export const LAMBDA_NODE_OPTIONS = '';

/**
 * Everything is bundled, the AWS SDK included: the runtime's SDK is a version we did not test,
 * and bundling lets esbuild drop what the function does not use.
 */
export const EXTERNAL_MODULES: string[] = [];

const AWS_SCHEMA_FILE =
  /[\\/]@aws-sdk[\\/].*[\\/]dist-es[\\/](?:.*[\\/])?schemas[\\/]schemas_\d+\.js$/;

/**
 * The AWS SDK's generated schemas (one file per client, every shape of the service) write trait
 * keys as computed properties over a string table, `{ [_xN]: _X }`. esbuild cannot prove a
 * computed key free of side effects, so it keeps every shape: 550 KB of EC2 schemas for the four
 * operations the auditor calls, all of it evaluated at cold start. Rewriting the keys to the
 * string literals they stand for lets esbuild drop the unused shapes.
 * Upstream: aws/aws-sdk-js-v3#7607, smithy-lang/smithy-typescript#1889.
 */
export const awsSchemaLiteralKeys: Plugin = {
  name: 'aws-schema-literal-keys',
  setup(b) {
    b.onLoad({ filter: AWS_SCHEMA_FILE }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const strings = new Map<string, string>();
      for (const m of text.matchAll(/^const (_[\w$]*) = ("(?:[^"\\\n]|\\.)*");$/gm)) {
        strings.set(m[1]!, m[2]!);
      }
      const contents = text.replace(/\[(_[\w$]*)\]:/g, (all, name: string) => {
        const literal = strings.get(name);
        return literal === undefined ? all : `${literal}:`;
      });
      return { contents, loader: 'js' };
    });
  },
};

const CLIENT_NODE_MODELS = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/]models[\\/]/;

/**
 * client-node's config.js imports its generated index for two helpers, and the index re-exports
 * every model class; each model assigns static properties at import, which esbuild must keep as
 * side effects (300 KB, evaluated at cold start). The auditor never uses the models (it reads
 * plain JSON), and a model module's only effects are on its own class, so they are declared free
 * of side effects and dropped when unused.
 */
export const clientNodeModelsWithoutSideEffects: Plugin = {
  name: 'client-node-models-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const path = join(args.resolveDir, args.path);
      return CLIENT_NODE_MODELS.test(path) ? { path, sideEffects: false } : undefined;
    });
  },
};

export const ESBUILD_PLUGINS: Plugin[] = [awsSchemaLiteralKeys, clientNodeModelsWithoutSideEffects];

/** The esbuild options of the Lambda bundle (the stack's and the benchmark's). */
export function esbuildOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [HANDLER_ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ESBUILD_TARGET,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external: EXTERNAL_MODULES,
    plugins: ESBUILD_PLUGINS,
    metafile: true,
    logLevel: 'warning',
  };
}

/** Builds the handler bundle as `<outdir>/index.mjs` (+ its source map); returns the output path. */
export async function buildHandlerBundle(outdir: string): Promise<string> {
  const outfile = join(outdir, 'index.mjs');
  await build({ ...esbuildOptions(outfile), metafile: false });
  return outfile;
}
