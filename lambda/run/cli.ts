#!/usr/bin/env node
/**
 * Local entry point: the same audit as the Lambda, with human output and an exit code.
 * stdout carries only the report (or the ExecCredential / manifest); progress goes to stderr.
 */
import { planRun, validatedChecks } from './plan.js';
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { newRunId, runAudit, type AuditDeps } from './audit.js';
import { createAwsClients } from '../collect/aws/clients.js';
import { createEksToken } from '../collect/aws/eks-token.js';
import { execCredential } from '../collect/aws/exec-credential.js';
import { collectCluster, type CollectOptions } from '../collect/collect.js';
import {
  ConfigError,
  parseConfig,
  parseConfigText,
  SEVERITY_OR_NEVER,
  type AuditorConfig,
  type ClusterConfig,
} from '../config/config.js';
import { atLeast, type Severity } from '../config/findings.js';
import { renderAuditorRbac } from '../collect/kube/rbac-manifest.js';
import {
  diffAgainstBaseline,
  loadBaseline,
  renderReport,
  REPORT_FORMATS,
  type ReportFormat,
  type AsffContext,
} from '../report/index.js';
import { isFailing } from '../report/summary.js';
import type { AuditReport } from '../report/types.js';

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** Collection options injected by tests and the demo. */
  collect?: CollectOptions;
}

const HELP: Record<string, string> = {
  main: `eks-datadog-auditor: audit Datadog monitoring on Amazon EKS (Fargate)

Usage:
  eks-datadog-auditor audit --cluster NAME [--region R] [options]   audit one or more clusters
  eks-datadog-auditor audit --demo                                   audit a built-in broken demo cluster
  eks-datadog-auditor token --cluster NAME [--region R] [--role-arn ARN]
                                                                     print an EKS ExecCredential (like aws eks get-token)
  eks-datadog-auditor print-rbac [--config FILE] [--secret-namespace NS[:name,name]]...
                                                                     print the auditor's read-only RBAC manifest
  eks-datadog-auditor <command> --help                               help for one command

Exit codes: 0 nothing at or above --fail-on failed, 1 something did, 2 usage or configuration error.`,
  audit: `Usage: eks-datadog-auditor audit [options]

Cluster selection (one of):
  --cluster NAME          EKS cluster to audit (repeatable); needs AWS credentials
  --config FILE           JSON config (clusters, token secret, overrides); see README
  --demo                  run against a local test API server with a broken fixture (no AWS needed)

Options:
  --region R              AWS region (default: config, then AWS_REGION)
  --role-arn ARN          role to assume first (cross-account)
  --kubeconfig FILE       reach Kubernetes through this kubeconfig instead of the EKS endpoint
                          (default $KUBECONFIG or ~/.kube/config when --context is given)
  --context NAME          kubeconfig context to use
  --no-aws                skip the AWS side (only with --kubeconfig/--context)
  --token-secret ID       Secrets Manager secret holding the Cluster Agent token
                          (default datadog/cluster-agent-token)
  --token-property KEY    JSON property of that secret holding the token
  --format F              table (default), json, markdown, sarif, junit, html or asff
  --docs-url URL          sarif/html: README that check links point to (default: the project's)
  --aws-account ID        with --format asff: the account the findings belong to (12 digits)
  --fail-on S             critical, high (default), medium, low or never
  --baseline FILE         previous --format json report: show new / resolved findings
  --show-pass             list PASS results in the table too
  --fixture NAME          with --demo: fixture cluster to serve (default field-report)`,
  token: `Usage: eks-datadog-auditor token --cluster NAME [--region R] [--role-arn ARN]

Prints a client.authentication.k8s.io/v1beta1 ExecCredential with a bearer token for the cluster,
the same contract as "aws eks get-token", so kubectl can use it as an exec credential plugin.`,
  'print-rbac': `Usage: eks-datadog-auditor print-rbac [--group NAME] [--secret-namespace NS[:name,name]]...

Prints the read-only ClusterRole and binding the auditor needs inside each cluster. With
--secret-namespace, "get" on secrets moves from the ClusterRole into one Role per namespace
(optionally restricted to the named secrets via resourceNames).`,
};

const AUDIT_OPTIONS = {
  cluster: { type: 'string', multiple: true },
  region: { type: 'string' },
  'role-arn': { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'no-aws': { type: 'boolean' },
  'token-secret': { type: 'string' },
  'token-property': { type: 'string' },
  format: { type: 'string' },
  'docs-url': { type: 'string' },
  'aws-account': { type: 'string' },
  'fail-on': { type: 'string' },
  config: { type: 'string' },
  demo: { type: 'boolean' },
  fixture: { type: 'string' },
  baseline: { type: 'string' },
  'show-pass': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const TOKEN_OPTIONS = {
  cluster: { type: 'string' },
  region: { type: 'string' },
  'role-arn': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const RBAC_OPTIONS = {
  group: { type: 'string' },
  'secret-namespace': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(
      `${command}: ${(err as Error).message.replace(/\. To specify.*$/s, '')}. See "eks-datadog-auditor ${command} --help".`,
    );
  }
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

/** Builds the config from --config and flags; flags name the clusters when no file is given. */
function configFromFlags(
  v: ReturnType<typeof parse<typeof AUDIT_OPTIONS>>,
  io: CliIo,
): AuditorConfig {
  let base: Record<string, unknown> = {};
  let origin = 'command-line flags';
  if (v.config) {
    let text: string;
    try {
      text = readFileSync(v.config, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `Cannot read config file ${v.config}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Check the path.`,
      );
    }
    base = parseConfigText(text, v.config) as unknown as Record<string, unknown>;
    origin = v.config;
  }
  const fromFile = (base.clusters as ClusterConfig[] | undefined) ?? [];
  let clusters: ClusterConfig[];
  if (v.cluster?.length) {
    clusters = v.cluster.map((name) => {
      const known = fromFile.find((c) => c.name === name);
      if (v.config && !known) {
        throw new ConfigError(
          `Cluster "${name}" is not in ${v.config} (configured: ${fromFile.map((c) => c.name).join(', ') || 'none'}). Add it to the file or drop --config.`,
        );
      }
      return {
        ...(known ?? { name }),
        ...(v.region ? { region: v.region } : {}),
        ...(v['role-arn'] ? { roleArn: v['role-arn'] } : {}),
      };
    });
  } else {
    clusters = fromFile;
  }
  if (clusters.length === 0) {
    throw new UsageError(
      'audit: name a cluster with --cluster NAME, give --config FILE, or try --demo',
    );
  }
  const region =
    v.region ??
    (base.region as string | undefined) ??
    io.env.AWS_REGION ??
    io.env.AWS_DEFAULT_REGION;
  return parseConfig(
    {
      ...base,
      clusters,
      ...(region ? { region } : {}),
      ...(v['token-secret'] || v['token-property']
        ? {
            tokenSecret: {
              ...((base.tokenSecret as object | undefined) ?? {}),
              ...(v['token-secret'] ? { id: v['token-secret'] } : {}),
              ...(v['token-property'] ? { property: v['token-property'] } : {}),
            },
          }
        : {}),
    },
    origin,
  );
}

/** The `suppressions` of a config file, for the demo (whose cluster comes from the fixture). */
function demoSuppressions(file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}: ${(err as Error).message}`);
  }
  return (value as { suppressions?: unknown } | null)?.suppressions;
}

async function audit(args: string[], io: CliIo): Promise<number> {
  const v = parse('audit', args, AUDIT_OPTIONS);
  if (v.help) {
    io.stdout(HELP.audit + '\n');
    return EXIT_OK;
  }
  const format = oneOf<ReportFormat>('format', v.format, REPORT_FORMATS, 'table');
  const awsAccount = v['aws-account'];
  if (format === 'asff' && !awsAccount) {
    throw new UsageError(
      '--format asff needs --aws-account ID, the account whose Security Hub receives the findings (aws sts get-caller-identity --query Account)',
    );
  }
  if (awsAccount !== undefined && !/^\d{12}$/.test(awsAccount)) {
    throw new UsageError(`--aws-account must be a 12-digit AWS account id (got "${awsAccount}")`);
  }
  const failOn = oneOf('fail-on', v['fail-on'], SEVERITY_OR_NEVER, 'high');
  if (v['no-aws'] && !v.kubeconfig && !v.context) {
    throw new UsageError(
      '--no-aws needs --kubeconfig or --context: without AWS the Kubernetes endpoint comes from a kubeconfig',
    );
  }

  let report: AuditReport;
  if (v.demo) {
    const { runDemoAudit } = await import('./demo/demo.js');
    // The demo's cluster is the fixture; a --config file may still bring its suppressions.
    const raw = v.config ? demoSuppressions(v.config) : undefined;
    const demoConfig = raw
      ? parseConfig({ clusters: [{ name: 'demo' }], suppressions: raw }, v.config!)
      : undefined;
    // Refused by the run plan's rules, as on every entry point (exit 2).
    if (demoConfig) validatedChecks({ config: demoConfig, now: io.now(), origin: v.config! });
    const suppressions = demoConfig?.suppressions;
    report = await runDemoAudit({
      fixture: v.fixture ?? 'field-report',
      progress: io.stderr,
      ...(suppressions ? { config: { suppressions } } : {}),
    });
  } else {
    const config = configFromFlags(v, io);
    // The run plan: suppressions refused before any cluster is touched (exit 2).
    const planned = planRun({
      event: undefined,
      config,
      now: io.now(),
      origin: v.config ?? 'configuration',
      trigger: 'cli',
    });
    if (!planned.ok) throw new UsageError(`audit: ${planned.issues.join('; ')}`);
    const { plan } = planned;
    const collectOpts: CollectOptions = {
      now: io.now,
      ...io.collect,
      ...(v.kubeconfig || v.context
        ? {
            kubeconfig: {
              ...(v.kubeconfig ? { path: v.kubeconfig } : {}),
              ...(v.context ? { context: v.context } : {}),
            },
          }
        : {}),
      ...(v['no-aws'] ? { skipAws: true } : {}),
    };
    const deps: AuditDeps = {
      collect: (c, cfg) => collectCluster(c, cfg, collectOpts),
      checks: plan.checks,
      now: io.now,
      newRunId: () => newRunId(io.now()),
      logger: {
        info: (m, e) => io.stderr(`${m}${e ? ` ${JSON.stringify(e)}` : ''}\n`),
        warn: (m, e) => io.stderr(`warning: ${m}${e ? ` ${JSON.stringify(e)}` : ''}\n`),
        error: (m, e) => io.stderr(`error: ${m}${e ? ` ${JSON.stringify(e)}` : ''}\n`),
      },
    };
    report = await runAudit(plan.config, plan.clusters, deps, plan.trigger);
  }

  const drift = v.baseline ? diffAgainstBaseline(report, loadBaseline(v.baseline)) : undefined;
  io.stdout(
    renderReport(report, format, {
      ...(drift ? { drift } : {}),
      ...(v['docs-url'] ? { docsUrl: v['docs-url'] } : {}),
      ...(awsAccount ? { asff: asffContext(report, awsAccount, v.region, io) } : {}),
      showPass: Boolean(v['show-pass']),
      color:
        format === 'table' &&
        Boolean(io.env.FORCE_COLOR ?? (process.stdout.isTTY && !io.env.NO_COLOR)),
    }),
  );
  return exitCodeFor(report, failOn);
}

/** Security Hub's region: --region, else the environment's, else the first cluster's. */
function asffContext(
  report: AuditReport,
  accountId: string,
  region: string | undefined,
  io: CliIo,
): AsffContext {
  const home =
    region ??
    io.env.AWS_REGION ??
    io.env.AWS_DEFAULT_REGION ??
    report.clusters.find((c) => c.region)?.region;
  if (!home) {
    throw new UsageError('--format asff needs a region: pass --region or set AWS_REGION');
  }
  return { accountId, region: home };
}

/**
 * 1 when any FAIL or ERROR at or above the threshold; ERROR counts: an incomplete audit is not a
 * pass. MUTED does not: its risk was accepted with a reason and an expiry.
 */
export function exitCodeFor(report: AuditReport, failOn: Severity | 'never'): number {
  if (failOn === 'never') return EXIT_OK;
  const failed = report.clusters.some((c) =>
    c.findings.some((f) => isFailing(f) && atLeast(f.severity, failOn)),
  );
  return failed ? EXIT_FINDINGS : EXIT_OK;
}

async function token(args: string[], io: CliIo): Promise<number> {
  const v = parse('token', args, TOKEN_OPTIONS);
  if (v.help) {
    io.stdout(HELP.token + '\n');
    return EXIT_OK;
  }
  if (!v.cluster) throw new UsageError('token: --cluster NAME is required');
  const region = v.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('token: no region: pass --region or set AWS_REGION');
  const config = parseConfig(
    {
      clusters: [{ name: v.cluster, region, ...(v['role-arn'] ? { roleArn: v['role-arn'] } : {}) }],
    },
    'command-line flags',
  );
  const cluster = config.clusters[0]!;
  const clients = createAwsClients({
    region,
    ...(cluster.roleArn ? { roleArn: cluster.roleArn } : {}),
  });
  const { token: t, expiresAt } = await createEksToken({
    clusterName: cluster.name,
    region,
    credentials: clients.credentials,
    now: io.now(),
  });
  io.stdout(JSON.stringify(execCredential(t, expiresAt)) + '\n');
  return EXIT_OK;
}

function printRbac(args: string[], io: CliIo): number {
  const v = parse('print-rbac', args, RBAC_OPTIONS);
  if (v.help) {
    io.stdout(HELP['print-rbac'] + '\n');
    return EXIT_OK;
  }
  const secretNamespaces = (v['secret-namespace'] ?? []).map((spec) => {
    const [namespace, names] = spec.split(':', 2);
    if (!namespace)
      throw new UsageError(`--secret-namespace "${spec}": expected NS or NS:name,name`);
    return { namespace, ...(names ? { names: names.split(',').filter(Boolean) } : {}) };
  });
  io.stdout(
    renderAuditorRbac({
      ...(v.group ? { group: v.group } : {}),
      ...(secretNamespaces.length ? { secretNamespaces } : {}),
    }),
  );
  return EXIT_OK;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'audit':
        return await audit(rest, io);
      case 'token':
        return await token(rest, io);
      case 'print-rbac':
        return printRbac(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(HELP.main + '\n');
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        throw new UsageError(
          `unknown command "${command}"; commands: audit, token, print-rbac (see --help)`,
        );
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.stderr(`eks-datadog-auditor: ${err.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`eks-datadog-auditor: ${(err as Error).message ?? String(err)}\n`);
    return EXIT_USAGE;
  }
}

/** Runs the CLI on this process's arguments and streams; sets the exit code. */
export async function runCli(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    now: () => new Date(),
  });
}

// Run only as a program (tsx lambda/run/cli.ts), not when imported by tests or the bin wrapper.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await runCli();
}
