/**
 * The demo's AWS stand-in: answers for a fixture cluster (test/fixtures/<name>/aws.json) at the
 * level of SDK operations, so the real collectors and the real SDK clients run unchanged up to the
 * point where a request would leave the process. {@link awsFixtureResponder} decides every
 * answer; {@link answerFromFixture} plugs it into our own clients (the CLI demo, which ships), and
 * the tests plug the same responder into aws-sdk-client-mock (test/support/aws-fixture.ts).
 * Nothing here may rely on jest globals or devDependencies.
 *
 * Optional `Faults` in aws.json make one operation fail for every input, e.g.
 * `"Faults": { "GetSecretValue": { "name": "AccessDeniedException", "message": "...", "status": 400 } }`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Filter,
  type Reservation,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
} from '@aws-sdk/client-ec2';
import {
  InvalidRequestException,
  ResourceNotFoundException as EksNotFound,
  type AccessEntry,
  type Cluster,
  type FargateProfile,
} from '@aws-sdk/client-eks';
import {
  ResourceNotFoundException as SecretNotFound,
  type DescribeSecretResponse,
  type GetSecretValueResponse,
} from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from '../../collect/aws/clients.js';

export interface FaultSpec {
  /** SDK error name, e.g. AccessDeniedException, ThrottlingException, DecryptionFailure. */
  name: string;
  message?: string;
  /** HTTP status of the error response; 400 by default. */
  status?: number;
}

export interface SecretFixture {
  GetSecretValue?: GetSecretValueResponse;
  GetSecretValuePending?: GetSecretValueResponse;
  DescribeSecret?: DescribeSecretResponse;
}

export interface AwsFixture {
  region: string;
  DescribeCluster: { cluster: Cluster };
  ListFargateProfiles?: { fargateProfileNames: string[] };
  DescribeFargateProfile?: Record<string, { fargateProfile: FargateProfile }>;
  DescribeSecurityGroups?: { SecurityGroups: SecurityGroup[] };
  DescribeSubnets?: { Subnets: Subnet[] };
  DescribeRouteTables?: { RouteTables: RouteTable[] };
  DescribeInstances?: { Reservations: Reservation[] };
  ListAccessEntries?: { accessEntries: string[] };
  DescribeAccessEntry?: Record<string, { accessEntry: AccessEntry }>;
  SecretsManager?: Record<string, SecretFixture>;
  GetCallerIdentity?: { Account?: string; Arn?: string; UserId?: string };
  /** Operation name -> the error every call of it fails with. */
  Faults?: Record<string, FaultSpec>;
}

/** Timestamp fields of the SDK shapes we serve; JSON has them as ISO strings. */
const DATE_FIELDS = new Set([
  'createdAt',
  'modifiedAt',
  'CreatedDate',
  'LastChangedDate',
  'LastAccessedDate',
  'LastRotatedDate',
  'NextRotationDate',
  'DeletedDate',
  'LaunchTime',
  'AttachTime',
  'UsageOperationUpdateTime',
  'Expiration',
]);

/** Reads `<dir>/aws.json`, turning date fields into Dates and SecretBinary (base64) into bytes. */
export function loadAwsFixture(dir: string): AwsFixture {
  const file = join(dir, 'aws.json');
  const parsed = JSON.parse(readFileSync(file, 'utf8'), (key, value) => {
    if (DATE_FIELDS.has(key) && typeof value === 'string') return new Date(value);
    if (key === 'SecretBinary' && typeof value === 'string') {
      return new Uint8Array(Buffer.from(value, 'base64'));
    }
    return value;
  }) as AwsFixture;
  if (!parsed.region || !parsed.DescribeCluster?.cluster?.name) {
    throw new Error(`${file}: needs "region" and "DescribeCluster.cluster.name"`);
  }
  return parsed;
}

/** An error shaped like the SDK's service exceptions (name, $fault, $metadata). */
export function sdkError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
  });
}

/** Answers one SDK operation (`DescribeCluster`, `GetSecretValue`, ...) from the fixture. */
export type AwsOperationAnswer = (input: object) => Promise<unknown>;

/** The fixture's answer for every operation the collectors call, by operation name. */
export type AwsFixtureResponder = Record<string, AwsOperationAnswer>;

/**
 * What AWS would answer for the fixture: EKS, EC2, Secrets Manager and STS operations with their
 * paging, filters, not-found errors and the fixture's injected `Faults`. `onCall` sees every
 * operation answered.
 */
export function awsFixtureResponder(
  fixture: AwsFixture,
  opts: { onCall?: (operation: string) => void } = {},
): AwsFixtureResponder {
  const serve =
    <I, O>(op: string, fn: (input: I) => O | Promise<O>) =>
    async (input: I): Promise<O> => {
      opts.onCall?.(op);
      const fault = fixture.Faults?.[op];
      if (fault)
        throw sdkError(fault.name, fault.message ?? `${op} failed (injected)`, fault.status);
      return fn(input);
    };
  const answers: AwsFixtureResponder = {};
  const set = <I, O>(op: string, answer: (input: I) => O | Promise<O>) => {
    answers[op] = serve(op, answer) as unknown as AwsOperationAnswer;
  };

  const cluster = fixture.DescribeCluster.cluster;
  const clusterName = cluster.name as string;
  const requireCluster = (name: string | undefined) => {
    if (name !== clusterName)
      throw new EksNotFound({ message: `No cluster found for name: ${name}.`, $metadata: {} });
  };

  set('DescribeCluster', (input: { name?: string }) => {
    requireCluster(input.name);
    return { $metadata: {}, cluster };
  });
  set(
    'ListFargateProfiles',
    (input: { clusterName?: string; nextToken?: string; maxResults?: number }) => {
      requireCluster(input.clusterName);
      const page = paginate(
        fixture.ListFargateProfiles?.fargateProfileNames ?? [],
        input.nextToken,
        input.maxResults,
      );
      return {
        $metadata: {},
        fargateProfileNames: page.items,
        ...(page.next ? { nextToken: page.next } : {}),
      };
    },
  );
  set('DescribeFargateProfile', (input: { clusterName?: string; fargateProfileName?: string }) => {
    requireCluster(input.clusterName);
    const found = fixture.DescribeFargateProfile?.[input.fargateProfileName ?? ''];
    if (!found)
      throw new EksNotFound({
        message: `No Fargate Profile found with name: ${input.fargateProfileName}.`,
        $metadata: {},
      });
    return { $metadata: {}, ...found };
  });
  set(
    'ListAccessEntries',
    (input: { clusterName?: string; nextToken?: string; maxResults?: number }) => {
      requireCluster(input.clusterName);
      if (cluster.accessConfig?.authenticationMode === 'CONFIG_MAP') {
        throw new InvalidRequestException({
          message:
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
          $metadata: {},
        });
      }
      const page = paginate(
        fixture.ListAccessEntries?.accessEntries ?? [],
        input.nextToken,
        input.maxResults,
      );
      return {
        $metadata: {},
        accessEntries: page.items,
        ...(page.next ? { nextToken: page.next } : {}),
      };
    },
  );
  set('DescribeAccessEntry', (input: { clusterName?: string; principalArn?: string }) => {
    requireCluster(input.clusterName);
    const found = fixture.DescribeAccessEntry?.[input.principalArn ?? ''];
    if (!found)
      throw new EksNotFound({
        message: `The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`,
        $metadata: {},
      });
    return { $metadata: {}, ...found };
  });

  set('DescribeSecurityGroups', (input: Ec2ListInput & { GroupIds?: string[] }) => {
    const all = fixture.DescribeSecurityGroups?.SecurityGroups ?? [];
    const items = selectById(
      all,
      (g) => g.GroupId,
      input.GroupIds,
      'InvalidGroup.NotFound',
      (id) => `The security group '${id}' does not exist`,
    ).filter((g) => matches(input.Filters, { 'group-id': g.GroupId, 'vpc-id': g.VpcId }));
    const page = paginate(items, input.NextToken, input.MaxResults);
    return {
      $metadata: {},
      SecurityGroups: page.items,
      ...(page.next ? { NextToken: page.next } : {}),
    };
  });
  set('DescribeSubnets', (input: Ec2ListInput & { SubnetIds?: string[] }) => {
    const all = fixture.DescribeSubnets?.Subnets ?? [];
    const items = selectById(
      all,
      (s) => s.SubnetId,
      input.SubnetIds,
      'InvalidSubnetID.NotFound',
      (id) => `The subnet ID '${id}' does not exist`,
    ).filter((s) => matches(input.Filters, { 'subnet-id': s.SubnetId, 'vpc-id': s.VpcId }));
    const page = paginate(items, input.NextToken, input.MaxResults);
    return {
      $metadata: {},
      Subnets: page.items,
      ...(page.next ? { NextToken: page.next } : {}),
    };
  });
  set('DescribeRouteTables', (input: Ec2ListInput & { RouteTableIds?: string[] }) => {
    const all = fixture.DescribeRouteTables?.RouteTables ?? [];
    const items = selectById(
      all,
      (t) => t.RouteTableId,
      input.RouteTableIds,
      'InvalidRouteTableID.NotFound',
      (id) => `The routeTable ID '${id}' does not exist`,
    ).filter((t) =>
      matches(input.Filters, { 'route-table-id': t.RouteTableId, 'vpc-id': t.VpcId }),
    );
    const page = paginate(items, input.NextToken, input.MaxResults);
    return {
      $metadata: {},
      RouteTables: page.items,
      ...(page.next ? { NextToken: page.next } : {}),
    };
  });
  set('DescribeInstances', (input: Ec2ListInput & { InstanceIds?: string[] }) => {
    const reservations = fixture.DescribeInstances?.Reservations ?? [];
    const all = reservations.flatMap((r) => r.Instances ?? []);
    const wanted = new Set(
      selectById(
        all,
        (i) => i.InstanceId,
        input.InstanceIds,
        'InvalidInstanceID.NotFound',
        (id) => `The instance ID '${id}' does not exist`,
      )
        .filter((i) =>
          matches(input.Filters, {
            'instance-id': i.InstanceId,
            'vpc-id': i.VpcId,
            'subnet-id': i.SubnetId,
          }),
        )
        .map((i) => i.InstanceId),
    );
    const items = reservations
      .map((r) => ({
        ...r,
        Instances: (r.Instances ?? []).filter((i) => wanted.has(i.InstanceId)),
      }))
      .filter((r) => r.Instances.length > 0);
    const page = paginate(items, input.NextToken, input.MaxResults);
    return {
      $metadata: {},
      Reservations: page.items,
      ...(page.next ? { NextToken: page.next } : {}),
    };
  });

  const secrets = fixture.SecretsManager ?? {};
  const findSecret = (secretId: string | undefined): [string, SecretFixture] => {
    for (const [name, s] of Object.entries(secrets)) {
      if (
        secretId === name ||
        secretId === s.DescribeSecret?.ARN ||
        secretId === s.GetSecretValue?.ARN
      )
        return [name, s];
    }
    throw new SecretNotFound({
      message: "Secrets Manager can't find the specified secret.",
      $metadata: {},
    });
  };
  set(
    'GetSecretValue',
    (input: { SecretId?: string; VersionStage?: string; VersionId?: string }) => {
      const [, s] = findSecret(input.SecretId);
      const versions = [s.GetSecretValue, s.GetSecretValuePending].filter(
        (v): v is GetSecretValueResponse => !!v,
      );
      const found = input.VersionId
        ? versions.find((v) => v.VersionId === input.VersionId)
        : (input.VersionStage ?? 'AWSCURRENT') === 'AWSCURRENT'
          ? s.GetSecretValue
          : input.VersionStage === 'AWSPENDING'
            ? s.GetSecretValuePending
            : versions.find((v) => v.VersionStages?.includes(input.VersionStage ?? ''));
      if (!found) {
        throw new SecretNotFound({
          message: `Secrets Manager can't find the specified secret value for ${input.VersionId ? `VersionId: ${input.VersionId}` : `staging label: ${input.VersionStage}`}`,
          $metadata: {},
        });
      }
      return { $metadata: {}, ...found };
    },
  );
  set('DescribeSecret', (input: { SecretId?: string }) => {
    const [name, s] = findSecret(input.SecretId);
    return {
      $metadata: {},
      Name: name,
      ...(s.GetSecretValue?.ARN ? { ARN: s.GetSecretValue.ARN } : {}),
      ...s.DescribeSecret,
    };
  });

  const account = fixture.GetCallerIdentity?.Account ?? accountOf(cluster.arn) ?? '111122223333';
  const identity = {
    Account: account,
    Arn:
      fixture.GetCallerIdentity?.Arn ??
      `arn:aws:sts::${account}:assumed-role/eks-datadog-auditor/session`,
    UserId: fixture.GetCallerIdentity?.UserId ?? 'AROAEXAMPLEAUDITOR:session',
  };
  const assumeRole = (input: { RoleArn?: string; RoleSessionName?: string }) => ({
    $metadata: {},
    Credentials: {
      AccessKeyId: 'ASIAFIXTUREASSUMED01',
      SecretAccessKey: 'fixture-assumed-role-secret-access-key',
      SessionToken: 'fixture-assumed-role-session-token',
      Expiration: new Date(Date.now() + 3600_000),
    },
    AssumedRoleUser: {
      Arn: `${(input.RoleArn ?? '').replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${input.RoleSessionName}`,
      AssumedRoleId: `AROAFIXTURE:${input.RoleSessionName}`,
    },
  });
  set('GetCallerIdentity', () => ({ $metadata: {}, ...identity }));
  set('AssumeRole', assumeRole);

  return answers;
}

interface Ec2ListInput {
  Filters?: Filter[];
  NextToken?: string;
  MaxResults?: number;
}

/** Like EC2 with explicit ids: every id must exist, else the whole call fails. */
function selectById<T>(
  all: T[],
  idOf: (t: T) => string | undefined,
  ids: string[] | undefined,
  errorName: string,
  message: (id: string) => string,
): T[] {
  if (!ids?.length) return all;
  const byId = new Map(all.map((t) => [idOf(t), t]));
  const missing = ids.find((id) => !byId.has(id));
  if (missing) throw sdkError(errorName, message(missing));
  return ids.map((id) => byId.get(id) as T);
}

/** EC2 filter semantics for the filters we serve: values OR-ed within a filter, filters AND-ed. */
function matches(
  filters: Filter[] | undefined,
  fields: Record<string, string | undefined>,
): boolean {
  return (filters ?? []).every((f) => {
    if (!f.Name || !(f.Name in fields)) {
      throw sdkError('InvalidParameterValue', `The filter '${f.Name}' is invalid`);
    }
    return (f.Values ?? []).includes(fields[f.Name] ?? '');
  });
}

/** Index-based tokens, so collectors' paging loops are exercised for real. */
function paginate<T>(items: T[], token: string | undefined, max: number | undefined) {
  const start = token ? Number(token) : 0;
  const size = max && max > 0 ? max : items.length || 1;
  const end = start + size;
  return { items: items.slice(start, end), next: end < items.length ? String(end) : undefined };
}

function accountOf(arn: string | undefined): string | undefined {
  return arn?.split(':')[4] || undefined;
}

/**
 * Makes our own SDK clients answer from the fixture: a middleware at the end of the initialize
 * step (after the call counter, before serialization, endpoints, credentials and signing) returns
 * the responder's answer, so no request leaves the process and no credentials are looked up.
 */
export function answerFromFixture(clients: AwsClients, responder: AwsFixtureResponder): AwsClients {
  for (const client of [clients.eks, clients.ec2, clients.secretsManager, clients.sts]) {
    (client.middlewareStack as { add: (...a: unknown[]) => void }).add(
      (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => {
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const answer = responder[operation];
        if (!answer)
          throw sdkError('UnknownOperationException', `${operation} is not in the demo fixture`);
        return { output: await answer(args.input), response: {} };
      },
      { step: 'initialize', priority: 'low', name: 'demoFixtureAnswer' },
    );
  }
  return clients;
}
