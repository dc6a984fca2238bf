/**
 * ESO `spec.syncWindows` (2.7+): how much of the time an ExternalSecret's periodic refresh is
 * blocked. Semantics follow external-secrets `pkg/controllers/externalsecret` (syncwindow_test.go)
 * and `docs/api/spec.md`: schedules are 5-field cron (robfig/cron standard parser, UTC) or a
 * descriptor (`@daily`, `@every 1h`); a window is open from each firing through firing + duration,
 * both ends included; `allow` permits refreshes only while a window is open, `deny` blocks them
 * while one is; an unparsable schedule never opens a window; an empty list or another kind
 * permits everything.
 *
 * The windows are laid over the 28 days after collection at minute resolution (40,320 minutes per
 * window, memoised per distinct syncWindows), which covers every daily and weekly pattern exactly
 * and monthly ones approximately.
 */
import type { SyncWindows } from '../../snapshot/snapshot.js';
import { formatDuration, parseGoDuration } from '../../snapshot/go-duration.js';

const MINUTE = 60_000;
export const HORIZON_MINUTES = 28 * 24 * 60;

/** Refreshes blocked more than this share of the time: "most refreshes" are blocked. */
export const MAX_BLOCKED_SHARE = 0.5;
/** A rotation waiting longer than this for a window is a missed day of data on every reader. */
export const MAX_BLOCKED_STRETCH_MS = 24 * 3_600_000;

interface CronFields {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  /** robfig: when either day field is `*` or `?`, both must match; otherwise either may. */
  domStar: boolean;
  dowStar: boolean;
}

export type Schedule =
  | { kind: 'cron'; fields: CronFields }
  | { kind: 'every'; everyMinutes: number }
  | { kind: 'invalid'; why: string };

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function parseValue(text: string, names: string[] | undefined, offset: number): number {
  const i = names ? names.indexOf(text.toLowerCase()) : -1;
  if (i >= 0) return i + offset;
  if (!/^\d+$/.test(text)) return NaN;
  return Number(text);
}

function parseField(
  text: string,
  min: number,
  max: number,
  names?: string[],
  offset = 0,
): { values: Set<number>; star: boolean } | undefined {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') return undefined;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) return undefined;
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
      if (stepText === undefined) star = true;
    } else {
      const [a, b, more] = range.split('-');
      if (more !== undefined) return undefined;
      lo = parseValue(a!, names, offset);
      // robfig: `N/step` runs from N to the field's maximum.
      hi = b !== undefined ? parseValue(b, names, offset) : stepText !== undefined ? max : lo;
    }
    if (Number.isNaN(lo) || Number.isNaN(hi) || lo < min || hi > max || lo > hi) return undefined;
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, star };
}

/** One schedule as ESO's parser reads it. */
export function parseSchedule(schedule: string): Schedule {
  const text = schedule.trim();
  if (text.startsWith('@every ')) {
    const ms = parseGoDuration(text.slice('@every '.length).trim());
    if (ms === undefined || ms <= 0) return { kind: 'invalid', why: 'not a Go duration' };
    return { kind: 'every', everyMinutes: Math.max(1, Math.round(ms / MINUTE)) };
  }
  const expr = DESCRIPTORS[text.toLowerCase()] ?? text;
  if (expr.startsWith('@')) return { kind: 'invalid', why: 'unknown descriptor' };
  const parts = expr.split(/\s+/);
  if (parts.length !== 5) return { kind: 'invalid', why: `${parts.length} fields, not 5` };
  const minute = parseField(parts[0]!, 0, 59);
  const hour = parseField(parts[1]!, 0, 23);
  const dom = parseField(parts[2]!, 1, 31);
  const month = parseField(parts[3]!, 1, 12, MONTHS, 1);
  const dow = parseField(parts[4]!, 0, 6, DAYS, 0);
  if (!minute || !hour || !dom || !month || !dow) {
    return { kind: 'invalid', why: 'a field is out of range or malformed' };
  }
  return {
    kind: 'cron',
    fields: {
      minute: minute.values,
      hour: hour.values,
      dom: dom.values,
      month: month.values,
      dow: dow.values,
      domStar: dom.star,
      dowStar: dow.star,
    },
  };
}

function fires(s: Schedule, epochMinute: number): boolean {
  if (s.kind === 'invalid') return false;
  // The phase of @every is when the controller first saw it; the share and the longest gap do
  // not depend on it.
  if (s.kind === 'every') return epochMinute % s.everyMinutes === 0;
  const d = new Date(epochMinute * MINUTE);
  const f = s.fields;
  if (!f.minute.has(d.getUTCMinutes()) || !f.hour.has(d.getUTCHours())) return false;
  if (!f.month.has(d.getUTCMonth() + 1)) return false;
  const domOk = f.dom.has(d.getUTCDate());
  const dowOk = f.dow.has(d.getUTCDay());
  return f.domStar || f.dowStar ? domOk && dowOk : domOk || dowOk;
}

export interface WindowsAnalysis {
  kind: 'allow' | 'deny' | 'ignored';
  /** Share of the 28 days in which a periodic refresh is blocked (0..1). */
  blockedShare: number;
  /** Longest continuous blocked stretch, in ms (28 days when always blocked). */
  longestBlockedMs: number;
  /** First minute of that stretch. */
  longestBlockedFrom?: string;
  /** Schedules ESO cannot parse: they never open a window. */
  invalid: { schedule: string; why: string }[];
}

const CACHE = new Map<string, WindowsAnalysis>();

/** How syncWindows restrict periodic refreshes over the 28 days from `from` (an ISO time). */
export function analyseSyncWindows(sw: SyncWindows, from: string): WindowsAnalysis {
  const start = Math.floor(Date.parse(from) / MINUTE);
  const key = `${Number.isNaN(start) ? 0 : start}|${JSON.stringify(sw)}`;
  let found = CACHE.get(key);
  if (!found) {
    found = analyse(sw, Number.isNaN(start) ? 0 : start);
    if (CACHE.size > 256) CACHE.clear();
    CACHE.set(key, found);
  }
  return found;
}

function analyse(sw: SyncWindows, start: number): WindowsAnalysis {
  const invalid: WindowsAnalysis['invalid'] = [];
  const kind = sw.kind === 'allow' || sw.kind === 'deny' ? sw.kind : 'ignored';
  if (kind === 'ignored' || sw.windows.length === 0) {
    return { kind: 'ignored', blockedShare: 0, longestBlockedMs: 0, invalid };
  }
  const n = HORIZON_MINUTES;
  const diff = new Int32Array(n + 1);
  for (const w of sw.windows) {
    const schedule = parseSchedule(w.schedule);
    const durMs = w.duration === undefined ? 0 : parseGoDuration(w.duration);
    if (schedule.kind === 'invalid' || durMs === undefined || durMs < 0) {
      invalid.push({
        schedule: w.schedule,
        why: schedule.kind === 'invalid' ? schedule.why : `duration "${w.duration}" is not valid`,
      });
      continue;
    }
    const dur = Math.min(n, Math.floor(durMs / MINUTE));
    // Firings up to `dur` before the horizon still hold a window open into it.
    for (let m = -dur; m < n; m++) {
      if (!fires(schedule, start + m)) continue;
      const a = Math.max(0, m);
      const b = Math.min(n - 1, m + dur);
      diff[a]! += 1;
      diff[b + 1]! -= 1;
    }
  }
  let open = 0;
  let blocked = 0;
  let run = 0;
  let best = 0;
  let bestFrom = -1;
  for (let m = 0; m < n; m++) {
    open += diff[m]!;
    const isBlocked = kind === 'deny' ? open > 0 : open <= 0;
    if (isBlocked) {
      blocked++;
      run++;
      if (run > best) {
        best = run;
        bestFrom = m - run + 1;
      }
    } else run = 0;
  }
  return {
    kind,
    blockedShare: blocked / n,
    longestBlockedMs: best * MINUTE,
    ...(bestFrom >= 0
      ? { longestBlockedFrom: new Date((start + bestFrom) * MINUTE).toISOString() }
      : {}),
    invalid,
  };
}

/** Why the windows stop a copy following its source, or undefined when they only delay it a little. */
export function windowsBlocker(a: WindowsAnalysis): string | undefined {
  if (a.kind === 'ignored') return undefined;
  const share = `${Math.round(a.blockedShare * 100)}%`;
  const bad = a.invalid.length
    ? ` (${a.invalid.map((i) => `schedule "${i.schedule}" never opens: ${i.why}`).join('; ')})`
    : '';
  if (a.blockedShare >= 1) {
    return `spec.syncWindows (kind ${a.kind}) blocks every periodic refresh${bad}, so it never refreshes again`;
  }
  if (a.blockedShare > MAX_BLOCKED_SHARE || a.longestBlockedMs > MAX_BLOCKED_STRETCH_MS) {
    return `spec.syncWindows (kind ${a.kind}) blocks periodic refreshes ${share} of the time, up to ${formatDuration(a.longestBlockedMs)} in a row (from ${a.longestBlockedFrom ?? 'collection'})${bad}, so a rotation can wait that long`;
  }
  return undefined;
}
