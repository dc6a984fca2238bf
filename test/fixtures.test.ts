/**
 * Structural sanity of the fixture clusters under test/fixtures/. Checks trust these manifests as
 * "what the API server serves", so a dangling reference here would be a false finding there.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Raw } from '../lambda/collect/kube/raw.js';
import { digestsEqual } from '../lambda/snapshot/secret-digest.js';
import type { ClusterSnapshot, SecretDigest } from '../lambda/snapshot/snapshot.js';
import {
  DEFAULT_COLLECTED_AT,
  FIXTURES_DIR,
  fixtureSnapshot,
  loadManifests,
} from './support/snapshot-builder.js';

const CANARIES = [
  'CANARY-dd-cluster-agent-token-7f3a9c1e5b2d4f6a8c0e1d2c',
  'CANARY-dd-cluster-agent-token-OLD-0b1c2d3e4f5a6b7c',
  'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b',
  'CANARY-dd-app-key-9a8b7c6d5e4f3a2b1c0d',
  'CANARY-dd-operator-literal-token-8e2c4a6b0d',
  'CANARY-dd-operator-generated-token-5d7f9b1c3e',
];

/** Every fixture directory that holds manifests (aws.json-only directories have nothing to load). */
const FIXTURES = readdirSync(FIXTURES_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .filter((name) => readdirSync(join(FIXTURES_DIR, name)).some((f) => /\.ya?ml$/.test(f)))
  .sort();

/** The three clusters this file vouches for in detail (other fixtures may be broken on purpose). */
const OWN = ['field-report', 'healthy', 'token-stale', 'operator'];

const manifests = (name: string): Raw[] => loadManifests(join(FIXTURES_DIR, name));
const ofKind = (docs: Raw[], kind: string): Raw[] => docs.filter((d) => d.kind === kind);
const key = (d: Raw): string => `${d.metadata?.namespace ?? ''}/${d.metadata?.name}`;

function tokenDigest(s: ClusterSnapshot, namespace: string, name: string): SecretDigest {
  const lookup = s.kube.secrets.find((l) => l.namespace === namespace && l.name === name);
  if (lookup?.result.status !== 'found') throw new Error(`${namespace}/${name} was not found`);
  const digest = lookup.result.secret.data['token'];
  if (!digest) throw new Error(`${namespace}/${name} has no key "token"`);
  return digest;
}

function podReady(pod: Raw): boolean {
  return (pod.status?.conditions ?? []).some(
    (c: Raw) => c.type === 'Ready' && String(c.status) === 'True',
  );
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

describe('every fixture cluster', () => {
  it('includes the three clusters the checks are tested against', () => {
    expect(FIXTURES).toEqual(expect.arrayContaining(OWN));
  });

  it.each(FIXTURES)('%s loads into a snapshot whose kinds all collected', (name) => {
    const s = fixtureSnapshot(name);
    for (const [kind, collected] of Object.entries(s.kube)) {
      if (kind === 'secrets') continue;
      expect([kind, (collected as { status: string }).status]).toEqual([kind, 'ok']);
    }
  });

  it.each(FIXTURES)('%s runs every Pod in a namespace that exists', (name) => {
    const s = fixtureSnapshot(name);
    const namespaces = new Set(
      s.kube.namespaces.status === 'ok' ? s.kube.namespaces.value.map((n) => n.meta.name) : [],
    );
    const pods = s.kube.pods.status === 'ok' ? s.kube.pods.value : [];
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods)
      expect([pod.meta.name, namespaces.has(pod.meta.namespace ?? '')]).toEqual([
        pod.meta.name,
        true,
      ]);
  });

  it.each(FIXTURES)(
    '%s snapshot holds digests only, never a canary value or its base64',
    (name) => {
      const json = JSON.stringify(fixtureSnapshot(name));
      for (const canary of CANARIES) {
        expect(json).not.toContain(canary);
        expect(json).not.toContain(Buffer.from(canary).toString('base64'));
      }
    },
  );
});

describe.each(OWN)('fixture %s is internally consistent', (name) => {
  const docs = manifests(name);
  const nodes = new Map(ofKind(docs, 'Node').map((n) => [n.metadata.name, n]));
  const pods = ofKind(docs, 'Pod');

  it('gives every object a unique uid', () => {
    const uids = docs.map((d) => d.metadata?.uid).filter(Boolean);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it('schedules every Pod on an existing Fargate node matching its Fargate profile label and IP', () => {
    for (const pod of pods) {
      const node = nodes.get(pod.spec.nodeName);
      expect([pod.metadata.name, node?.metadata.labels['eks.amazonaws.com/compute-type']]).toEqual([
        pod.metadata.name,
        'fargate',
      ]);
      expect(pod.metadata.labels['eks.amazonaws.com/fargate-profile']).toMatch(/^fp-/);
      expect(pod.status.podIP).toBe(
        node.status.addresses.find((a: Raw) => a.type === 'InternalIP').address,
      );
    }
    expect(nodes.size).toBe(pods.length);
  });

  it('runs every Pod as an existing ServiceAccount, owned by a Deployment that selects it', () => {
    const accounts = new Set(ofKind(docs, 'ServiceAccount').map(key));
    const deployments = ofKind(docs, 'Deployment');
    for (const pod of pods) {
      expect(accounts.has(`${pod.metadata.namespace}/${pod.spec.serviceAccountName}`)).toBe(true);
      const rs = pod.metadata.ownerReferences[0].name as string;
      const owner = deployments.find(
        (d) =>
          d.metadata.namespace === pod.metadata.namespace &&
          rs === `${d.metadata.name}-${pod.metadata.labels['pod-template-hash']}`,
      );
      expect([pod.metadata.name, Boolean(owner)]).toEqual([pod.metadata.name, true]);
      expect(selects(owner.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    }
  });

  it('binds only roles and ServiceAccounts that exist', () => {
    const roles = new Set([
      ...ofKind(docs, 'ClusterRole').map((r) => `ClusterRole//${r.metadata.name}`),
      ...ofKind(docs, 'Role').map((r) => `Role/${r.metadata.namespace}/${r.metadata.name}`),
    ]);
    const accounts = new Set(ofKind(docs, 'ServiceAccount').map(key));
    for (const b of [...ofKind(docs, 'ClusterRoleBinding'), ...ofKind(docs, 'RoleBinding')]) {
      const ns = b.roleRef.kind === 'Role' ? b.metadata.namespace : '';
      expect(roles).toContain(`${b.roleRef.kind}/${ns}/${b.roleRef.name}`);
      for (const sub of b.subjects) expect(accounts).toContain(`${sub.namespace}/${sub.name}`);
    }
  });

  it('points every EndpointSlice at a live pod of its Service, ready exactly when the pod is', () => {
    const services = new Map(ofKind(docs, 'Service').map((s) => [key(s), s]));
    const podsByName = new Map(pods.map((p) => [key(p), p]));
    for (const slice of ofKind(docs, 'EndpointSlice')) {
      const svc = services.get(
        `${slice.metadata.namespace}/${slice.metadata.labels['kubernetes.io/service-name']}`,
      );
      expect(slice.metadata.ownerReferences[0].uid).toBe(svc.metadata.uid);
      const selected = pods.filter(
        (p) =>
          p.metadata.namespace === slice.metadata.namespace &&
          selects(svc.spec.selector, p.metadata.labels),
      );
      expect(slice.endpoints).toHaveLength(selected.length);
      for (const ep of slice.endpoints) {
        const pod = podsByName.get(`${ep.targetRef.namespace}/${ep.targetRef.name}`);
        expect(ep.targetRef.uid).toBe(pod.metadata.uid);
        expect(ep.addresses).toEqual([pod.status.podIP]);
        expect(ep.conditions.ready).toBe(podReady(pod));
      }
    }
  });

  it('has every ExternalSecret target written by ESO and owned by that ExternalSecret', () => {
    const secrets = new Map(ofKind(docs, 'Secret').map((s) => [key(s), s]));
    for (const es of ofKind(docs, 'ExternalSecret')) {
      const secret = secrets.get(`${es.metadata.namespace}/${es.spec.target.name}`);
      // creationPolicy Orphan: ESO writes the Secret but never owns it.
      if (es.spec.target.creationPolicy === 'Orphan') {
        expect(secret.metadata.ownerReferences ?? []).toEqual([]);
        continue;
      }
      expect(secret.metadata.ownerReferences[0]).toMatchObject({
        kind: 'ExternalSecret',
        name: es.metadata.name,
        uid: es.metadata.uid,
        controller: true,
      });
      expect(secret.metadata.managedFields[0].manager).toBe(
        `externalsecrets.external-secrets.io/${es.metadata.name}`,
      );
      // A failing ExternalSecret keeps the Secret of its last good sync, so only synced ones must match.
      if (es.status.conditions[0].status !== 'True') continue;
      expect(Object.keys(secret.stringData).sort()).toEqual(
        es.spec.data.map((d: Raw) => d.secretKey).sort(),
      );
    }
  });
});

describe('field-report fixture', () => {
  const s = fixtureSnapshot('field-report');

  it('has the sidecar reference the Secret go-secrets, which does not exist', () => {
    const lookup = s.kube.secrets.find((l) => l.namespace === 'golang' && l.name === 'go-secrets');
    expect(lookup?.result.status).toBe('not-found');
    expect(lookup?.references).toContainEqual(
      expect.objectContaining({ via: 'env-secretKeyRef', key: 'token' }),
    );
  });

  it('has ESO write golang-secrets, with the current token', () => {
    const healthy = fixtureSnapshot('healthy');
    expect(
      digestsEqual(
        tokenDigest(s, 'golang', 'golang-secrets'),
        tokenDigest(healthy, 'datadog', 'datadog-secrets'),
      ),
    ).toBe(true);
  });

  it('differs from healthy only in the ref, the ClusterRole and what the kubelet made of the ref', () => {
    const healthy = new Map(manifests('healthy').map((d) => [`${d.kind}/${key(d)}`, d]));
    const changed = manifests('field-report')
      .filter((d) => JSON.stringify(d) !== JSON.stringify(healthy.get(`${d.kind}/${key(d)}`)))
      .map((d) => `${d.kind}/${key(d)}`)
      .sort();
    expect(changed).toEqual([
      'ClusterRole//datadog-agent-fargate',
      'Deployment/golang/golang-app',
      'EndpointSlice/golang/golang-app-5wd9c',
      'Pod/golang/golang-app-7d9f8b6c5-kx4wz',
    ]);
  });

  it('grants the app ServiceAccount everything of the Fargate agent role except endpoints', () => {
    const role = ofKind(manifests('field-report'), 'ClusterRole').find(
      (r) => r.metadata.name === 'datadog-agent-fargate',
    );
    const resources = role.rules.flatMap((r: Raw) => r.resources);
    expect(resources).not.toContain('endpoints');
    expect(resources).toEqual(expect.arrayContaining(['nodes', 'namespaces', 'nodes/proxy']));
  });
});

describe('healthy fixture', () => {
  const s = fixtureSnapshot('healthy');
  const docs = manifests('healthy');
  const collectedAt = Date.parse(DEFAULT_COLLECTED_AT);

  it('gives datadog/datadog-secrets and golang/golang-secrets the same token', () => {
    expect(
      digestsEqual(
        tokenDigest(s, 'datadog', 'datadog-secrets'),
        tokenDigest(s, 'golang', 'golang-secrets'),
      ),
    ).toBe(true);
  });

  it('resolves every secret the snapshot looked up, with every key referenced', () => {
    for (const lookup of s.kube.secrets) {
      expect([lookup.name, lookup.result.status]).toEqual([lookup.name, 'found']);
      if (lookup.result.status !== 'found') continue;
      for (const ref of lookup.references) {
        if (ref.key) expect(Object.keys(lookup.result.secret.data)).toContain(ref.key);
      }
    }
  });

  it('has every ExternalSecret Ready and refreshed within its 1h interval before collection', () => {
    for (const es of ofKind(docs, 'ExternalSecret')) {
      expect(es.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'True' });
      const age = collectedAt - Date.parse(es.status.refreshTime);
      expect(age).toBeGreaterThan(0);
      expect(age).toBeLessThan(60 * 60 * 1000);
    }
  });

  it('starts every pod that reads a synced secret after ESO last wrote it', () => {
    const written = new Map(
      ofKind(docs, 'Secret').map((sec) => [
        key(sec),
        Date.parse(sec.metadata.managedFields[0].time),
      ]),
    );
    for (const pod of ofKind(docs, 'Pod')) {
      const refs = pod.spec.containers.flatMap((c: Raw) =>
        (c.env ?? [])
          .filter((e: Raw) => e.valueFrom?.secretKeyRef)
          .map((e: Raw) => `${pod.metadata.namespace}/${e.valueFrom.secretKeyRef.name}`),
      );
      for (const ref of refs) {
        expect(Date.parse(pod.status.startTime)).toBeGreaterThan(written.get(ref)!);
      }
    }
  });
});

describe('token-stale fixture', () => {
  const s = fixtureSnapshot('token-stale');
  const healthy = fixtureSnapshot('healthy');

  it('gives datadog/datadog-secrets the current token and golang/golang-secrets another one', () => {
    const datadog = tokenDigest(s, 'datadog', 'datadog-secrets');
    const golang = tokenDigest(s, 'golang', 'golang-secrets');
    expect(digestsEqual(datadog, golang)).toBe(false);
    expect(digestsEqual(datadog, tokenDigest(healthy, 'datadog', 'datadog-secrets'))).toBe(true);
  });

  it('shows the golang ExternalSecret failing, last refreshed far beyond 2 x refreshInterval', () => {
    const es = ofKind(manifests('token-stale'), 'ExternalSecret').find(
      (e) => e.metadata.namespace === 'golang',
    );
    expect(es.status.conditions[0]).toMatchObject({ status: 'False', reason: 'SecretSyncedError' });
    const age = Date.parse(DEFAULT_COLLECTED_AT) - Date.parse(es.status.refreshTime);
    expect(age).toBeGreaterThan(2 * 60 * 60 * 1000);
  });

  it('restarted the Cluster Agent after ESO wrote the new token into datadog-secrets', () => {
    const docs = manifests('token-stale');
    const written = Date.parse(
      ofKind(docs, 'Secret').find((x) => x.metadata.name === 'datadog-secrets').metadata
        .managedFields[0].time,
    );
    for (const pod of ofKind(docs, 'Pod').filter((p) => p.metadata.namespace === 'datadog')) {
      expect(Date.parse(pod.status.startTime)).toBeGreaterThan(written);
    }
  });
});
