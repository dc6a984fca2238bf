// ESM mode: @kubernetes/client-node 2.x is ESM-only, so the whole suite runs as native ESM
// (node --experimental-vm-modules) and ts-jest only transpiles; `npm run typecheck` type-checks.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  // The summary reporter ends every run with `N passed, N failed` (CI reads it) and, when the
  // reliability suite ran, the fault-matrix table before it.
  reporters: ['default', '<rootDir>/test/reliability/summary-reporter.js'],
};
