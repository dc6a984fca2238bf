#!/usr/bin/env node
// The installed CLI: compiled JavaScript from dist/ (npm run build; npm pack runs it), no
// TypeScript loader at run time. It needs Node.js >= 22.19 (@kubernetes/client-node 2.x, and the
// Lambda runtime's major): say so plainly instead of letting an import crash deep inside undici.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `eks-datadog-auditor needs Node.js >= 22.19 (this is ${process.version}, at ${process.execPath}).\n` +
      'Install Node.js 22 (e.g. `nvm install 22`, or https://nodejs.org) and run it again; from a ' +
      'checkout of the repository, `npm run cli -- <args>` uses the Node 22 the project brings.\n',
  );
  process.exit(2);
}
let cli;
try {
  cli = await import('../dist/lambda/run/cli.js');
} catch (err) {
  if (
    err?.code === 'ERR_MODULE_NOT_FOUND' &&
    String(err.message).includes('dist/lambda/run/cli.js')
  ) {
    process.stderr.write(
      'eks-datadog-auditor: dist/ is missing: this is a checkout, not an installed package. ' +
        'Run `npm run build` first, or `npm run cli -- <args>` (TypeScript sources through tsx).\n',
    );
    process.exit(2);
  }
  throw err;
}
await cli.runCli();
