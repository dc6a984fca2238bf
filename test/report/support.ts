/** Hand-made findings and reports for reporting tests: no collectors, no checks. */
import {
  findingId,
  type Finding,
  type FindingStatus,
  type ResourceRef,
  type Severity,
} from '../../lambda/config/findings.js';
import type { CollectionFailure } from '../../lambda/snapshot/snapshot.js';
import { clusterStatus, type AuditReport, type ClusterReport } from '../../lambda/report/types.js';
import { requestBodyBytes } from '../support/request-body.js';

export const CLUSTER = 'golang-cluster';
export const STARTED = '2026-11-24T02:00:00.000Z';
export const FINISHED = '2026-11-24T02:00:07.500Z';
export const RUN_ID = '2026-11-24T02-00-00Z-3f9a1c';

export interface FindingSpec {
  checkId?: string;
  cluster?: string;
  severity?: Severity;
  status?: FindingStatus;
  resource?: ResourceRef;
  messageId?: string;
  message?: string;
  remediation?: string;
}

export function finding(spec: FindingSpec = {}): Finding {
  const checkId = spec.checkId ?? 'token-ref-resolves';
  const cluster = spec.cluster ?? CLUSTER;
  const resource = spec.resource ?? { kind: 'Pod', namespace: 'golang', name: 'golang-app' };
  const messageId = spec.messageId ?? 'dangling-ref';
  const status = spec.status ?? 'FAIL';
  return {
    id: findingId(checkId, cluster, resource, messageId),
    checkId,
    cluster,
    severity: spec.severity ?? 'high',
    status,
    resource,
    messageId,
    message: spec.message ?? `${resource.kind} ${resource.name} is broken.`,
    remediation:
      status === 'PASS' ? '' : (spec.remediation ?? `Fix ${resource.kind} ${resource.name}.`),
  };
}

/** The field report's two real bugs plus some passes. */
export function fieldReportFindings(cluster = CLUSTER): Finding[] {
  return [
    finding({
      cluster,
      checkId: 'token-ref-resolves',
      severity: 'critical',
      resource: { kind: 'Pod', namespace: 'golang', name: 'golang-app' },
      messageId: 'secret-missing',
      message:
        'Container datadog-agent env DD_CLUSTER_AGENT_AUTH_TOKEN references Secret golang/go-secrets, which does not exist (ExternalSecret golang-secrets creates Secret golang-secrets).',
      remediation:
        'In the golang-app Deployment, set containers[datadog-agent].env[DD_CLUSTER_AGENT_AUTH_TOKEN].valueFrom.secretKeyRef.name to golang-secrets:\n    valueFrom:\n      secretKeyRef:\n        name: golang-secrets\n        key: token',
    }),
    finding({
      cluster,
      checkId: 'rbac-agent-permissions',
      severity: 'high',
      resource: { kind: 'ClusterRole', name: 'datadog-agent' },
      messageId: 'missing-endpoints',
      message:
        'ClusterRole datadog-agent (bound to ServiceAccount golang/golang-app) does not grant get, list on endpoints, which the Datadog agent on Fargate needs.',
      remediation:
        'Add this rule to ClusterRole datadog-agent:\n    - apiGroups: [""]\n      resources: ["endpoints"]\n      verbs: ["get", "list"]',
    }),
    finding({
      cluster,
      checkId: 'token-ref-resolves',
      status: 'PASS',
      severity: 'critical',
      resource: { kind: 'Pod', namespace: 'datadog', name: 'datadog-cluster-agent-6d9f' },
      messageId: 'ok',
      message: 'DD_CLUSTER_AGENT_AUTH_TOKEN resolves to Secret datadog/datadog-secrets key token.',
    }),
    finding({
      cluster,
      checkId: 'token-consistent',
      status: 'PASS',
      severity: 'critical',
      resource: { kind: 'Secret', namespace: 'datadog', name: 'datadog-secrets' },
      messageId: 'ok',
      message: 'The token matches Secrets Manager datadog/cluster-agent-token.',
    }),
  ];
}

export function clusterReport(
  findings: Finding[],
  opts: { name?: string; region?: string; errors?: CollectionFailure[]; startedAt?: string } = {},
): ClusterReport {
  const errors = opts.errors ?? [];
  return {
    name: opts.name ?? CLUSTER,
    ...(opts.region === undefined
      ? { region: 'eu-west-1' }
      : opts.region
        ? { region: opts.region }
        : {}),
    status: clusterStatus(findings, errors),
    startedAt: opts.startedAt ?? STARTED,
    finishedAt: FINISHED,
    findings,
    errors,
    stats: { kubeListPages: 12, kubeGets: 4, awsCalls: 9, durationMs: 7500 },
  };
}

export function auditReport(
  clusters: ClusterReport[],
  trigger: AuditReport['trigger'] = 'scheduled',
): AuditReport {
  return { runId: RUN_ID, startedAt: STARTED, finishedAt: FINISHED, trigger, clusters };
}

/** Names and messages an attacker with create rights in a namespace can plant. */
export const HOSTILE = {
  newline: 'evil\nSubject: you have been pwned\r\nBcc: all@example.com',
  ansi: 'pod-\u001b[31mred\u001b[0m-\u001b]0;title\u0007-\u001b[2J',
  c1: 'csi-\u009b31m-bell\u0007',
  bidi: 'admin\u202egnp.exe',
  unicode: 'naïve-名前-🚀',
  html: '<script>alert(1)</script><img src=x onerror=alert(2)>',
  table: '| table breakers | ` ** [link](http://evil) #',
  label63: 'a'.repeat(63),
} as const;

export function hostileFindings(): Finding[] {
  return Object.entries(HOSTILE).map(([key, value], i) =>
    finding({
      checkId: `hostile-${key}`,
      severity: (['critical', 'high', 'medium', 'low'] as const)[i % 4],
      resource: { kind: 'Pod', namespace: value.slice(0, 63), name: value },
      messageId: key,
      message: `Pod ${value} is broken: ${value}`,
      remediation: `Fix ${value}:\n    name: ${value}`,
    }),
  );
}

// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Every byte an archive body's stream gives, in one buffer (the tests' reports are small). */
export function bodyBytesOf(body: { stream(): AsyncIterable<unknown> }): Promise<Buffer> {
  return requestBodyBytes(body.stream());
}
