#!/usr/bin/env node
// The CLI runs from TypeScript sources through tsx. client-node needs Node >= 22.19: say so plainly
// instead of letting an import crash deep inside undici.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `eks-datadog-auditor needs Node.js >= 22.19 (this is ${process.version}). ` +
      'Run it through npm (npm run cli -- audit ...) or npx eks-datadog-auditor, which use the ' +
      "project's own Node 22, or install Node 22.\n",
  );
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
const { runCli } = await import('../lambda/cli.ts');
await runCli();
