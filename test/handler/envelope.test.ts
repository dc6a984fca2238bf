import { parseEvent } from '../../lambda/run/events.js';
import { harness } from './support.js';

const envelope = {
  version: '0',
  id: 'e1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-24T02:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: {},
};

describe('parseEvent: scheduled envelopes carrying on-demand fields', () => {
  it.each([
    {
      name: 'dryRun at the top level makes it an on-demand dry run',
      event: { ...envelope, dryRun: true },
      expected: { ok: true, trigger: 'on-demand', event: { dryRun: true } },
    },
    {
      name: 'fields in detail (an EventBridge rule input) make it an on-demand run',
      event: { ...envelope, detail: { clusters: ['payments'], notify: 'never' } },
      expected: {
        ok: true,
        trigger: 'on-demand',
        event: { clusters: ['payments'], notify: 'never' },
      },
    },
    {
      name: 'a Scheduler envelope with dryRun',
      event: { source: 'aws.scheduler', dryRun: true },
      expected: { ok: true, trigger: 'on-demand', event: { dryRun: true } },
    },
    {
      name: 'without on-demand fields it stays a scheduled run',
      event: envelope,
      expected: { ok: true, trigger: 'scheduled', event: {} },
    },
  ])('$name', ({ event, expected }) => {
    expect(parseEvent(event)).toEqual(expected);
  });

  it.each([
    {
      name: 'an invalid on-demand field is refused, saying why',
      event: { ...envelope, dryRun: 'yes' },
      issue: /^dryRun: must be true or false \(in a scheduled envelope/,
    },
    {
      name: 'fields in both places are refused as ambiguous',
      event: { ...envelope, dryRun: true, detail: { notify: 'never' } },
      issue: /ambiguous/,
    },
  ])('$name', ({ event, issue }) => {
    const parsed = parseEvent(event);
    expect(parsed.ok).toBe(false);
    expect((parsed as { issues: string[] }).issues[0]).toMatch(issue);
  });

  it('never runs a publishing audit for an envelope that asked for a dry run', async () => {
    const h = harness();
    const result = await h.handler({ ...envelope, dryRun: true });
    expect(result).toMatchObject({ ok: true, trigger: 'on-demand', dryRun: true, published: 0 });
    expect(h.snsMock.calls()).toHaveLength(0);
    expect([...h.bucket.objects.keys()]).toEqual([]);
  });
});
