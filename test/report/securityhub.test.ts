import {
  BatchImportFindingsCommand,
  SecurityHubClient,
  type AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import type { HandlerSummary } from '../../lambda/deliver/deliver.js';
import {
  deliverToSecurityHub,
  importFindings,
  SECURITY_HUB_MAX_ATTEMPTS,
} from '../../lambda/deliver/securityhub.js';
import { asffFindings, type AsffContext } from '../../lambda/report/render-asff.js';
import { harness, testConfig } from '../handler/support.js';
import { auditReport, clusterReport, fieldReportFindings, finding } from './support.js';

const ACCOUNT = '123456789012';
const FUNCTION_ARN = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:eks-datadog-auditor`;
const PRODUCT = `arn:aws:securityhub:eu-west-1:${ACCOUNT}:product/${ACCOUNT}/default`;
const CTX: AsffContext = { accountId: ACCOUNT, region: 'eu-west-1' };
const noSleep = () => Promise.resolve();

/** A Security Hub client whose every BatchImportFindings call is recorded (and accepted). */
function recordedSecurityHub() {
  const client = new SecurityHubClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  mock.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => ({
    SuccessCount: input.Findings.length,
    FailedCount: 0,
    FailedFindings: [],
  }));
  const calls = () =>
    mock
      .commandCalls(BatchImportFindingsCommand)
      .map((c) => c.args[0].input.Findings as AwsSecurityFinding[]);
  return { client, mock, calls };
}

function manyFindings(n: number) {
  return Array.from({ length: n }, (_, i) =>
    finding({
      checkId: 'token-ref-resolves',
      resource: { kind: 'Pod', namespace: 'golang', name: `app-${i}` },
    }),
  );
}

describe('Security Hub import and archive cycle (handler, recorded client)', () => {
  it('imports the failing findings, then archives the fixed one with the same Id', async () => {
    const sh = recordedSecurityHub();
    const h = harness({ config: testConfig({ securityHub: { enabled: true } }) });
    h.deps.integrations = { securityHub: sh.client };

    const first = (await h.handler({}, { invokedFunctionArn: FUNCTION_ARN })) as HandlerSummary;
    expect(first.ok).toBe(true);
    expect(sh.calls()).toHaveLength(1);
    const imported = sh.calls()[0]!;
    expect(imported).toHaveLength(2);
    expect(imported.map((f) => f.RecordState)).toEqual(['ACTIVE', 'ACTIVE']);
    expect(imported.every((f) => f.ProductArn === PRODUCT && f.AwsAccountId === ACCOUNT)).toBe(
      true,
    );
    expect(first.securityHub).toEqual({
      productArn: PRODUCT,
      imported: 2,
      archived: 0,
      calls: 1,
      failed: [],
    });

    // The RBAC finding is fixed before the second run.
    h.findings['golang-cluster'] = h.findings['golang-cluster']!.map((f) =>
      f.checkId === 'rbac-agent-permissions' ? { ...f, status: 'PASS' as const } : f,
    );
    const second = (await h.handler({}, { invokedFunctionArn: FUNCTION_ARN })) as HandlerSummary;
    expect(sh.calls()).toHaveLength(2);
    const update = sh.calls()[1]!;
    const archived = update.filter((f) => f.RecordState === 'ARCHIVED');
    const active = update.filter((f) => f.RecordState === 'ACTIVE');
    expect(archived).toHaveLength(1);
    expect(active).toHaveLength(1);
    expect(archived[0]).toMatchObject({
      GeneratorId: 'rbac-agent-permissions',
      Compliance: { Status: 'PASSED' },
    });
    expect(archived[0]!.Id).toBe(
      imported.find((f) => f.GeneratorId === 'rbac-agent-permissions')!.Id,
    );
    expect(active[0]!.Id).toBe(imported.find((f) => f.GeneratorId === 'token-ref-resolves')!.Id);
    expect(second.securityHub).toMatchObject({ imported: 1, archived: 1, failed: [] });
  });

  it('sends nothing when Security Hub is not enabled, nor on a dry run', async () => {
    const sh = recordedSecurityHub();
    const off = harness();
    off.deps.integrations = { securityHub: sh.client };
    await off.handler({}, { invokedFunctionArn: FUNCTION_ARN });
    const dry = harness({ config: testConfig({ securityHub: { enabled: true } }) });
    dry.deps.integrations = { securityHub: sh.client };
    await dry.handler({ dryRun: true }, { invokedFunctionArn: FUNCTION_ARN });
    expect(sh.calls()).toHaveLength(0);
  });

  it('takes the account from the config when the function ARN does not give one', async () => {
    const sh = recordedSecurityHub();
    const h = harness({
      config: testConfig({ securityHub: { enabled: true, accountId: '210987654321' } }),
    });
    h.deps.integrations = { securityHub: sh.client };
    await h.handler({});
    expect(sh.calls()[0]![0]!.AwsAccountId).toBe('210987654321');
  });

  it('reports, without failing the run, when no account can be told', async () => {
    const sh = recordedSecurityHub();
    const h = harness({ config: testConfig({ securityHub: { enabled: true } }) });
    h.deps.integrations = { securityHub: sh.client };
    const res = (await h.handler({})) as HandlerSummary;
    expect(sh.calls()).toHaveLength(0);
    expect(res.warnings.join('\n')).toMatch(/securityHub\.accountId/);
    expect(h.logger.records.some((r) => r.level === 'error')).toBe(true);
  });
});

describe('Security Hub batches and retries', () => {
  it('sends 250 findings in 3 calls of at most 100', async () => {
    const sh = recordedSecurityHub();
    const report = auditReport([clusterReport(manyFindings(250))]);
    const outcome = await deliverToSecurityHub(
      report,
      {},
      { securityHub: { enabled: true } },
      { securityHub: sh.client },
      { asff: CTX, sleep: noSleep },
    );
    expect(sh.calls().map((c) => c.length)).toEqual([100, 100, 50]);
    expect(
      new Set(
        sh
          .calls()
          .flat()
          .map((f) => f.Id),
      ).size,
    ).toBe(250);
    expect(outcome).toMatchObject({ imported: 250, archived: 0, calls: 3, failed: [] });
  });

  it('retries the findings Security Hub refused, then reports the ones it keeps refusing', async () => {
    const client = new SecurityHubClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    const findings = asffFindings(auditReport([clusterReport(manyFindings(5))]), CTX);
    const flaky = findings[1]!.Id!;
    const broken = findings[3]!.Id!;
    let call = 0;
    mock.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => {
      call += 1;
      const refuse = input.Findings.filter(
        (f) => f.Id === broken || (f.Id === flaky && call === 1),
      );
      return {
        SuccessCount: input.Findings.length - refuse.length,
        FailedCount: refuse.length,
        FailedFindings: refuse.map((f) => ({
          Id: f.Id,
          ErrorCode: f.Id === broken ? 'InvalidInput' : 'ThrottlingException',
          ErrorMessage: 'refused',
        })),
      };
    });
    const errors: { message: string; extra?: Record<string, unknown> }[] = [];
    const outcome = await importFindings(client, findings, {
      asff: CTX,
      sleep: noSleep,
      logger: { info: () => undefined, error: (message, extra) => errors.push({ message, extra }) },
    });
    const sent = mock
      .commandCalls(BatchImportFindingsCommand)
      .map((c) => (c.args[0].input.Findings as AwsSecurityFinding[]).map((f) => f.Id));
    expect(sent).toEqual([findings.map((f) => f.Id), [flaky, broken], [broken]]);
    expect(sent).toHaveLength(SECURITY_HUB_MAX_ATTEMPTS);
    expect(outcome.imported).toBe(4);
    expect(outcome.failed).toEqual([
      { id: broken, errorCode: 'InvalidInput', errorMessage: 'refused' },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/refused/);
  });

  it('counts a call that failed outright as every finding of its batch refused', async () => {
    const client = new SecurityHubClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    const denied = Object.assign(
      new Error('not authorized to perform securityhub:BatchImportFindings'),
      {
        name: 'AccessDeniedException',
      },
    );
    mock.on(BatchImportFindingsCommand).rejects(denied);
    const findings = asffFindings(auditReport([clusterReport(fieldReportFindings())]), CTX);
    const outcome = await importFindings(client, findings, { asff: CTX, sleep: noSleep });
    expect(outcome.imported).toBe(0);
    expect(outcome.failed.map((f) => f.errorCode)).toEqual([
      'AccessDeniedException',
      'AccessDeniedException',
    ]);
    expect(mock.commandCalls(BatchImportFindingsCommand)).toHaveLength(SECURITY_HUB_MAX_ATTEMPTS);
  });

  it('puts a partial import in the run summary as a warning, and the run still succeeds', async () => {
    const client = new SecurityHubClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    mock.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => ({
      SuccessCount: input.Findings.length - 1,
      FailedCount: 1,
      FailedFindings: [{ Id: input.Findings[0]!.Id, ErrorCode: 'InvalidInput', ErrorMessage: 'x' }],
    }));
    const h = harness({ config: testConfig({ securityHub: { enabled: true } }) });
    h.deps.integrations = { securityHub: client };
    const res = (await h.handler({}, { invokedFunctionArn: FUNCTION_ARN })) as HandlerSummary;
    expect(res.ok).toBe(true);
    expect(res.securityHub?.failed).toHaveLength(1);
    expect(res.securityHub?.imported).toBe(1);
    expect(res.warnings.join('\n')).toMatch(/Security Hub refused 1 finding/);
    expect(h.metrics.succeeded).toBe(1);
  }, 20_000);
});
