/**
 * Least privilege, proven from what the code does rather than from what it declares:
 * - Kubernetes: full audits of every fixture cluster against the test API server; the requests
 *   it saw give the (group, resource, verb) set the collectors use (list vs get from the path
 *   shape, create from POST), which must be exactly what the auditor's RBAC grants.
 * - AWS: the SDK commands the code sent through the mocks during full audits (same-account and
 *   cross-account, so AssumeRole too) and Lambda invocations (S3, SNS), mapped to IAM actions,
 *   must be exactly the actions the synthesized stack grants, apart from those AWS needs on the
 *   function's behalf (each listed with why in infra/iam-actions.ts).
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { createAwsClients, type AwsClients } from '../../lambda/collect/aws/clients.js';
import { EksTokenProvider } from '../../lambda/collect/aws/eks-token.js';
import { renderAuditorRbac, type PolicyRule } from '../../lambda/collect/kube/rbac-manifest.js';
import type { RecordedRequest } from '../../lambda/run/demo/kube-api-server.js';
import {
  AUDITOR_API_ACTIONS,
  AUDITOR_SUPPORT_ACTIONS,
  iamActionForCommand,
} from '../../infra/iam-actions.js';
import { synthNamed } from '../infra/support.js';
import { CaseRecorder } from './book.js';
import { auditCase, handlerCase, type ClusterSetup } from './harness.js';

const COMMITTED = new URL('../../infra/kubernetes/auditor-rbac.yaml', import.meta.url);
const FIXTURES = ['healthy', 'field-report', 'token-stale', 'mixed-ec2-fargate', 'operator'];
const ROLE = 'arn:aws:iam::210987654321:role/auditor-reader';

/** `verb group/resource` of one request, from the shape of its path. */
export function grantOf(r: RecordedRequest): string {
  const parts = r.path.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!;
    rest = parts.slice(3);
  } else {
    throw new Error(`not a resource request: ${r.method} ${r.path}`);
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, name] = rest as [string, string | undefined];
  const verb =
    r.method === 'POST' ? 'create' : r.query.watch === 'true' ? 'watch' : name ? 'get' : 'list';
  return `${verb} ${group}/${resource}`;
}

function grants(rules: PolicyRule[]): string[] {
  return rules.flatMap((rule) =>
    rule.apiGroups.flatMap((g) =>
      rule.resources.flatMap((res) => rule.verbs.map((v) => `${v} ${g}/${res}`)),
    ),
  );
}

function clusterRoleGrants(yaml: string): string[] {
  const docs = parseAllDocuments(yaml).map(
    (d) => d.toJS() as { kind: string; rules?: PolicyRule[] },
  );
  return [...new Set(docs.filter((d) => d.rules).flatMap((d) => grants(d.rules!)))].sort();
}

const used = new Set<string>();
const requests: RecordedRequest[] = [];
const awsCommands = new Set<string>();

beforeAll(async () => {
  const c = new CaseRecorder('least privilege', 'kubernetes');
  for (const fixture of FIXTURES) {
    const o = await auditCase(c, { fixture });
    requests.push(...Object.values(o.requests).flat());
    o.awsCommands.forEach((x) => awsCommands.add(x));
  }
  // ESO served at v1beta1 only: the fallback reads the same resources.
  const old = await auditCase(c, {
    fixture: 'healthy',
    beforeAudit: (s) => s.inject({ prefix: '/apis/external-secrets.io/v1/', status: 404 }),
  });
  requests.push(...Object.values(old.requests).flat());

  // A cross-account cluster, as deployed: its clients assume the configured role, and the EKS
  // bearer token is signed with those credentials (the test API server takes the token it is
  // given: it cannot ask STS).
  let clients: AwsClients | undefined;
  const crossAccount: ClusterSetup = {
    fixture: 'healthy',
    name: 'shared',
    cluster: { roleArn: ROLE },
    awsClients: (region, roleArn) =>
      (clients = createAwsClients({ region, ...(roleArn ? { roleArn } : {}) })),
    access: (s, name) => {
      const tokens = new EksTokenProvider({
        clusterName: name,
        region: 'eu-west-1',
        credentials: () => clients!.credentials(),
        stsEndpoint: 'https://sts.eu-west-1.amazonaws.com',
      });
      return {
        kind: 'token',
        clusterName: name,
        server: s.url,
        caData: s.caData,
        token: async () => {
          const t = await tokens.get();
          s.setToken(t);
          return t;
        },
      };
    },
  };
  const cross = await auditCase(c, crossAccount);
  expect(cross.cluster.status).toBe('PASS');
  requests.push(...Object.values(cross.requests).flat());
  cross.awsCommands.forEach((x) => awsCommands.add(x));

  // Invocations: the archive (read latest, write dated and latest), the alert and the Security
  // Hub import.
  const h = await handlerCase(c, { config: { securityHub: { enabled: true } } });
  expect(h.error).toBeUndefined();
  h.awsCommands.forEach((x) => awsCommands.add(x));

  for (const r of requests) used.add(grantOf(r));
}, 60_000);

/** The configuration read (lambda/config/source.ts), which the harness replaces. */
const CONFIG_READ = 'ssm:GetParameter';
describe('least privilege, proven from the requests the auditor makes', () => {
  it('the Kubernetes RBAC grants exactly the kinds and verbs the collectors used', () => {
    const granted = clusterRoleGrants(renderAuditorRbac({}));
    expect([...used].sort()).toEqual(granted);
  });

  it('the committed infra/kubernetes/auditor-rbac.yaml grants exactly the same', () => {
    expect(clusterRoleGrants(readFileSync(COMMITTED, 'utf8'))).toEqual([...used].sort());
  });

  it('secrets are only ever read with get by name: never listed or watched, and never granted so', () => {
    const onSecrets = [...used].filter((g) => g.endsWith(' /secrets'));
    expect(onSecrets).toEqual(['get /secrets']);
    expect(requests.filter((r) => r.query.watch !== undefined)).toEqual([]);
    for (const yaml of [
      renderAuditorRbac({}),
      readFileSync(COMMITTED, 'utf8'),
      renderAuditorRbac({
        secretNamespaces: [
          { namespace: 'datadog' },
          { namespace: 'golang', names: ['golang-secrets'] },
        ],
      }),
    ]) {
      const secretGrants = clusterRoleGrants(yaml).filter((g) => / \/secrets$/.test(g));
      expect(secretGrants).toEqual(['get /secrets']);
    }
    // Each Secret read is one the audited objects name (no sweep).
    const reads = requests
      .filter((r) => r.path.includes('/secrets/'))
      .map((r) => r.path.split('/').slice(-1)[0]);
    expect([...new Set(reads)].sort()).toEqual(
      expect.arrayContaining(['datadog-secrets', 'golang-secrets']),
    );
    expect(new Set(reads).size).toBeLessThanOrEqual(4);
  });

  it('configmaps are read only as kube-system/aws-auth, by name, and granted only so', () => {
    expect([...used].filter((g) => g.endsWith(' /configmaps'))).toEqual(['get /configmaps']);
    const reads = requests.filter((r) => r.path.includes('/configmaps'));
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads.map((r) => r.path))).toEqual(
      new Set(['/api/v1/namespaces/kube-system/configmaps/aws-auth']),
    );
    for (const yaml of [renderAuditorRbac({}), readFileSync(COMMITTED, 'utf8')]) {
      const docs = parseAllDocuments(yaml).map(
        (d) => d.toJS() as { kind: string; metadata: { namespace?: string }; rules?: PolicyRule[] },
      );
      const onConfigMaps = docs.flatMap((d) =>
        (d.rules ?? [])
          .filter((r) => r.resources.includes('configmaps'))
          .map((r) => ({ kind: d.kind, namespace: d.metadata.namespace, rule: r })),
      );
      expect(onConfigMaps).toEqual([
        {
          kind: 'Role',
          namespace: 'kube-system',
          rule: {
            apiGroups: [''],
            resources: ['configmaps'],
            verbs: ['get'],
            resourceNames: ['aws-auth'],
          },
        },
      ]);
    }
  });

  it('create on subjectaccessreviews is granted because the collector does ask them', () => {
    expect(used).toContain('create authorization.k8s.io/subjectaccessreviews');
  });

  it('the AWS calls the code made map onto exactly the API actions infra/iam-actions.ts lists', () => {
    const actions = [...awsCommands]
      .map(iamActionForCommand)
      .filter((a): a is string => a !== null);
    // The harness hands the handler its configuration; deployed, it is read from SSM first.
    expect([...new Set([...actions, CONFIG_READ])].sort()).toEqual([...AUDITOR_API_ACTIONS].sort());
  });

  it("the synthesized stack grants exactly those actions, plus only what AWS needs on the function's behalf", () => {
    const s = synthNamed('full');
    const granted = [...new Set(s.statements(s.stack.role).flatMap((st) => st.Action))].sort();
    const actions = [
      ...new Set([
        ...[...awsCommands].map(iamActionForCommand).filter((a): a is string => a !== null),
        CONFIG_READ,
      ]),
    ];
    expect(granted.filter((a) => !(a in AUDITOR_SUPPORT_ACTIONS))).toEqual(actions.sort());
    for (const a of granted.filter((x) => x in AUDITOR_SUPPORT_ACTIONS)) {
      expect(AUDITOR_SUPPORT_ACTIONS[a]!.length).toBeGreaterThan(10);
    }
    for (const a of granted) expect(a).not.toContain('*');
  }, 60_000);
});
