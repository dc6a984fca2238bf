import { readFileSync, writeFileSync } from 'node:fs';
import { CHECKS } from '../../lambda/checks/index.js';
import { withCheckTable } from './check-docs.js';

const path = new URL('../../README.md', import.meta.url);
writeFileSync(path, withCheckTable(readFileSync(path, 'utf8'), CHECKS));
console.error(`README.md check table: ${CHECKS.length} checks`);
