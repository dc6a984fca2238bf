/**
 * How the Lambda bundle is built: one definition for the CDK stack (NodejsFunction) and the
 * benchmark, which builds the same bundle with esbuild to report its size and cold import time.
 */
import type { BuildOptions } from 'esbuild';

export const HANDLER_ENTRY = 'lambda/handler.ts';
export const ESBUILD_TARGET = 'node22';

/** ESM bundles still meet CommonJS dependencies that call require(). */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

/**
 * Everything is bundled, the AWS SDK included: the runtime's SDK is a version we did not test,
 * and bundling lets esbuild drop what the function does not use.
 */
export const EXTERNAL_MODULES: string[] = [];

/** esbuild options equivalent to the stack's NodejsFunction bundling (for the benchmark). */
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
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external: EXTERNAL_MODULES,
    metafile: true,
    logLevel: 'warning',
  };
}
