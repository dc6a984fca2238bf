import { readFileSync } from 'node:fs';
import { renderSampleEmail } from './sample-email.js';

const SAMPLE = new URL('../../docs/sample-email.txt', import.meta.url);

describe('docs/sample-email.txt', () => {
  it('is what the field-report audit renders today (regenerate with npm run docs:email)', async () => {
    const committed = readFileSync(SAMPLE, 'utf8');
    expect(committed).toBe(await renderSampleEmail());
  });

  it("shows the field report's two real bugs with their fixes", () => {
    const text = readFileSync(SAMPLE, 'utf8');
    expect(text).toMatch(/^Subject: \[eks-datadog-auditor\] field-report: /);
    expect(text).toContain('[CRITICAL] golang/Deployment/golang-app');
    expect(text).toContain('"go-secrets"');
    expect(text).toMatch(/resources: \["endpoints"\]/);
    expect(text).toContain('aws lambda invoke --function-name eks-datadog-auditor');
  });
});
