/**
 * How the Lambda bundle is built: one definition for the CDK stack and the benchmark, which builds
 * the same bundle with esbuild to report its size and cold import time.
 *
 * The options include esbuild plugins (below), which the CDK's NodejsFunction cannot run: the
 * stack must build through {@link buildHandlerBundle} (e.g. `lambda.Code.fromAsset` with local
 * bundling running `npx tsx infra/build-bundle.ts <outdir>`) for the bundle to be the one measured,
 * and set NODE_OPTIONS to {@link lambdaNodeOptions} of its memory size.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

export const HANDLER_ENTRY = 'lambda/run/handler.ts';
export const ESBUILD_TARGET = 'node22';

/** ESM bundles still meet CommonJS dependencies that call require(). */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

/**
 * NODE_OPTIONS of a function with `memoryMb` of memory: V8 heap limits sized to fit it. Without
 * them V8 sizes its heap for a machine's memory and collects late; the Node.js runtime picks
 * limits from the function's memory when NODE_OPTIONS sets none, but by a rule we neither control
 * nor measure. About 90-100 MB of the process is not the old generation (the node binary's
 * pages, the loaded bundle, the young generation, buffers, malloc), so the old generation gets the
 * rest less a margin: V8 grows its heap toward the limit whatever the live data, so the limit
 * decides the peak. Measured at N=5000 namespaces (round 3, peak RSS, with {@link
 * LAMBDA_PROCESS_ENV}): old generation 120 MB 201-206 MB; 112 MB 196-198 MB; 104 MB 189-195 MB but
 * 10% slower. The N=5000 audit now runs out of heap between 88 and 96 MB of old generation (it
 * was 104-112 before the round's memory work), so a 256 MB function (112 MB) still tops out near
 * 6,000 namespaces of this shape; give larger clusters more memory.
 * No `--enable-source-maps`: Node decodes the whole map the first time a stack trace is
 * formatted, and undici formats some when the connection pool closes after every audit (+57 MB
 * RSS, 90 ms); the map is still built, without the sources' text, to decode a trace offline.
 */
export function lambdaNodeOptions(memoryMb: number): string {
  const oldSpaceMb = Math.max(64, memoryMb - 144);
  const semiSpaceMb = Math.min(16, Math.max(4, Math.floor(memoryMb / 64)));
  return `--max-old-space-size=${oldSpaceMb} --max-semi-space-size=${semiSpaceMb}`;
}

/**
 * The rest of every function's process settings. glibc gives each thread that allocates its own
 * malloc arena (Node's four libuv threads, V8's compiler and GC threads), and memory freed into
 * one is rarely returned: two arenas took 10-15 MB off the peak RSS of the N=5000 audit, no
 * slower. Read by glibc when the runtime starts the process, as Lambda passes the function's
 * environment to it.
 */
export const LAMBDA_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** The stack's default function memory, and the NODE_OPTIONS the benchmark runs with. */
export const DEFAULT_FUNCTION_MEMORY_MB = 256;
export const LAMBDA_NODE_OPTIONS = lambdaNodeOptions(DEFAULT_FUNCTION_MEMORY_MB);

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

/**
 * The Datadog delivery (lambda/deliver/datadog.ts) and the official Datadog client it imports:
 * 5.9 MB minified, because the client's serializer registers every model of its API version.
 * It is built as its own file beside index.mjs and imported on first use, so a function without
 * `datadog` in its config never loads it and the handler bundle keeps its size.
 */
export const LAZY_DATADOG_ENTRY = 'lambda/deliver/datadog.ts';
export const LAZY_DATADOG_FILE = 'datadog.mjs';

/** Turns `import('./datadog.js')` (lambda/deliver/integrations.ts) into `import('./datadog.mjs')`. */
export const lazyDatadog: Plugin = {
  name: 'lazy-datadog',
  setup(b) {
    b.onResolve({ filter: /^\.\/datadog\.js$/ }, (args) =>
      args.kind === 'dynamic-import' && /[\\/]lambda[\\/]deliver$/.test(args.resolveDir)
        ? { path: `./${LAZY_DATADOG_FILE}`, external: true }
        : undefined,
    );
  },
};

/** The undici package, whose files the slim module below requires by path. */
const UNDICI_DIR = dirname(createRequire(import.meta.url).resolve('undici/package.json'));

/** The importers of `undici` that use only what {@link UNDICI_DISPATCHERS} exports. */
const UNDICI_SLIM_IMPORTERS =
  /(?:[\\/]lambda[\\/]collect[\\/]kube[\\/]client\.ts|[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/](?:config|gen[\\/]http[\\/]isomorphic-fetch)\.js)$/;

/**
 * undici's own dispatchers and their request API (what its index attaches to every dispatcher):
 * the part of undici the kube client uses (KubeConfig's Agent and ProxyAgent, undici's default
 * dispatcher, `dispatcher.request`). client-node's fetch-based HTTP library, which
 * gen/http/http.js re-exports beside the RequestContext the client uses, is never called: its
 * `fetch` says so if it ever is.
 */
const UNDICI_DISPATCHERS = `'use strict'
const Dispatcher = require('./lib/dispatcher/dispatcher.js')
Object.assign(Dispatcher.prototype, require('./lib/api/index.js'))
module.exports.Dispatcher = Dispatcher
module.exports.Agent = require('./lib/dispatcher/agent.js')
module.exports.ProxyAgent = require('./lib/dispatcher/proxy-agent.js')
module.exports.getGlobalDispatcher = require('./lib/global.js').getGlobalDispatcher
module.exports.fetch = function fetch () {
  throw new Error('undici fetch is not in the function bundle (infra/bundling.ts undiciDispatchersOnly): send through dispatcher.request')
}
`;

/**
 * undici's package index loads all of undici at import: fetch, WebSocket, EventSource, the cache
 * stores, the mock agents (745 KB of the bundle, evaluated at every cold start). The kube client,
 * KubeConfig and client-node's unused fetch library need its dispatchers alone, so for those
 * importers `undici` is {@link UNDICI_DISPATCHERS}; any other importer gets the whole package.
 */
export const undiciDispatchersOnly: Plugin = {
  name: 'undici-dispatchers-only',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) =>
      UNDICI_SLIM_IMPORTERS.test(args.importer)
        ? { path: 'undici-dispatchers', namespace: 'undici-dispatchers' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'undici-dispatchers' }, () => ({
      contents: UNDICI_DISPATCHERS,
      resolveDir: UNDICI_DIR,
      loader: 'js',
    }));
  },
};

export const ESBUILD_PLUGINS: Plugin[] = [
  awsSchemaLiteralKeys,
  clientNodeModelsWithoutSideEffects,
  lazyDatadog,
  undiciDispatchersOnly,
];

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
    // Licence comments of bundled packages go to a file beside the bundle: one non-ASCII name in
    // them made V8 hold the whole bundle's source as two bytes per character (3 MB more heap;
    // test/infra/lazy-datadog.test.ts keeps the bundle ASCII).
    legalComments: 'external',
    charset: 'ascii',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external: EXTERNAL_MODULES,
    plugins: ESBUILD_PLUGINS,
    metafile: true,
    logLevel: 'warning',
  };
}

/**
 * Builds the handler bundle as `<outdir>/index.mjs` (+ its source map), and the Datadog delivery
 * it loads on demand as `<outdir>/datadog.mjs`; returns the handler bundle's path.
 */
export async function buildHandlerBundle(outdir: string): Promise<string> {
  const outfile = join(outdir, 'index.mjs');
  await build({ ...esbuildOptions(outfile), metafile: false });
  await build({
    ...esbuildOptions(join(outdir, LAZY_DATADOG_FILE)),
    entryPoints: [LAZY_DATADOG_ENTRY],
    metafile: false,
  });
  return outfile;
}
