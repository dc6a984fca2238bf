/**
 * Neutralises strings that come from a cluster (object names, annotations, API error messages)
 * before they reach a terminal, an email, a markdown page or an SNS subject. Anyone who can create
 * an object in an audited cluster controls these strings, so every renderer goes through here.
 *
 * Control characters are made visible (`\x1b`, `\u202e`) rather than dropped: a reader should see
 * that a name contains an escape sequence, and nothing can hide behind one.
 */

/**
 * C0 controls, DEL, C1 controls (U+0080-U+009F: a UTF-8 terminal may act on U+009B as CSI), and
 * the invisible formatting characters that reorder or hide text (bidi overrides, zero-width,
 * line/paragraph separators, BOM): the "Trojan Source" family.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** Same set except newline, kept by {@link multiLine}. */
const UNSAFE_BUT_NEWLINE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/g;

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of text, safe for a terminal or a plain-text mail: no control characters, no newlines. */
export function singleLine(value: unknown): string {
  return String(value ?? '').replace(UNSAFE, visible);
}

/**
 * Text that may span lines (messages, remediations with YAML snippets): newlines stay, CRLF
 * becomes LF, tabs become two spaces, every other control character becomes visible.
 */
export function multiLine(value: unknown): string {
  return String(value ?? '')
    .replace(/\r\n/g, '\n')
    .replace(/\t/g, '  ')
    .replace(UNSAFE_BUT_NEWLINE, visible);
}

/**
 * Printable ASCII only, for the SNS subject (and mail headers generally): accents are folded
 * (`é` -> `e`), anything else non-ASCII becomes `?`, control characters and newlines become a
 * space, runs of spaces collapse.
 */
export function asciiLine(value: unknown): string {
  return String(value ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(UNSAFE, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Markdown metacharacters that act anywhere in a line (`-`, `.` only matter at a line start, which a cell or list item never is). */
const MARKDOWN_SPECIAL = /[\\`*_{}[\]#+!|~]/g;

/**
 * Inline markdown text (a table cell, a list item): HTML metacharacters become entities, markdown
 * metacharacters are backslash-escaped (so `|` cannot break a table, `[x](y)` cannot become a
 * link, `<script>` stays text), newlines become `<br>` (ours, after escaping).
 */
export function markdownInline(value: unknown): string {
  return multiLine(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(MARKDOWN_SPECIAL, (c) => `\\${c}`)
    .replace(/\n/g, '<br>');
}

/**
 * A fenced code block holding `value` verbatim (after control characters are made visible). The
 * fence is longer than any backtick run inside, so the content cannot close it.
 */
export function markdownCodeBlock(value: unknown, info = 'text'): string {
  const body = multiLine(value).replace(/\n+$/, '');
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}

/** True for code points a terminal draws two columns wide (CJK, Hangul, fullwidth forms, emoji). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function isZeroWidth(cp: number): boolean {
  return (
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xfe20 && cp <= 0xfe2f)
  );
}

/** Columns a (sanitised) string occupies in a terminal. ANSI sequences must be stripped first. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    width += isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1;
  }
  return width;
}

/** Cuts `text` to at most `width` columns, ending in `…` when cut; never splits a code point. */
export function truncateToWidth(text: string, width: number, ellipsis = '…'): string {
  if (displayWidth(text) <= width) return text;
  const room = width - displayWidth(ellipsis);
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = displayWidth(ch);
    if (used + w > room) break;
    out += ch;
    used += w;
  }
  return out + ellipsis;
}

/** Pads `text` with spaces to `width` columns (display width, not string length). */
export function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/**
 * Word-wraps one paragraph to `width` columns. Words longer than a line are split only when
 * `breakLongWords` (hostile names must not overflow; an S3 URI or ARN is better left whole for
 * copy and paste).
 */
export function wrapWords(
  text: string,
  width: number,
  opts: { breakLongWords?: boolean } = {},
): string[] {
  const breakLong = opts.breakLongWords ?? true;
  const words = text.split(/ +/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let line = '';
  const push = () => {
    if (line) lines.push(line);
    line = '';
  };
  for (let word of words) {
    while (breakLong && displayWidth(word) > width) {
      const room = line ? width - displayWidth(line) - 1 : width;
      if (room < Math.min(8, width)) {
        push();
        continue;
      }
      const [head, tail] = splitAtWidth(word, room);
      line = line ? `${line} ${head}` : head;
      push();
      word = tail;
    }
    if (!word) continue;
    if (!line) line = word;
    else if (displayWidth(line) + 1 + displayWidth(word) <= width) line += ` ${word}`;
    else {
      push();
      line = word;
    }
  }
  push();
  return lines.length ? lines : [''];
}

/** Characters after which a long token (a field path, an ARN, a URL) breaks most readably. */
const SOFT_BREAK_AFTER = new Set(['/', '.', ',', ']', ')', '-', ':', '=', '&', '?']);

function splitAtWidth(word: string, width: number): [string, string] {
  const chars = [...word];
  let fit = 0;
  let used = 0;
  for (; fit < chars.length; fit++) {
    const w = displayWidth(chars[fit]!);
    if (used + w > width) break;
    used += w;
  }
  // Prefer the last soft break in the second half of the line over a cut mid-word.
  let cut = fit;
  for (let i = fit - 1; i >= Math.ceil(fit / 2); i--) {
    if (SOFT_BREAK_AFTER.has(chars[i]!)) {
      cut = i + 1;
      break;
    }
  }
  return [chars.slice(0, cut).join(''), chars.slice(cut).join('')];
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Removes our own SGR colour codes (for width measurement of coloured cells). */
export function stripSgr(text: string): string {
  return text.replace(ANSI, '');
}

/** A run of prose (to re-flow) or of code (YAML, commands: kept verbatim, never re-flowed). */
export interface TextBlock {
  code: boolean;
  lines: string[];
}

/**
 * Splits a remediation into prose and code. Code is any indented line, and every line after a
 * prose line ending in `:` up to the next blank line (check authors introduce snippets that way:
 * "Apply with `kubectl apply -f -`:"). Control characters are made visible first.
 */
export function textBlocks(value: unknown): TextBlock[] {
  const blocks: TextBlock[] = [];
  let inCode = false;
  for (const raw of multiLine(value).split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim()) {
      inCode = false;
      blocks.push({ code: false, lines: [''] });
      continue;
    }
    const code = inCode || /^\s/.test(line);
    const last = blocks[blocks.length - 1];
    if (last && last.code === code && !(last.lines.length === 1 && last.lines[0] === '')) {
      last.lines.push(line);
    } else {
      blocks.push({ code, lines: [line] });
    }
    if (!code && line.endsWith(':')) inCode = true;
  }
  // Leading and trailing blank blocks carry nothing.
  while (blocks.length && blocks[0]!.lines.join('') === '') blocks.shift();
  while (blocks.length && blocks[blocks.length - 1]!.lines.join('') === '') blocks.pop();
  return blocks;
}
