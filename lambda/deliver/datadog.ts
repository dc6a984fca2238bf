/**
 * Datadog delivery with the official client (@datadog/datadog-api-client): per cluster an event
 * when its findings drifted (new or resolved), and per run the metrics
 * `eks_datadog_auditor.findings` (gauge of findings per cluster, check, severity and status) and
 * `eks_datadog_auditor.run.duration` (seconds).
 *
 * The API key is read from Secrets Manager by the configured id at each run, handed to the client
 * as its apiKeyAuth and nowhere else: it is never logged, returned or put in an error (error
 * messages are scrubbed of it in case a transport ever echoed it).
 *
 * Only the two APIs used are imported, by their module paths: the package's index pulls in every
 * API. Even so the client's model serializer registers every model of its API version, so this
 * module is large; the caller imports it dynamically, only when Datadog is configured.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createConfiguration } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-common/configuration.js';
import { BaseServerConfiguration } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-common/servers.js';
import { EventsApi } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v1/apis/EventsApi.js';
import type { EventCreateRequest } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v1/models/EventCreateRequest.js';
import { MetricsApi } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/MetricsApi.js';
import type { MetricSeries } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/models/MetricSeries.js';
import { AWS_MAX_ATTEMPTS } from '../config/config.js';
import type { DatadogConfig } from '../config/config.js';
import type { Finding } from '../config/findings.js';
import { hasDrift } from '../report/diff.js';
import { singleLine } from '../checks/sanitize.js';
import { describeCounts, failingCounts, maxFailingSeverity } from '../report/summary.js';
import type { AuditReport, ClusterReport, Drift } from '../report/types.js';
import {
  DURATION_METRIC,
  FINDINGS_METRIC,
  SOURCE_TAG,
  durationSeries,
  findingSeries,
  seconds,
  tag,
} from './datadog-series.js';

export { DURATION_METRIC, FINDINGS_METRIC, SOURCE_TAG, durationSeries, findingSeries };

/** v1 events: the title is cut at 100 characters, the text at 4,000. */
const EVENT_TITLE_MAX = 100;
const EVENT_TEXT_MAX = 4000;
const LISTED_FINDINGS = 10;

export interface DatadogDeliveryDeps {
  /** Reads the API key; created on first use when absent. */
  secrets?: SecretsManagerClient;
  /** Tests: the base URL of a local intake (e.g. `https://127.0.0.1:8443`) instead of the site's. */
  baseUrl?: string;
  /** Tests: the fetch the client's HTTP library uses (e.g. one trusting the test CA). */
  fetch?: unknown;
}

export interface DatadogOutcome {
  site: string;
  /** Events accepted (one per cluster with drift). */
  events: number;
  /** Metric series accepted. */
  series: number;
  /** What failed, one line each (no key, no secret). */
  failed: string[];
}

export interface DatadogLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** The key, from a plain-text secret or a JSON property of it. */
async function readApiKey(client: SecretsManagerClient, config: DatadogConfig): Promise<string> {
  const res = await client.send(new GetSecretValueCommand({ SecretId: config.apiKeySecret }));
  const text = res.SecretString;
  if (!text) {
    throw new Error(
      `Secret ${config.apiKeySecret} has no SecretString: store the Datadog API key as text${config.apiKeyProperty ? ` or JSON with property ${config.apiKeyProperty}` : ''}.`,
    );
  }
  if (!config.apiKeyProperty) return text.trim();
  let value: unknown;
  try {
    value = (JSON.parse(text) as Record<string, unknown>)[config.apiKeyProperty];
  } catch {
    throw new Error(
      `Secret ${config.apiKeySecret} is not JSON, but datadog.apiKeyProperty is set: remove apiKeyProperty or store {"${config.apiKeyProperty}": "<key>"}.`,
    );
  }
  if (typeof value !== 'string' || !value) {
    throw new Error(
      `Secret ${config.apiKeySecret} has no string property ${config.apiKeyProperty}: fix datadog.apiKeyProperty or the secret.`,
    );
  }
  return value.trim();
}

function alertType(cluster: ClusterReport): EventCreateRequest['alertType'] {
  if (cluster.status === 'ERROR') return 'error';
  const max = maxFailingSeverity(cluster.findings);
  if (!max) return 'success';
  if (max === 'critical' || max === 'high') return 'error';
  return max === 'info' ? 'info' : 'warning';
}

function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}\u2026`;
}

/** The event of one cluster whose findings drifted. */
export function driftEvent(
  cluster: ClusterReport,
  drift: Drift,
  archive: string | null | undefined,
  extraTags: readonly string[],
): EventCreateRequest {
  const name = singleLine(cluster.name);
  const counts = describeCounts(failingCounts(cluster.findings)) || 'nothing failing';
  const title = `eks-datadog-auditor: ${name}: ${drift.new.length} new, ${drift.resolved.length} resolved`;
  const line = (f: Finding) =>
    `- [${f.severity}] ${singleLine(f.checkId)} ${singleLine(f.resource.kind)} ${singleLine(
      f.resource.namespace ? `${f.resource.namespace}/${f.resource.name}` : f.resource.name,
    )}`;
  const more = (list: Finding[]) =>
    list.length > LISTED_FINDINGS ? [`- and ${list.length - LISTED_FINDINGS} more`] : [];
  const text = [
    `Cluster ${name}${cluster.region ? ` (${cluster.region})` : ''}: ${cluster.status}, failing: ${counts}.`,
    `New: ${drift.new.length}, resolved: ${drift.resolved.length}, unchanged: ${drift.unchanged.length}.`,
    ...(drift.new.length
      ? ['New findings:', ...drift.new.slice(0, LISTED_FINDINGS).map(line)]
      : []),
    ...more(drift.new),
    ...(drift.resolved.length
      ? ['Resolved:', ...drift.resolved.slice(0, LISTED_FINDINGS).map(line)]
      : []),
    ...more(drift.resolved),
    `Report: ${archive ?? 'not archived'}`,
  ].join('\n');
  return {
    title: cut(title, EVENT_TITLE_MAX),
    text: cut(text, EVENT_TEXT_MAX),
    alertType: alertType(cluster),
    sourceTypeName: 'eks-datadog-auditor',
    aggregationKey: cut(`eks-datadog-auditor:${name}`, 100),
    dateHappened: seconds(cluster.finishedAt),
    tags: [
      tag('cluster', cluster.name),
      ...(cluster.region ? [tag('region', cluster.region)] : []),
      SOURCE_TAG,
      ...extraTags,
    ],
  };
}

function scrubbed(err: unknown, secret: string | undefined): string {
  const e = err as { code?: number; message?: string; name?: string };
  let message = typeof e?.message === 'string' ? e.message : String(err);
  if (secret) message = message.split(secret).join('[redacted]');
  return singleLine(message).slice(0, 500);
}

export async function deliverToDatadog(
  report: AuditReport,
  drift: Record<string, Drift>,
  config: DatadogConfig,
  deps: DatadogDeliveryDeps,
  ctx: {
    archives: Record<string, string | null>;
    logger?: DatadogLogger;
    /** The clusters' finding series, computed as each was delivered (see lambda/deliver/deliver.ts). */
    findingSeries?: MetricSeries[];
  },
): Promise<DatadogOutcome> {
  const outcome: DatadogOutcome = { site: config.site, events: 0, series: 0, failed: [] };
  const secrets = (deps.secrets ??= new SecretsManagerClient({ maxAttempts: AWS_MAX_ATTEMPTS }));
  let apiKey: string | undefined;
  try {
    apiKey = await readApiKey(secrets, config);
  } catch (err) {
    outcome.failed.push(
      `API key secret ${singleLine(config.apiKeySecret)} unreadable: ${scrubbed(err, undefined)}`,
    );
    ctx.logger?.error('Datadog API key unreadable; nothing sent', { failed: outcome.failed });
    return outcome;
  }

  const configuration = createConfiguration({
    authMethods: { apiKeyAuth: apiKey },
    ...(deps.baseUrl ? { baseServer: new BaseServerConfiguration(deps.baseUrl, {}) } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    enableRetry: true,
    maxRetries: 2,
  });
  if (!deps.baseUrl) configuration.setServerVariables({ site: config.site });
  const extraTags = config.tags;

  const events = new EventsApi(configuration);
  for (const cluster of report.clusters) {
    const d = drift[cluster.name];
    if (!d || !hasDrift(d)) continue;
    try {
      await events.createEvent({
        body: driftEvent(cluster, d, ctx.archives[cluster.name], extraTags),
      });
      outcome.events += 1;
    } catch (err) {
      outcome.failed.push(`event for cluster ${cluster.name}: ${scrubbed(err, apiKey)}`);
    }
  }

  const series = [
    ...(ctx.findingSeries ?? findingSeries(report, drift, extraTags)),
    durationSeries(report, extraTags),
  ];
  try {
    await new MetricsApi(configuration).submitMetrics({ body: { series } });
    outcome.series = series.length;
  } catch (err) {
    outcome.failed.push(`metrics (${series.length} series): ${scrubbed(err, apiKey)}`);
  }

  const log = {
    site: config.site,
    events: outcome.events,
    series: outcome.series,
    failed: outcome.failed,
  };
  if (outcome.failed.length) ctx.logger?.error('Datadog refused part of the run', log);
  else ctx.logger?.info('sent to Datadog', log);
  return outcome;
}
