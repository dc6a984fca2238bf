/**
 * The run plan: what a run will do, decided once from the event, the configuration and the
 * clusters discovery found, before any cluster is touched. Every entry point plans through here
 * (the direct handler, the fleet's discover and audit-cluster steps, the CLI), so an event, a
 * suppression or a cluster name is accepted or refused alike on every path.
 */
import { CHECKS } from '../checks/index.js';
import type { Check } from '../checks/check.js';
import {
  assertSuppressions,
  clusterConfigSchema,
  ConfigError,
  type AuditorConfig,
  type ClusterConfig,
} from '../config/config.js';
import { exampleEvent, parseEvent, selectClusters, type OnDemandEvent } from './events.js';
import type { Discovery, DiscoveryFailure } from './fleet/discovery.js';
import type { NotifyPolicy } from '../deliver/publish.js';
import { singleLine } from '../checks/sanitize.js';
import type { AuditReport } from '../report/types.js';

export interface RunPlan {
  trigger: AuditReport['trigger'];
  event: OnDemandEvent;
  dryRun: boolean;
  notify: NotifyPolicy;
  /**
   * The configuration with every known cluster (configured entries merged over discovered ones):
   * archive keys of a name listed in two regions are told apart against this list.
   */
  config: AuditorConfig;
  /** The clusters this run audits, in order. */
  clusters: ClusterConfig[];
  /** The checks the audit runs; suppressions were validated against their ids. */
  checks: readonly Check[];
  /** Accounts or regions discovery could not list (reported as a finding of the run). */
  discoveryFailures: DiscoveryFailure[];
}

/** An event the plan refuses: what was wrong and an event that would work. */
export interface RefusedEvent {
  ok: false;
  error: 'Invalid event' | 'Unknown cluster';
  issues: string[];
  example: ReturnType<typeof exampleEvent>;
}

export type PlanOutcome = { ok: true; plan: RunPlan } | RefusedEvent;

export interface PlanInput {
  event: unknown;
  config: AuditorConfig;
  /** What discovery found this run (configured entries win over discovered ones). */
  discovered?: Discovery;
  /** The run date suppression expiries are judged against. */
  now: Date;
  /** Default: the registry. */
  checks?: readonly Check[];
  /** Where the configuration came from, for error messages. Default: the auditor configuration. */
  origin?: string;
  /** The CLI's runs are `cli` whatever the event. */
  trigger?: AuditReport['trigger'];
}

/**
 * Plans a run. Throws ConfigError for an invalid suppression (the configuration must be fixed);
 * returns a refusal for an event that names nothing runnable.
 */
export function planRun(input: PlanInput): PlanOutcome {
  const { config } = input;
  const checks = validatedChecks(input);
  const parsed = parseEvent(input.event);
  if (!parsed.ok) {
    return {
      ok: false,
      error: 'Invalid event',
      issues: parsed.issues,
      example: exampleEvent(config),
    };
  }
  const known: AuditorConfig = input.discovered?.clusters.length
    ? { ...config, clusters: mergeClusters(config.clusters, input.discovered.clusters) }
    : config;
  const selected = selectClusters(known, parsed.event.clusters);
  if (!selected.ok) {
    return {
      ok: false,
      error: 'Unknown cluster',
      issues: selected.issues,
      example: exampleEvent(config),
    };
  }
  return {
    ok: true,
    plan: {
      trigger: input.trigger ?? parsed.trigger,
      event: parsed.event,
      dryRun: parsed.event.dryRun ?? false,
      notify: parsed.event.notify ?? config.notify,
      config: known,
      clusters: selected.clusters,
      checks,
      discoveryFailures: input.discovered?.failures ?? [],
    },
  };
}

/**
 * The plan of one fleet Map item: the run was planned by discover; this step validates the same
 * suppressions (the configuration may have changed since) and the cluster entry it was handed.
 */
export function planClusterTask(input: {
  config: AuditorConfig;
  cluster: unknown;
  now: Date;
  checks?: readonly Check[];
}): { cluster: ClusterConfig; checks: readonly Check[] } {
  const checks = validatedChecks(input);
  const parsed = clusterConfigSchema.safeParse(input.cluster);
  if (!parsed.success) {
    throw new ConfigError(
      `Map item is not a cluster entry: ${singleLine(parsed.error.message)}. The list is written by the discover step; start a new execution.`,
    );
  }
  return { cluster: parsed.data, checks };
}

/**
 * The checks of a run, with the configuration's suppressions validated against them: a bad
 * suppression fails the run before any cluster is touched (or listed), like a bad configuration.
 */
export function validatedChecks(input: {
  config: AuditorConfig;
  now: Date;
  checks?: readonly Check[];
  origin?: string;
}): readonly Check[] {
  const checks = input.checks ?? CHECKS;
  assertSuppressions(input.config, {
    now: input.now,
    checkIds: checks.map((c) => c.id),
    origin: input.origin ?? 'the auditor configuration',
  });
  return checks;
}

/** Configured entries win over discovered ones with the same name and region. */
export function mergeClusters(
  explicit: readonly ClusterConfig[],
  discovered: readonly ClusterConfig[],
): ClusterConfig[] {
  const key = (c: ClusterConfig) => `${c.region ?? ''}/${c.name}`;
  const byKey = new Map<string, ClusterConfig>();
  for (const c of discovered) byKey.set(key(c), c);
  for (const c of explicit) byKey.set(key(c), { ...byKey.get(key(c)), ...c });
  return [...byKey.values()];
}
