/**
 * Deliveries beyond the SNS alert and the S3 archive, each opt-in in the config: Security Hub
 * (ASFF) and Datadog (events and metrics). One entry point, called once per run after every cluster
 * was archived and alerted, so any deliver step (the handler today) needs one call.
 *
 * A failed delivery never throws: it comes back as a warning line (and in `failures`, for a caller
 * that wants to fail on it) beside the outcome of each delivery, and is logged as an error.
 */
import type { MetricSeries } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/models/MetricSeries.js';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { AWS_MAX_ATTEMPTS } from '../config/config.js';
import type { AuditorConfig } from '../config/config.js';
import { errorFields } from './observability.js';
import type { DatadogDeliveryDeps, DatadogOutcome } from './datadog.js';
import {
  accountOfArn,
  deliverToSecurityHub,
  describeSecurityHubFailure,
  type SecurityHubOutcome,
} from './securityhub.js';
import type { AuditReport, Drift } from '../report/types.js';

export interface IntegrationLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface IntegrationClients {
  /** Created on first use in the function's region when absent. */
  securityHub?: SecurityHubClient;
  /** Datadog: the API key source and, in tests, the HTTP transport. */
  datadog?: DatadogDeliveryDeps;
}

export interface IntegrationContext {
  /** The function's ARN (its account owns the Security Hub findings). */
  invokedFunctionArn?: string;
  /** The function's region (Security Hub's). */
  region?: string;
  /** `s3://` location of each cluster's archived report, by cluster name. */
  archives: Record<string, string | null>;
  logger: IntegrationLogger;
  /** Tests: no pause between Security Hub retries. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Datadog's finding series, computed per cluster while its whole report was in memory; the
   * report passed here may then hold only the failing findings (see lambda/deliver/deliver.ts).
   */
  datadogSeries?: MetricSeries[];
}

export interface IntegrationOutcome {
  securityHub?: SecurityHubOutcome;
  datadog?: DatadogOutcome;
  warnings: string[];
  /** Deliveries that failed (the invocation should fail after the rest was delivered). */
  failures: string[];
}

export async function deliverIntegrations(
  report: AuditReport,
  drift: Record<string, Drift>,
  config: AuditorConfig,
  clients: IntegrationClients,
  ctx: IntegrationContext,
): Promise<IntegrationOutcome> {
  const out: IntegrationOutcome = { warnings: [], failures: [] };
  if (config.securityHub?.enabled) {
    const accountId = config.securityHub.accountId ?? accountOfArn(ctx.invokedFunctionArn);
    const region = ctx.region ?? config.region;
    if (!accountId || !region) {
      const line = `Security Hub: cannot tell the ${accountId ? 'region' : 'account'} the findings belong to; set securityHub.accountId and region in the config.`;
      out.failures.push(line);
      out.warnings.push(line);
      ctx.logger.error('Security Hub import skipped', { reason: line });
    } else {
      clients.securityHub ??= new SecurityHubClient({ region, maxAttempts: AWS_MAX_ATTEMPTS });
      const outcome = await deliverToSecurityHub(
        report,
        drift,
        config,
        { securityHub: clients.securityHub },
        {
          asff: { accountId, region },
          logger: ctx.logger,
          ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
        },
      );
      if (outcome) {
        out.securityHub = outcome;
        const failure = describeSecurityHubFailure(outcome);
        if (failure) {
          out.warnings.push(failure);
          out.failures.push(failure);
        }
      }
    }
  }
  if (config.datadog) {
    try {
      // Loaded only when configured: the Datadog client is large (see lambda/deliver/datadog.ts).
      const { deliverToDatadog } = await import('./datadog.js');
      out.datadog = await deliverToDatadog(report, drift, config.datadog, clients.datadog ?? {}, {
        archives: ctx.archives,
        logger: ctx.logger,
        ...(ctx.datadogSeries ? { findingSeries: ctx.datadogSeries } : {}),
      });
      if (out.datadog.failed.length > 0) {
        const line = `Datadog: ${out.datadog.failed.join('; ')}`;
        out.warnings.push(line);
        out.failures.push(line);
      }
    } catch (err) {
      const line = `Datadog: ${errorFields(err).errorMessage}`;
      out.failures.push(line);
      out.warnings.push(line);
      ctx.logger.error('Datadog delivery failed', errorFields(err));
    }
  }
  return out;
}
