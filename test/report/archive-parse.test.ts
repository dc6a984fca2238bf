import { archiveBody, parseArchivedReport, toArchived } from '../../lambda/deliver/archive.js';
import { bodyBytesOf, clusterReport, fieldReportFindings, finding, RUN_ID } from './support.js';

const keepAll = () => true;
const failing = (f: { status?: unknown }) => f.status === 'FAIL' || f.status === 'ERROR';

/** What the incremental parse must give: JSON.parse, then the findings filtered. */
function expected(text: string, keep: (f: { status?: unknown }) => boolean): unknown {
  const whole = JSON.parse(text) as { findings?: unknown[] };
  if (Array.isArray(whole.findings)) {
    whole.findings = whole.findings.filter((f) => keep(f as { status?: unknown }));
  }
  return whole;
}

describe('parseArchivedReport', () => {
  const hostile = [
    ...fieldReportFindings(),
    finding({
      status: 'PASS',
      message: 'brackets ] } [ { , : and "quotes" and \\ backslashes \\" and ünïcödé ✓ 𝄞',
    }),
    finding({ status: 'FAIL', message: 'a "findings": [ key inside a string ]' }),
    finding({ status: 'PASS', message: 'a "quoted ] , } part" and "], {"' }),
    finding({ status: 'FAIL', message: 'ends with a backslash \\' }),
  ];

  it('equals JSON.parse of the archived body, whole or with only the failing findings', async () => {
    const body = await bodyBytesOf(
      archiveBody(
        toArchived(clusterReport(hostile), { runId: RUN_ID, trigger: 'scheduled' }, undefined),
      ),
    );
    for (const keep of [keepAll, failing]) {
      expect(parseArchivedReport(body, keep)).toEqual(expected(body.toString('utf8'), keep));
    }
    const kept = parseArchivedReport(body, failing) as { findings: { status: string }[] };
    expect(kept.findings.length).toBeGreaterThan(0);
    expect(kept.findings.every((f) => f.status !== 'PASS')).toBe(true);
  });

  it.each([
    ['pretty-printed, findings not first', (o: object) => JSON.stringify(o, null, 2)],
    ['compact', (o: object) => JSON.stringify(o)],
  ])('handles any JSON layout: %s', (_name, render) => {
    const report = {
      name: 'c',
      nested: { findings: [{ status: 'PASS', id: 'not the report findings' }] },
      findings: [
        { id: 'a', status: 'PASS', message: '[}]' },
        { id: 'b', status: 'FAIL', message: '\\"' },
        { id: 'c', status: 'ERROR', list: [1, [2, { x: ']' }]] },
        { id: 'd', evidence: { status: 'FAIL' }, status: 'PASS' },
        { id: 'e', status: 'FAIL', evidence: { status: 'PASS' } },
        { id: 'f', status: 7 },
        { id: 'g', status: { nested: 'PASS' } },
        'not an object',
      ],
      after: ['x', { findings: 'no' }],
    };
    const text = render(report);
    for (const keep of [keepAll, failing]) {
      expect(parseArchivedReport(Buffer.from(text), keep)).toEqual(expected(text, keep));
    }
  });

  it('reads an escaped status as JSON does, and never parses a finding whose status it refuses', () => {
    const text =
      '{"name":"c","findings":[{"id":"h","status":"PA\\u0053S"},{"id":"i","status":"FA\\u0049L"},' +
      '{"id":"j","status":"PASS","message":"x"},{"id":"k", "status" : "FAIL"}]}';
    const asked: unknown[] = [];
    const spy = (f: { status?: unknown }) => {
      asked.push(f);
      return failing(f);
    };
    expect(parseArchivedReport(Buffer.from(text), spy)).toEqual(expected(text, failing));
    // j was refused from its status alone: never parsed, so never asked about whole.
    expect(asked.some((f) => (f as { id?: string }).id === 'j')).toBe(false);
    expect(asked).toContainEqual({ status: 'PASS' });
  });

  it('handles an empty findings array and a report without one', () => {
    for (const text of ['{"findings":[],"name":"c"}', '{"findings": [ ] }', '{"name":"c"}']) {
      expect(parseArchivedReport(Buffer.from(text), keepAll)).toEqual(JSON.parse(text));
    }
  });

  it('throws a SyntaxError on invalid JSON, as JSON.parse does', () => {
    for (const text of ['{"findings":[{"id":"a",}]}', '{"findings":[', 'not json', '']) {
      expect(() => parseArchivedReport(Buffer.from(text), keepAll)).toThrow(SyntaxError);
    }
  });
});
