import {
  CHECK_CRASHED_MESSAGE_ID,
  CLUSTER_UNREACHABLE_CHECK_ID,
  COLLECTION_CHECK_ID,
} from '../../lambda/checks/check.js';
import { DISCOVERY_CHECK_ID } from '../../lambda/run/fleet/discovery.js';
import { incomplete } from '../../lambda/report/completeness.js';
import { decidePublish } from '../../lambda/deliver/publish.js';
import { diffReports } from '../../lambda/report/diff.js';
import { READ_FAILURE_CHECK_IDS, clusterStatus } from '../../lambda/report/types.js';
import { clusterReport, finding } from './support.js';

const notEvaluated = finding({
  checkId: 'dd-site-consistent',
  status: 'ERROR',
  severity: 'info',
  resource: { kind: 'Pod', namespace: 'golang', name: 'golang-app-1' },
  messageId: 'site-not-evaluated:agent',
  message: 'Not evaluated: DD_SITE comes from a ConfigMap or Secret reference.',
});
const throttled = {
  source: 'aws' as const,
  kind: 'eks:ListFargateProfiles',
  code: 'ThrottlingException',
  message: 'Rate exceeded after 3 attempts',
};

describe('what makes an audit incomplete', () => {
  it.each([
    {
      name: 'a check result the auditor does not evaluate',
      findings: [notEvaluated],
      errors: [],
      status: 'PASS',
    },
    {
      name: 'a read that failed (throttled after retries)',
      findings: [notEvaluated],
      errors: [throttled],
      status: 'ERROR',
    },
    {
      name: 'a check that crashed',
      findings: [
        finding({
          status: 'ERROR',
          resource: { kind: 'Check', name: 'dd-site-consistent' },
          messageId: CHECK_CRASHED_MESSAGE_ID,
        }),
      ],
      errors: [],
      status: 'ERROR',
    },
    ...[COLLECTION_CHECK_ID, CLUSTER_UNREACHABLE_CHECK_ID, DISCOVERY_CHECK_ID].map((checkId) => ({
      name: `an ${checkId} finding (a read failed), even without its failure in errors`,
      findings: [finding({ checkId, status: 'ERROR', messageId: 'x' })],
      errors: [],
      status: 'ERROR',
    })),
  ])('$name: $status', ({ findings, errors, status }) => {
    expect(clusterStatus(findings, errors)).toBe(status);
  });

  it('names the read-failure check ids as the modules that report them do', () => {
    expect([...READ_FAILURE_CHECK_IDS].sort()).toEqual(
      [COLLECTION_CHECK_ID, CLUSTER_UNREACHABLE_CHECK_ID, DISCOVERY_CHECK_ID].sort(),
    );
  });

  it('a not-evaluated result repeated run after run is not incomplete and publishes nothing under drift', () => {
    const previous = clusterReport([notEvaluated]);
    const current = clusterReport([notEvaluated]);
    expect(incomplete(current)).toBe(false);
    expect(decidePublish('drift', current, diffReports(current, previous), 'info')).toMatchObject({
      publish: false,
    });
  });
});
