/**
 * Where a report points readers: the tool's identity and the README section of each check. SARIF
 * viewers (GitHub code scanning, the VS Code SARIF viewer) show `helpUri` beside every result.
 */

export const TOOL_NAME = 'eks-datadog-auditor';
/** Kept equal to package.json's version by test/report/render-sarif.test.ts. */
export const TOOL_VERSION = '0.1.0';

/**
 * The README of the project. The README's check table carries an anchor per check
 * (`check-<id>`, written by npm run docs:checks), so a link lands on the check's row.
 * Override with `--docs-url` when the README is published elsewhere (an internal Git host).
 */
export const DEFAULT_DOCS_URL =
  'https://github.com/eks-datadog-auditor/eks-datadog-auditor/blob/main/README.md';

/** Anchor of a check's row in the README table. */
export function checkAnchor(checkId: string): string {
  return `check-${checkId.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

export function checkHelpUri(checkId: string, docsUrl: string = DEFAULT_DOCS_URL): string {
  return `${docsUrl.replace(/#.*$/, '')}#${checkAnchor(checkId)}`;
}
