import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions, lambdaNodeOptions } from '../../infra/bundling.js';

const ENTRY = 'test/infra/sdk-roundtrip.ts';

describe('Lambda bundling options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundling-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function bundleAndRun(name: string, plugins?: []): Promise<{ bytes: number; out: string }> {
    const outfile = join(dir, `${name}.mjs`);
    await build({
      ...esbuildOptions(outfile),
      entryPoints: [ENTRY],
      sourcemap: false,
      metafile: false,
      logLevel: 'silent',
      ...(plugins ? { plugins } : {}),
    });
    const run = spawnSync(process.execPath, [outfile], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    return { bytes: statSync(outfile).size, out: run.stdout };
  }

  it('lets the SDK send and parse exactly what it does without the plugins, in a smaller bundle', async () => {
    const [withPlugins, without] = await Promise.all([
      bundleAndRun('with'),
      bundleAndRun('without', []),
    ]);
    expect(JSON.parse(withPlugins.out)).toEqual(JSON.parse(without.out));
    expect(withPlugins.out).toContain('sg-2');
    expect(withPlugins.bytes).toBeLessThan(without.bytes / 2);
  });

  it('gives the old generation the function memory less 144 MB, and small functions small semi-spaces', () => {
    expect(lambdaNodeOptions(256)).toBe('--max-old-space-size=112 --max-semi-space-size=4');
    expect(lambdaNodeOptions(1024)).toBe('--max-old-space-size=880 --max-semi-space-size=16');
    expect(lambdaNodeOptions(128)).toBe('--max-old-space-size=64 --max-semi-space-size=4');
  });
});
