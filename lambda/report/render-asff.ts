/**
 * AWS Security Finding Format (ASFF, SchemaVersion 2018-10-08) for Security Hub's
 * BatchImportFindings and `--format asff`. Findings go to the account's default product (a custom
 * integration), so the caller's account and the Security Hub region are part of every finding.
 *
 * Only FAIL and MUTED findings become active ASFF findings: PASS says nothing to a security team
 * and ERROR is an incomplete audit, reported by the auditor's own alarms. A finding that failed in
 * the previous run and is fixed now is sent again with RecordState ARCHIVED and Compliance PASSED,
 * which is how a provider closes its finding (Security Hub keeps no "delete").
 *
 * Limits (ASFF syntax page of the Security Hub user guide): Title 256 characters, Description
 * 1024, Remediation.Recommendation.Text 512, Note.Text 512, Id 512, ProductFields 50 pairs with
 * keys of 128 and values of 2048 characters, 240 KB per finding.
 */
import type { AwsSecurityFinding, SeverityLabel } from '@aws-sdk/client-securityhub';
import { CHECKS } from '../checks/index.js';
import { resourceLabel, type Finding, type Severity } from '../config/findings.js';
import { multiLine, singleLine } from '../checks/sanitize.js';
import type { AuditReport, ClusterReport, Drift } from './types.js';

export const ASFF_SCHEMA_VERSION = '2018-10-08';
export const ASFF_PRODUCT_NAME = 'eks-datadog-auditor';

export const ASFF_LIMITS = {
  title: 256,
  description: 1024,
  recommendation: 512,
  note: 512,
  id: 512,
  productFieldValue: 2048,
  detailsOtherValue: 1024,
} as const;

const SEVERITY_LABELS: Record<Severity, SeverityLabel> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  info: 'INFORMATIONAL',
};

/**
 * ASFF types are namespace/category/classifier. These are configuration checks against the
 * Datadog and Kubernetes documentation, not AWS best practices nor vulnerabilities, so the
 * category is "Industry and Regulatory Standards"; the classifier names the check's area.
 */
export function asffType(area: string): string {
  return `Software and Configuration Checks/Industry and Regulatory Standards/eks-datadog-auditor ${area}`;
}

export interface AsffContext {
  /** The account that calls BatchImportFindings (12 digits): AwsAccountId and the product ARN. */
  accountId: string;
  /** Region of Security Hub (the product ARN), and of clusters whose report names none. */
  region: string;
  /** Default `aws`. */
  partition?: string;
  /**
   * When each finding was first seen (finding id -> ISO time), when known; otherwise CreatedAt is
   * the run's time.
   */
  firstSeen?: ReadonlyMap<string, string>;
}

export function productArn(ctx: Pick<AsffContext, 'accountId' | 'region' | 'partition'>): string {
  const partition = ctx.partition ?? 'aws';
  return `arn:${partition}:securityhub:${ctx.region}:${ctx.accountId}:product/${ctx.accountId}/default`;
}

export function clusterArn(ctx: AsffContext, cluster: Pick<ClusterReport, 'name' | 'region'>) {
  const partition = ctx.partition ?? 'aws';
  return `arn:${partition}:eks:${cluster.region ?? ctx.region}:${ctx.accountId}:cluster/${cluster.name}`;
}

/** Stable across runs, so a re-import updates (or archives) the same Security Hub finding. */
export function asffId(
  ctx: AsffContext,
  cluster: Pick<ClusterReport, 'name' | 'region'>,
  findingId: string,
): string {
  return truncate(
    singleLine(`${ctx.accountId}/${cluster.region ?? ctx.region}/${cluster.name}/${findingId}`),
    ASFF_LIMITS.id,
  );
}

/** Cuts to `max` characters (code points), marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}\u2026`;
}

let checksById: Map<string, (typeof CHECKS)[number]> | undefined;
function checkMeta(checkId: string) {
  checksById ??= new Map(CHECKS.map((c) => [c.id, c] as const));
  return checksById.get(checkId);
}

export type AsffRecordState = 'ACTIVE' | 'ARCHIVED';

/**
 * One finding in ASFF. `state` ARCHIVED is a finding fixed since the previous run: its
 * compliance is PASSED whatever the (previous) finding's status says.
 */
export function toAsff(
  finding: Finding,
  cluster: Pick<ClusterReport, 'name' | 'region' | 'startedAt' | 'finishedAt'>,
  ctx: AsffContext,
  state: AsffRecordState = 'ACTIVE',
): AwsSecurityFinding {
  const meta = checkMeta(finding.checkId);
  const label = SEVERITY_LABELS[finding.severity];
  const types = [asffType(meta?.area ?? 'other')];
  const arn = clusterArn(ctx, cluster);
  const partition = ctx.partition ?? 'aws';
  const region = cluster.region ?? ctx.region;
  const resource = finding.resource;
  const where = singleLine(resourceLabel(resource));
  const title = `${meta?.title ?? finding.checkId}: ${where}`;
  const archived = state === 'ARCHIVED';
  const muted = !archived && finding.status === 'MUTED';
  const description = archived
    ? `Fixed: no longer found by the run of ${cluster.finishedAt}. Was: ${finding.message}`
    : finding.message;
  const remediation = finding.remediation || meta?.remediation || 'See the check in the README.';
  const suppression = muted ? finding.suppression : undefined;

  const productFields: Record<string, string> = {
    [`${ASFF_PRODUCT_NAME}/checkId`]: finding.checkId,
    [`${ASFF_PRODUCT_NAME}/findingId`]: finding.id,
    [`${ASFF_PRODUCT_NAME}/messageId`]: finding.messageId,
    [`${ASFF_PRODUCT_NAME}/status`]: archived ? 'RESOLVED' : finding.status,
    [`${ASFF_PRODUCT_NAME}/cluster`]: cluster.name,
  };
  // Note and Workflow belong to Security Hub users once the finding exists (BatchImportFindings
  // ignores them on update), so the current suppression also travels in ProductFields.
  if (suppression) {
    productFields[`${ASFF_PRODUCT_NAME}/suppression/reason`] = suppression.reason;
    productFields[`${ASFF_PRODUCT_NAME}/suppression/expires`] = suppression.expires;
    productFields[`${ASFF_PRODUCT_NAME}/suppression/source`] = suppression.source;
    if (suppression.owner) {
      productFields[`${ASFF_PRODUCT_NAME}/suppression/owner`] = suppression.owner;
    }
  }
  for (const key of Object.keys(productFields)) {
    productFields[key] = truncate(singleLine(productFields[key]), ASFF_LIMITS.productFieldValue);
  }

  const other: Record<string, string> = { kind: resource.kind, name: resource.name };
  if (resource.namespace) other.namespace = resource.namespace;
  other.cluster = cluster.name;
  for (const key of Object.keys(other)) {
    other[key] = truncate(singleLine(other[key]), ASFF_LIMITS.detailsOtherValue);
  }

  const createdAt = ctx.firstSeen?.get(finding.id) ?? cluster.startedAt;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: asffId(ctx, cluster, finding.id),
    ProductArn: productArn(ctx),
    ProductName: ASFF_PRODUCT_NAME,
    GeneratorId: finding.checkId,
    AwsAccountId: ctx.accountId,
    Region: region,
    Types: types,
    CreatedAt: createdAt,
    UpdatedAt: cluster.finishedAt,
    Severity: { Label: label, Original: finding.severity },
    // Providers update Severity and Types through FindingProviderFields once a finding exists.
    FindingProviderFields: { Severity: { Label: label, Original: finding.severity }, Types: types },
    Title: truncate(singleLine(title), ASFF_LIMITS.title),
    Description: truncate(multiLine(description), ASFF_LIMITS.description),
    Remediation: {
      Recommendation: { Text: truncate(multiLine(remediation), ASFF_LIMITS.recommendation) },
    },
    ProductFields: productFields,
    Resources: [
      {
        Type: 'AwsEksCluster',
        Id: arn,
        Partition: partition as 'aws',
        Region: region,
        Details: { AwsEksCluster: { Name: cluster.name, Arn: arn } },
      },
      {
        Type: 'Other',
        Id: truncate(
          singleLine(`${arn}/${resource.namespace ?? '_'}/${resource.kind}/${resource.name}`),
          ASFF_LIMITS.id,
        ),
        Partition: partition as 'aws',
        Region: region,
        Details: { Other: other },
      },
    ],
    Compliance: { Status: archived ? 'PASSED' : 'FAILED' },
    RecordState: state,
    ...(archived ? {} : { Workflow: { Status: muted ? 'SUPPRESSED' : 'NEW' } }),
    ...(suppression
      ? {
          Note: {
            Text: truncate(
              singleLine(
                `Muted until ${suppression.expires}${suppression.owner ? ` by ${suppression.owner}` : ''} (${suppression.source}): ${suppression.reason}`,
              ),
              ASFF_LIMITS.note,
            ),
            UpdatedBy: ASFF_PRODUCT_NAME,
            UpdatedAt: cluster.finishedAt,
          },
        }
      : {}),
  };
}

/** Findings Security Hub tracks: failing now (FAIL) or accepted (MUTED). */
export function isAsffActive(f: Pick<Finding, 'status'>): boolean {
  return f.status === 'FAIL' || f.status === 'MUTED';
}

/**
 * One cluster's ASFF findings: FAIL and MUTED as ACTIVE, and the drift's resolved findings that
 * were imported before (FAIL or MUTED) as ARCHIVED.
 */
export function clusterAsffFindings(
  cluster: ClusterReport,
  ctx: AsffContext,
  drift?: Drift,
): AwsSecurityFinding[] {
  const active = cluster.findings.filter(isAsffActive).map((f) => toAsff(f, cluster, ctx));
  const activeIds = new Set(cluster.findings.filter(isAsffActive).map((f) => f.id));
  const archived = (drift?.resolved ?? [])
    .filter((f) => isAsffActive(f) && !activeIds.has(f.id))
    .map((f) => toAsff(f, cluster, ctx, 'ARCHIVED'));
  return [...active, ...archived];
}

/** Every cluster's ASFF findings, in report order. */
export function asffFindings(
  report: AuditReport,
  ctx: AsffContext,
  drift?: Record<string, Drift>,
): AwsSecurityFinding[] {
  return report.clusters.flatMap((c) => clusterAsffFindings(c, ctx, drift?.[c.name]));
}

/**
 * `--format asff`: a JSON array of findings, the shape
 * `aws securityhub batch-import-findings --findings file://...` takes (in batches of 100).
 */
export function renderAsff(
  report: AuditReport,
  ctx: AsffContext,
  drift?: Record<string, Drift>,
): string {
  return `${JSON.stringify(asffFindings(report, ctx, drift), null, 2)}\n`;
}
