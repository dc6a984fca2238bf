/**
 * How long the no-successful-audit alarm may wait: the longest gap between two runs of the
 * schedule, plus time for the run itself and its metrics to land. A fixed 26 hours suits a daily
 * schedule only: a weekly one would sit in ALARM six days a week.
 *
 * CloudWatch evaluates at most 7 days (Period x EvaluationPeriods <= 604,800 s). A schedule whose
 * gap plus grace does not fit (weekly or rarer, one-time `at()`, cron features not modelled here)
 * gets no such alarm: the function-error, dead-letter and audit-incomplete alarms still watch it.
 */

/** Added to the longest gap: the run (at most the function timeout) and EMF delivery. */
export const GRACE_HOURS = 2;
/** CloudWatch's longest alarm evaluation range, in hours. */
export const MAX_WINDOW_HOURS = 168;

export type AlarmWindow = { hours: number } | { hours: undefined; reason: string };

/**
 * The alarm window for an EventBridge Scheduler expression, in whole hours, or why there is none.
 * Non-UTC time zones get an extra hour for daylight-saving shifts.
 */
export function noSuccessWindow(expression: string, timezone = 'UTC'): AlarmWindow {
  const gap = longestGapMinutes(expression);
  if (typeof gap === 'string') return { hours: undefined, reason: gap };
  const hours = Math.ceil(gap / 60) + GRACE_HOURS + (timezone === 'UTC' ? 0 : 1);
  if (hours > MAX_WINDOW_HOURS) {
    return {
      hours: undefined,
      reason: `runs can be ${formatGap(gap)} apart, and with ${GRACE_HOURS} hours of grace that is longer than the 7 days a CloudWatch alarm can look back`,
    };
  }
  return { hours };
}

function formatGap(minutes: number): string {
  return minutes % 1440 === 0 ? `${minutes / 1440} days` : `${Math.round(minutes / 60)} hours`;
}

const UNIT_MINUTES: Record<string, number> = {
  minute: 1,
  minutes: 1,
  hour: 60,
  hours: 60,
  day: 1440,
  days: 1440,
};

/** Longest gap between runs in minutes, or why it cannot be known. */
export function longestGapMinutes(expression: string): number | string {
  const rate = /^rate\((\d+) (\w+)\)$/.exec(expression);
  if (rate) return Number(rate[1]) * (UNIT_MINUTES[rate[2]!] ?? NaN);
  if (/^at\(/.test(expression)) return 'a one-time at() schedule does not repeat';
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron) return `"${expression}" is not a schedule expression`;
  const fields = cron[1]!.trim().split(/\s+/);
  if (fields.length !== 6) return `"${expression}" does not have six cron fields`;
  if (fields.some((f) => /[LW#]/.test(f))) {
    return `"${expression}" uses L, W or #, whose gaps are not computed here`;
  }
  const [min, hour, dom, month, dow, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const minutes = values(min, 0, 59);
  const hours = values(hour, 0, 23);
  const days = dom === '?' ? undefined : values(dom, 1, 31);
  const months = values(month, 1, 12, MONTHS);
  // AWS cron: 1-7 = SUN-SAT.
  const weekdays = dow === '?' ? undefined : values(dow, 1, 7, WEEKDAYS);
  const years = year === '*' ? undefined : values(year, 1970, 2199);
  if ([minutes, hours, days, months, weekdays].some((v) => v === null) || years === null) {
    return `"${expression}" has a cron field not understood here`;
  }
  // Two years from a fixed start: every weekday/month combination repeats within that span.
  const start = Date.UTC(2026, 0, 1);
  let last: number | undefined;
  let first: number | undefined;
  let longest = 0;
  for (let d = 0; d < 731; d++) {
    const day = new Date(start + d * 86_400_000);
    if (years && !years.has(day.getUTCFullYear())) continue;
    if (!months!.has(day.getUTCMonth() + 1)) continue;
    if (days && !days.has(day.getUTCDate())) continue;
    if (weekdays && !weekdays.has(day.getUTCDay() + 1)) continue;
    for (const h of [...hours!].sort((a, b) => a - b)) {
      for (const m of [...minutes!].sort((a, b) => a - b)) {
        const t = d * 1440 + h * 60 + m;
        if (last !== undefined) longest = Math.max(longest, t - last);
        first ??= t;
        last = t;
      }
    }
  }
  if (first === undefined || first === last) return `"${expression}" runs at most once`;
  return longest;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The values of one cron field (`*`, lists, ranges, steps, names), or null when not understood. */
function values(field: string, lo: number, hi: number, names?: string[]): Set<number> | null {
  const out = new Set<number>();
  const num = (s: string): number => {
    const i = names?.indexOf(s.toUpperCase()) ?? -1;
    return i >= 0 ? i + lo : Number(s);
  };
  for (const part of field.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) return null;
    const step = m[2] ? Number(m[2]) : 1;
    let from: number;
    let to: number;
    if (m[1] === '*') {
      from = lo;
      to = hi;
    } else {
      const [a, b] = m[1]!.split('-');
      from = num(a!);
      to = b !== undefined ? num(b) : m[2] ? hi : from;
    }
    if (![from, to, step].every(Number.isInteger) || from < lo || to > hi || step < 1) return null;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}
