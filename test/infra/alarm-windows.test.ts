import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { longestGapMinutes, noSuccessWindow } from '../../infra/schedule-window.js';
import { synth } from './support.js';

describe('the no-successful-audit window follows the schedule', () => {
  it.each([
    { expression: 'cron(0 2 * * ? *)', timezone: 'UTC', gap: 1440, hours: 26 },
    { expression: 'rate(6 hours)', timezone: 'UTC', gap: 360, hours: 8 },
    { expression: 'rate(1 day)', timezone: 'UTC', gap: 1440, hours: 26 },
    { expression: 'cron(0/30 * * * ? *)', timezone: 'UTC', gap: 30, hours: 3 },
    // Friday to Monday is the longest gap of a weekday schedule.
    { expression: 'cron(30 6 ? * MON-FRI *)', timezone: 'Europe/Paris', gap: 3 * 1440, hours: 75 },
    { expression: 'cron(0 2 ? * MON,THU *)', timezone: 'UTC', gap: 4 * 1440, hours: 98 },
    { expression: 'cron(0 3 1,15 * ? *)', timezone: 'UTC', gap: 17 * 1440, hours: undefined },
    { expression: 'cron(0 2 ? * SUN *)', timezone: 'UTC', gap: 7 * 1440, hours: undefined },
    { expression: 'rate(7 days)', timezone: 'UTC', gap: 7 * 1440, hours: undefined },
  ])('$expression ($timezone): longest gap $gap minutes, window $hours hours', (c) => {
    expect(longestGapMinutes(c.expression)).toBe(c.gap);
    expect(noSuccessWindow(c.expression, c.timezone).hours).toBe(c.hours);
  });

  it.each(['at(2026-12-24T02:00:00)', 'cron(0 2 L * ? *)', 'cron(0 2 ? * 2#1 *)'])(
    'gives no window for %s, saying why',
    (expression) => {
      const w = noSuccessWindow(expression);
      expect(w.hours).toBeUndefined();
      expect((w as { reason: string }).reason).toMatch(/one-time|L, W or #/);
    },
  );

  const alarmOf = (schedule: Record<string, unknown>) => {
    const s = synth({
      clusters: [{ name: 'prod' }],
      deploy: { schedule },
    });
    const alarms = Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'AuditsSucceeded',
    );
    return { s, alarm: alarms[0]?.Properties };
  };

  it('watches 26 hourly datapoints for the default daily schedule, silence breaching', () => {
    expect(alarmOf({}).alarm).toMatchObject({
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('watches 8 hours for a six-hourly schedule', () => {
    expect(alarmOf({ expression: 'rate(6 hours)' }).alarm).toMatchObject({
      EvaluationPeriods: 8,
      DatapointsToAlarm: 8,
    });
  });

  it('creates no alarm that would sit in ALARM between weekly runs, and warns at synth', () => {
    const { s, alarm } = alarmOf({ expression: 'cron(0 2 ? * SUN *)' });
    expect(alarm).toBeUndefined();
    Annotations.fromStack(s.stack).hasWarning(
      '*',
      Match.stringLikeRegexp(
        'No no-successful-audit alarm for schedule cron\\(0 2 \\? \\* SUN \\*\\)',
      ),
    );
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
  });
});
