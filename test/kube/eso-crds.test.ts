/**
 * External Secrets Operator's own CRDs (../shared/vendor/external-secrets beside the checkout, unchanged; sources in
 * test/fixtures/README.md) hold the objects this project writes by hand to their word: every ESO
 * object of the fixture clusters and of the test builders validates against its CRD's
 * openAPIV3Schema, and the test API server, given those CRDs, serves the ESO kinds at the versions
 * the CRDs serve, through the real client, for a current v1 release and the last v1beta1 one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { createKubePort } from '../../lambda/collect/kube/client.js';
import { collectKube } from '../../lambda/collect/kube/collect.js';
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { itemsOf } from '../../lambda/snapshot/snapshot.js';
import { startTestApiServer } from '../../lambda/run/demo/kube-api-server.js';
import {
  DEFAULT_SETTINGS,
  FIXTURES_DIR,
  loadManifests,
  snapshotFromManifests,
} from '../support/snapshot-builder.js';
import {
  cesChild,
  clusterExternalSecret,
  clusterPushSecret,
  clusterStore,
  cpsChild,
  kubernetesStore,
  pushSecret,
} from '../checks/copies/support.js';
import { externalSecret, secretStore } from '../checks/token/support.js';
import { generateCluster } from '../../bench/generate.js';
import { OPTIONS, rawGet, tokenAccess } from './support.js';
import { describeVendored, VENDOR_DIR, VENDOR_PRESENT } from '../support/vendored.js';

const VENDOR = join(VENDOR_DIR, 'external-secrets');
/** The current v1 release and the last release before v1 (0.16 added it; 0.17 stopped v1beta1). */
const RELEASES = ['v2.9.0', 'v0.15.1'] as const;
type Release = (typeof RELEASES)[number];

function crdsOf(release: Release): Raw[] {
  const dir = join(VENDOR, release);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8'))[0]!.toJS() as Raw);
}

/**
 * The API server with `fieldValidation=Strict` (kubectl's default since 1.27 warns, `--validate
 * =strict` refuses): a field the schema does not declare is an error, unless the schema keeps
 * unknown fields. Adapted here, in test code: the vendored schema stays as ESO wrote it.
 */
function strict(schema: Raw): Raw {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Raw = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, strict(v)]));
  if (
    out.type === 'object' &&
    out.properties &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  // `x-kubernetes-int-or-string` fields carry no type; the API server accepts either.
  if (out['x-kubernetes-int-or-string'] === true) {
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  return out;
}

/**
 * `external-secrets.io/v1 ExternalSecret` -> its validator, for every served version of a
 * release; compiled on first use (the stores' schemas are large: every provider).
 */
function validators(release: Release): Map<string, () => ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const out = new Map<string, () => ValidateFunction>();
  for (const crd of crdsOf(release)) {
    for (const v of crd.spec.versions) {
      if (!v.served) continue;
      let compiled: ValidateFunction | undefined;
      out.set(
        `${crd.spec.group}/${v.name} ${crd.spec.names.kind}`,
        () => (compiled ??= ajv.compile(strict(v.schema.openAPIV3Schema))),
      );
    }
  }
  return out;
}

// Built only where the vendored CRDs are present (the blocks below are skipped otherwise).
const BY_RELEASE = new Map(VENDOR_PRESENT ? RELEASES.map((r) => [r, validators(r)]) : []);

/** The release whose CRDs serve `apiVersion`: v1beta1 objects are the older release's. */
function releaseFor(apiVersion: string): Release {
  return apiVersion === 'external-secrets.io/v1beta1' ? 'v0.15.1' : 'v2.9.0';
}

function problems(obj: Raw): string[] {
  const apiVersion = String(obj.apiVersion);
  const key = `${apiVersion} ${String(obj.kind)}`;
  const compile = BY_RELEASE.get(releaseFor(apiVersion))!.get(key);
  if (!compile) return [`${key} is served by neither release's CRDs`];
  const validate = compile();
  if (validate(obj)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}

const isEso = (d: Raw) => String(d?.apiVersion ?? '').startsWith('external-secrets.io/');

const FIXTURE_OBJECTS: [string, Raw][] = readdirSync(FIXTURES_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    loadManifests(join(FIXTURES_DIR, d.name))
      .filter(isEso)
      .map((m): [string, Raw] => [
        `${d.name}: ${m.kind} ${m.metadata?.namespace ?? ''}/${m.metadata?.name}`,
        m,
      ]),
  );

describeVendored("ESO's vendored CRDs", () => {
  it('are the releases test/fixtures/README.md names, unchanged (their served versions)', () => {
    const served = (r: Release) =>
      crdsOf(r)
        .map(
          (c) =>
            `${c.spec.names.kind} ${c.spec.versions
              .filter((v: Raw) => v.served)
              .map((v: Raw) => v.name)
              .join(',')}`,
        )
        .sort();
    expect(served('v2.9.0')).toEqual([
      'ClusterExternalSecret v1',
      'ClusterPushSecret v1alpha1',
      'ClusterSecretStore v1',
      'ExternalSecret v1',
      'PushSecret v1alpha1',
      'SecretStore v1',
    ]);
    expect(served('v0.15.1')).toEqual([
      'ClusterExternalSecret v1beta1',
      'ClusterPushSecret v1alpha1',
      'ClusterSecretStore v1alpha1,v1beta1',
      'ExternalSecret v1alpha1,v1beta1',
      'PushSecret v1alpha1',
      'SecretStore v1alpha1,v1beta1',
    ]);
  });

  it('refuse a field their schema does not declare (the strict validation is not a no-op)', () => {
    const es = externalSecret('golang', 'golang-secrets');
    expect(problems(es)).toEqual([]);
    expect(problems({ ...es, spec: { ...es.spec, refreshEvery: '1h' } })).toEqual([
      expect.stringContaining('must NOT have additional properties'),
    ]);
    expect(problems({ ...es, apiVersion: 'external-secrets.io/v1beta1' })).toEqual([]);
    expect(problems({ ...es, apiVersion: 'external-secrets.io/v2' })).toEqual([
      "external-secrets.io/v2 ExternalSecret is served by neither release's CRDs",
    ]);
  });
});

describeVendored('every ESO object of the fixture clusters validates against its CRD', () => {
  it('finds ESO objects in the fixtures', () => {
    expect(FIXTURE_OBJECTS.length).toBeGreaterThan(10);
  });
  it.each(FIXTURE_OBJECTS)('%s', (_name, obj) => {
    expect(problems(obj)).toEqual([]);
  });
});

describeVendored('every ESO object of the benchmark cluster validates against its CRD', () => {
  // Ten namespaces hold every shape the generator writes (broken ones included).
  const objects = generateCluster(10)
    .manifests.filter(isEso)
    .map((m): [string, Raw] => [`${m.kind} ${m.metadata?.namespace ?? ''}/${m.metadata?.name}`, m]);
  it.each(objects)('%s', (_name, obj) => {
    expect(problems(obj)).toEqual([]);
  });
  it('writes ESO objects', () => {
    expect(objects.length).toBeGreaterThan(10);
  });
});

describeVendored('every ESO object the test builders write validates against its CRD', () => {
  const parent = clusterPushSecret('backup-token', {
    secret: 'datadog-secret',
    secretKey: 'token',
    remoteKey: 'datadog/cluster-agent-token',
    provisioned: ['shop'],
  });
  const built: [string, Raw][] = [
    ['ExternalSecret', externalSecret('golang', 'golang-secrets')],
    [
      'ClusterExternalSecret with a pinned version',
      clusterExternalSecret('pinned', {
        data: [{ secretKey: 'token', key: 'datadog/cluster-agent-token', version: 'AWSPREVIOUS' }],
        refreshPolicy: 'Periodic',
      }),
    ],
    ['SecretStore', secretStore('golang', 'golang')],
    [
      'ClusterExternalSecret',
      clusterExternalSecret('datadog-secret', {
        provisioned: ['shop'],
        failed: [{ namespace: 'payments', reason: 'exists' }],
      }),
    ],
    ['ClusterExternalSecret child', cesChild('shop', 'datadog-secret')],
    ['ClusterSecretStore (aws)', clusterStore('aws-secrets-manager')],
    ['ClusterSecretStore (kubernetes)', kubernetesStore('datadog-namespace', 'datadog')],
    [
      'PushSecret',
      pushSecret('datadog', 'push', {
        secret: 'datadog-secrets',
        secretKey: 'token',
        remoteKey: 'datadog/cluster-agent-token',
      }),
    ],
    ['ClusterPushSecret', parent],
    ['ClusterPushSecret child', cpsChild('shop', parent)],
  ];
  it.each(built)('%s', (_name, obj) => {
    expect(problems(obj)).toEqual([]);
  });
});

/** The copies-healthy fixture as a cluster running `release` would store it. */
function clusterOn(release: Release): Raw[] {
  const docs = loadManifests(join(FIXTURES_DIR, 'copies-healthy'));
  if (release === 'v2.9.0') return docs;
  return docs.map((d) =>
    d.apiVersion === 'external-secrets.io/v1'
      ? { ...d, apiVersion: 'external-secrets.io/v1beta1' }
      : d,
  );
}

describeVendored(
  'the test API server serves the ESO kinds as the vendored CRDs say, through the real client',
  () => {
    it.each([
      { release: 'v2.9.0' as const, esVersion: 'v1', unserved: 'v1beta1' },
      { release: 'v0.15.1' as const, esVersion: 'v1beta1', unserved: 'v1' },
    ])(
      'ESO $release: ExternalSecrets at $esVersion only, PushSecrets at v1alpha1, the rest collected',
      async ({ release, esVersion, unserved }) => {
        const manifests = clusterOn(release);
        const server = await startTestApiServer({
          manifests,
          customResourceDefinitions: crdsOf(release),
          crds: ['vpcresources.k8s.aws/v1beta1', 'datadoghq.com/v2alpha1'],
        });
        const port = createKubePort(tokenAccess(server), OPTIONS);
        try {
          const kube = await collectKube(port, DEFAULT_SETTINGS, OPTIONS);
          const group = '/apis/external-secrets.io';
          const answered = (path: string) =>
            server.requests.filter((r) => r.path === path).map((r) => r.status);
          expect(answered(`${group}/${esVersion}/externalsecrets`)).toContain(200);
          if (release === 'v2.9.0') {
            // The collector asks v1 first and never needs the fallback.
            expect(answered(`${group}/${unserved}/externalsecrets`)).toEqual([]);
          } else {
            expect(answered(`${group}/${unserved}/externalsecrets`)).toEqual([404]);
          }
          expect(answered(`${group}/v1alpha1/pushsecrets`)).toEqual([200]);
          expect(answered(`${group}/v1alpha1/clusterpushsecrets`)).toEqual([200]);

          const esos = itemsOf(kube.externalSecrets);
          expect(esos.length).toBeGreaterThan(3);
          expect(new Set(esos.map((e) => e.apiVersion))).toEqual(
            new Set([`external-secrets.io/${esVersion}`]),
          );
          for (const key of [
            'secretStores',
            'clusterSecretStores',
            'clusterExternalSecrets',
            'pushSecrets',
            'clusterPushSecrets',
          ] as const) {
            expect(kube[key]).toMatchObject({ status: 'ok' });
          }
          // What the collector read through the real client is what the fixture says.
          const built = snapshotFromManifests(manifests).kube;
          const names = (xs: { meta: { namespace?: string; name: string } }[]) =>
            xs.map((x) => `${x.meta.namespace ?? ''}/${x.meta.name}`).sort();
          expect(names(esos)).toEqual(names(itemsOf(built.externalSecrets)));
          expect(names(itemsOf(kube.clusterExternalSecrets!))).toEqual(
            names(itemsOf(built.clusterExternalSecrets!)),
          );
          expect(names(itemsOf(kube.pushSecrets!))).toEqual(names(itemsOf(built.pushSecrets!)));
          expect(itemsOf(kube.clusterExternalSecrets!)[0]!.status.provisionedNamespaces).toEqual(
            itemsOf(built.clusterExternalSecrets!)[0]!.status.provisionedNamespaces,
          );
        } finally {
          await port.close();
          await server.close();
        }
      },
    );

    it('serves no ESO kind at a version its CRD does not serve (a 404, as a real API server)', async () => {
      const server = await startTestApiServer({
        manifests: clusterOn('v2.9.0'),
        customResourceDefinitions: crdsOf('v2.9.0'),
      });
      try {
        expect(
          (await rawGet(server, '/apis/external-secrets.io/v1beta1/externalsecrets')).status,
        ).toBe(404);
        expect((await rawGet(server, '/apis/external-secrets.io/v1/pushsecrets')).status).toBe(404);
        expect((await rawGet(server, '/apis/external-secrets.io/v1/externalsecrets')).status).toBe(
          200,
        );
      } finally {
        await server.close();
      }
    });

    it('refuses to store an object at a version its CRD does not serve', async () => {
      await expect(
        startTestApiServer({
          manifests: clusterOn('v0.15.1').map((d) =>
            d.kind === 'ClusterExternalSecret' ? { ...d, apiVersion: 'external-secrets.io/v1' } : d,
          ),
          customResourceDefinitions: crdsOf('v0.15.1'),
        }),
      ).rejects.toThrow(/does not serve/);
    });
  },
);
