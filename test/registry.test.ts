import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CHECKS } from '../lambda/checks/index.js';
import { SETUP_DETECTORS } from '../lambda/snapshot/setup.js';
import { renderSetupTable, withCheckTable, withSetupTable } from './support/check-docs.js';

const checksDir = new URL('../lambda/checks/', import.meta.url).pathname;

/** Check modules: files under lambda/checks/<area>/ that export an object with run(). */
async function checkFiles(): Promise<{ file: string; ids: string[] }[]> {
  const out: { file: string; ids: string[] }[] = [];
  for (const area of readdirSync(checksDir, { withFileTypes: true })) {
    if (!area.isDirectory()) continue;
    for (const f of readdirSync(join(checksDir, area.name))) {
      if (!f.endsWith('.ts')) continue;
      const mod = (await import(join(checksDir, area.name, f))) as Record<string, unknown>;
      const ids = Object.values(mod)
        .filter(
          (v): v is { id: string; run: unknown } =>
            typeof v === 'object' && v !== null && 'run' in v && 'id' in v,
        )
        .map((v) => v.id);
      if (ids.length) out.push({ file: relative(checksDir, join(checksDir, area.name, f)), ids });
    }
  }
  return out;
}

describe('check registry', () => {
  it('has unique check ids', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('registers every check module, and each id equals its file name and area folder', async () => {
    const files = await checkFiles();
    const registered = new Set(CHECKS.map((c) => c.id));
    for (const { file, ids } of files) {
      expect(ids).toHaveLength(1);
      const [area, name] = file.replace(/\.ts$/, '').split('/');
      expect(ids[0]).toBe(name);
      expect(registered.has(ids[0]!)).toBe(true);
      expect(CHECKS.find((c) => c.id === ids[0])!.area).toBe(area);
    }
    expect(files.length).toBe(CHECKS.length);
  });

  it('gives every check the metadata the README and reports need', () => {
    for (const c of CHECKS) {
      expect(c.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(c.title.length).toBeGreaterThan(10);
      expect(c.risk.length).toBeGreaterThan(20);
      expect(c.remediation.length).toBeGreaterThan(10);
      expect(['critical', 'high', 'medium', 'low', 'info']).toContain(c.severity);
    }
  });

  it('lists every check in the README table (npm run docs:checks regenerates it)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(withCheckTable(readme, CHECKS)).toBe(readme);
  });

  it('lists every setup detector in the README setup table (npm run docs:checks regenerates it)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(withSetupTable(readme, SETUP_DETECTORS)).toBe(readme);
    // Every detector has a row, and a detector's change is a change of the table.
    const table = renderSetupTable(SETUP_DETECTORS);
    for (const d of SETUP_DETECTORS) expect(table).toContain(`(\`${d.kind}\`)`);
    expect(renderSetupTable(SETUP_DETECTORS.slice(1))).not.toBe(table);
    expect(readme).not.toMatch(/not recognised by this branch/);
  });
});
