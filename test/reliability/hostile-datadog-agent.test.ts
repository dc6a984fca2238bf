/**
 * A hostile DatadogAgent, end to end through the test API server, the real client, the converter,
 * the checks, every renderer and a whole Lambda invocation (archive and alert): a literal token in
 * spec.global.clusterAgentToken, the generated token in its status, a literal API key, the token
 * repeated in a megabyte of kubectl last-applied-configuration and in a sidecar profile, and
 * control characters in its name. The canary search (book.ts, canary-needles.js) covers every
 * output; the token must be reported as present, never shown.
 */
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { renderReport } from '../../lambda/report/index.js';
import { Book, faultCase, finalCanarySearch } from './book.js';
import { FIXTURES_DIR, loadManifests, snapshotFromManifests } from '../support/snapshot-builder.js';
import { CANARIES, needlesFor } from './canary-needles.js';
import { auditCase, handlerCase } from './harness.js';

const book = new Book(import.meta.url);
finalCanarySearch(book);

const LITERAL = 'CANARY-dd-operator-literal-token-8e2c4a6b0d';
const GENERATED = 'CANARY-dd-operator-generated-token-5d7f9b1c3e';
const API_KEY = 'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b';
const NAME = 'datadog\r\nSubject: all clear\u001b[2J\u202e\u0000-|x|';

/** The operator-literal fixture's DatadogAgent, made as hostile as an editor of it can. */
function mutate(docs: Raw[]): Raw[] {
  for (const d of docs) {
    if (d.kind !== 'DatadogAgent') continue;
    const spec = d.spec;
    d.metadata.name = NAME;
    d.metadata.labels = { 'example.com/evil': 'x'.repeat(63) };
    d.metadata.annotations = {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
        apiVersion: d.apiVersion,
        kind: d.kind,
        metadata: { name: NAME, namespace: 'datadog' },
        spec,
        padding: 'p'.repeat(1024 * 1024),
      }),
      'example.com/note': `line\n${LITERAL}\u001b]0;pwned\u0007 ${'é'.repeat(50_000)}`,
    };
    spec.global.clusterAgentToken = LITERAL;
    spec.global.credentials = { apiKey: API_KEY, appSecret: { secretName: 'datadog-secrets' } };
    spec.features.admissionController.agentSidecarInjection = {
      enabled: true,
      provider: 'fargate',
      profiles: [{ env: [{ name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: LITERAL }] }],
    };
    d.status.clusterAgent.generatedToken = GENERATED;
  }
  return docs;
}

describe('a hostile DatadogAgent', () => {
  it('carries canaries the search knows', () => {
    for (const v of [LITERAL, GENERATED, API_KEY]) expect(CANARIES).toContain(v);
  });

  it('reaches the checks without its secrets or annotations: only digests and lengths', () => {
    const snapshot = snapshotFromManifests(
      mutate(loadManifests(`${FIXTURES_DIR}operator-literal`)),
    );
    const json = JSON.stringify(snapshot);
    for (const secret of [LITERAL, GENERATED, API_KEY]) {
      // Digests are how the snapshot compares secrets; every other form of the value is a leak.
      for (const [form, needle] of needlesFor(secret).filter(([f]) => f !== 'sha256'))
        expect([form, json.includes(needle)]).toEqual([form, false]);
    }
    expect(json).not.toContain('pppppppp');
    const dda =
      snapshot.kube.datadogAgents.status === 'ok' ? snapshot.kube.datadogAgents.value : [];
    expect(dda.map((d) => d.meta.annotations)).toEqual([{}]);
  });

  faultCase(
    book,
    'hostile',
    'is judged (literal token FAIL, named with its control characters made visible) and no output holds any of its secrets',
    async (c) => {
      c.inject(4);
      const o = await auditCase(c, {
        fixture: 'operator-literal',
        name: 'hostile-dda',
        manifests: mutate,
      });
      const literal = o.cluster.findings.filter(
        (f) => f.checkId === 'operator-token-not-literal' && f.status === 'FAIL',
      );
      expect(literal).toHaveLength(1);
      expect(literal[0]!.resource).toEqual({
        kind: 'DatadogAgent',
        namespace: 'datadog',
        name: NAME,
      });
      expect(literal[0]!.message).toContain(`(${LITERAL.length} bytes; the value is not shown)`);
      expect(literal[0]!.message).not.toContain(NAME);
      const md = renderReport(o.report, 'markdown', { showPass: true });
      // eslint-disable-next-line no-control-regex
      expect(md).not.toMatch(/[\u0000\u001b\u202e]/);
    },
    60_000,
  );

  faultCase(
    book,
    'hostile',
    'leaks nothing through a whole invocation: the archived report and the published alert',
    async (c) => {
      c.inject(2);
      const h = await handlerCase(c, {
        clusters: [{ fixture: 'operator-literal', name: 'hostile-dda', manifests: mutate }],
      });
      expect(h.error).toBeUndefined();
      expect(h.published).toHaveLength(1);
      expect(h.published[0]!.Subject).toMatch(/^[\x20-\x7e]+$/);
      expect(h.objects.size).toBeGreaterThan(0);
    },
    60_000,
  );
});
