/**
 * Where the vendors' own files are read from. They are data fetched from the vendors' repositories
 * (repository, path and commit in test/fixtures/README.md), and this workplace keeps fetched files
 * out of the project's commits: only the steering repository's shared/ may hold them. So the tests
 * read them from `../shared/vendor/<repository>/<path>` beside the checkout (as CI lays it out), or
 * from `EKS_AUDITOR_VENDOR_DIR`, and are skipped, saying so, where they are absent.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VENDOR_DIR =
  process.env.EKS_AUDITOR_VENDOR_DIR ??
  fileURLToPath(new URL('../../../shared/vendor/', import.meta.url));

export const VENDOR_PRESENT = existsSync(VENDOR_DIR);

/** `describe` where the vendored files are present; otherwise a skipped block that says why. */
export function describeVendored(name: string, fn: () => void): void {
  if (VENDOR_PRESENT) {
    describe(name, fn);
    return;
  }
  describe.skip(`${name} (skipped: no vendored files at ${VENDOR_DIR})`, fn);
}
