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
  // Workers, set for the 2-core CI machine. Jest's default (cores - 1) is ONE worker there, and in
  // ESM vm-modules mode each test file loads aws-cdk-lib and the rest again while the old module
  // graphs are never freed: one process grew to 5.5 GB and files got slower the later they ran
  // (a 6 s file took 79 s as the 133rd). Two workers keep both cores busy (tests wait on local
  // HTTP servers and child processes too), and a worker whose heap is above the limit after a
  // file is replaced by a fresh one, which drops the leaked graphs; 1 GB is a few files' worth.
  maxWorkers: 2,
  workerIdleMemoryLimit: '1GB',
  // Each named stack configuration (test/infra/configs.ts) is synthesized once per run into a
  // cache keyed by the configuration and the sources; tests read it with Template.fromJSON.
  globalSetup: '<rootDir>/test/infra/global-setup.js',
  // The summary reporter ends every run with `N passed, N failed` (CI reads it) and, when the
  // reliability suite ran, the fault-matrix table before it.
  reporters: ['default', '<rootDir>/test/reliability/summary-reporter.js'],
};
