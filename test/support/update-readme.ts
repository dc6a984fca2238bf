import { readFileSync, writeFileSync } from 'node:fs';
import { CHECKS } from '../../lambda/checks/index.js';
import { SETUP_DETECTORS } from '../../lambda/snapshot/setup.js';
import { withCheckTable, withSetupTable } from './check-docs.js';

const path = new URL('../../README.md', import.meta.url);
writeFileSync(
  path,
  withSetupTable(withCheckTable(readFileSync(path, 'utf8'), CHECKS), SETUP_DETECTORS),
);
console.error(
  `README.md check table: ${CHECKS.length} checks; setup table: ${SETUP_DETECTORS.length} setups`,
);
