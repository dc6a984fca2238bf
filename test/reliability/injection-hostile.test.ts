/**
 * Hostile and secret-bearing input in an admission-injection cluster, end to end: a sidecar profile
 * carrying the Cluster Agent token in plain text, and injection annotations with control characters
 * and a very large value. The findings must name the problems without the token (the final canary
 * search scans every rendering), and no control character may reach a rendered line.
 */
import type { Raw } from '../../lambda/collect/kube/raw.js';
import { Book, faultCase, finalCanarySearch } from './book.js';
import { CANARIES } from './canary-needles.js';
import { auditCase } from './harness.js';

const book = new Book(import.meta.url);
finalCanarySearch(book);

const TOKEN = CANARIES[0]!;
const HOSTILE_REASON = `secret_not_found\r\nBcc: x@evil.example\u001b[2J\u009b31m\u202e${'A'.repeat(70_000)}`;

function mutate(docs: Raw[]): Raw[] {
  return docs.map((d) => {
    if (d.metadata?.namespace === 'datadog' && ['Deployment', 'Pod'].includes(d.kind)) {
      const copy = structuredClone(d);
      const spec = d.kind === 'Pod' ? copy.spec : copy.spec.template.spec;
      for (const c of spec.containers) {
        if (c.name !== 'cluster-agent') continue;
        c.env.push({
          name: 'DD_ADMISSION_CONTROLLER_AGENT_SIDECAR_PROFILES',
          value: JSON.stringify([{ env: [{ name: 'DD_CLUSTER_AGENT_AUTH_TOKEN', value: TOKEN }] }]),
        });
      }
      return copy;
    }
    if (d.kind === 'Pod' && d.metadata.namespace === 'payments') {
      const copy = structuredClone(d);
      copy.metadata.annotations['internal.agent.datadoghq.com/sidecar-injection-error'] =
        HOSTILE_REASON;
      return copy;
    }
    return d;
  });
}

describe('hostile input in an admission-injection cluster', () => {
  faultCase(
    book,
    'hostile',
    'a literal token in the sidecar profile and a hostile skip reason are reported without the token or a control character',
    async (c) => {
      c.inject(2);
      const o = await auditCase(c, {
        fixture: 'injection-broken',
        name: 'injection-hostile',
        manifests: mutate,
      });
      const fails = o.cluster.findings.filter((f) => f.status === 'FAIL');
      const literal = fails.find(
        (f) => f.messageId === 'profile-literal:DD_CLUSTER_AGENT_AUTH_TOKEN',
      );
      expect(literal).toBeDefined();
      expect(literal!.message).toContain('value not shown');
      const skipped = fails.find((f) => f.checkId === 'injection-status-annotations')!;
      expect(skipped.messageId).toBe('skipped:other');
      expect(skipped.message.length).toBeLessThan(1_000);
      // eslint-disable-next-line no-control-regex
      expect(skipped.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
      expect(JSON.stringify(o.report)).not.toContain(TOKEN);
    },
  );
});
