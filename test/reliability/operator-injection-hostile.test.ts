/**
 * A hostile DatadogAgent on an Operator install with sidecar injection, end to end through the test
 * API server, the real client, the checks and every renderer (table, JSON, markdown, SARIF, JUnit,
 * HTML, ASFF, email, SNS): the literal token in spec.global.clusterAgentToken and in the sidecar
 * profile, rendered by the Operator into the Cluster Agent's env and by the webhook into the
 * injected container, a megabyte of last-applied-configuration and control characters in the
 * DatadogAgent's name and annotations. The findings name the problems; no output holds the token
 * (the final canary search scans every rendering) or a control character.
 */
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { renderReport } from '../../lambda/report/index.js';
import { Book, faultCase, finalCanarySearch } from './book.js';
import { CANARIES } from './canary-needles.js';
import { auditCase } from './harness.js';

const book = new Book(import.meta.url);
finalCanarySearch(book);

const LITERAL = 'CANARY-dd-operator-literal-token-8e2c4a6b0d';
const API_KEY = 'CANARY-dd-api-key-4e5f6a7b8c9d0e1f2a3b';
const NAME = 'datadog\r\nSubject: all clear\u001b[2J\u202e\u0000-|x|';

function mutate(docs: Raw[]): Raw[] {
  const profiles = [
    {
      env: [
        { name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: LITERAL },
        { name: 'DD_API_KEY', value: API_KEY },
      ],
    },
  ];
  for (const d of docs) {
    if (d.kind === 'DatadogAgent') {
      d.metadata.name = NAME;
      d.metadata.annotations = {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
          metadata: { name: NAME, namespace: 'datadog' },
          spec: { ...d.spec, global: { ...d.spec.global, clusterAgentToken: LITERAL } },
          padding: 'p'.repeat(1024 * 1024),
        }),
        'example.com/note': `line\n${LITERAL}\u001b]0;pwned\u0007 ${'é'.repeat(50_000)}`,
      };
      d.spec.global.clusterAgentToken = LITERAL;
      d.spec.features.admissionController.agentSidecarInjection.profiles = profiles;
    }
    if (d.metadata?.namespace === 'datadog' && ['Deployment', 'Pod'].includes(d.kind)) {
      const spec = d.kind === 'Pod' ? d.spec : d.spec.template.spec;
      for (const c of spec.containers) {
        if (c.name !== 'cluster-agent') continue;
        for (const e of c.env) {
          if (e.name === 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES') {
            e.value = JSON.stringify(profiles);
          }
        }
      }
    }
    if (d.kind === 'Pod' && d.metadata.namespace === 'golang') {
      // The webhook applies the profile last: the literal values land in the pod spec.
      for (const c of d.spec.containers) {
        if (c.name !== 'datadog-agent-injected') continue;
        for (const e of c.env) {
          if (e.name === 'DD_CLUSTER_AGENT_AUTH_TOKEN') {
            delete e.valueFrom;
            e.value = LITERAL;
          }
          if (e.name === 'DD_API_KEY') {
            delete e.valueFrom;
            e.value = API_KEY;
          }
        }
      }
      d.metadata.annotations = {
        ...d.metadata.annotations,
        'internal.agent.datadoghq.com/sidecar-injection-error': `x\r\n${LITERAL}\u001b[2J`,
      };
    }
  }
  return docs;
}

describe('a hostile DatadogAgent with sidecar injection (fixture operator-injection)', () => {
  it('carries canaries the search knows', () => {
    for (const v of [LITERAL, API_KEY]) expect(CANARIES).toContain(v);
  });

  faultCase(
    book,
    'hostile',
    'reports the literal token in the DatadogAgent, the profile and the injected pod, and no rendering holds it',
    async (c) => {
      c.inject(5);
      const o = await auditCase(c, {
        fixture: 'operator-injection',
        name: 'hostile-dda-injection',
        manifests: mutate,
      });
      const fails = o.cluster.findings.filter((f) => f.status === 'FAIL');
      const ids = fails.map((f) => `${f.checkId} ${f.messageId ?? ''}`);
      expect(ids).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^operator-token-not-literal /),
          'injection-secret-ready profile-literal:DD_CLUSTER_AGENT_AUTH_TOKEN',
          'injection-secret-ready profile-literal:DD_API_KEY',
        ]),
      );
      for (const f of fails) {
        // eslint-disable-next-line no-control-regex
        expect(f.message).not.toMatch(/[\u0000\u001b\u202e]/);
        expect(f.message.length).toBeLessThan(4_000);
      }
      const md = renderReport(o.report, 'markdown', { showPass: true });
      // eslint-disable-next-line no-control-regex
      expect(md).not.toMatch(/[\u0000\u001b\u202e]/);
      expect(md).not.toContain('pppppppp');
    },
    60_000,
  );
});
