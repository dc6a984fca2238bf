import {
  asciiLine,
  displayWidth,
  markdownCodeBlock,
  markdownInline,
  multiLine,
  singleLine,
  textBlocks,
  truncateToWidth,
  wrapWords,
} from '../../lambda/checks/sanitize.js';
import { CONTROL_CHARS, HOSTILE } from './support.js';

describe('singleLine', () => {
  it.each([
    [
      'a newline and CRLF',
      HOSTILE.newline,
      'evil\\nSubject: you have been pwned\\r\\nBcc: all@example.com',
    ],
    [
      'ANSI colour, OSC title and clear-screen sequences',
      HOSTILE.ansi,
      'pod-\\x1b[31mred\\x1b[0m-\\x1b]0;title\\x07-\\x1b[2J',
    ],
    ['a C1 CSI (U+009B) and a bell', HOSTILE.c1, 'csi-\\x9b31m-bell\\x07'],
    ['a right-to-left override', HOSTILE.bidi, 'admin\\u202egnp.exe'],
    ['a tab', 'a\tb', 'a\\tb'],
    ['a NUL and DEL', 'a\u0000b\u007f', 'a\\x00b\\x7f'],
    ['zero-width and line separators', 'a\u200bb\u2028c', 'a\\u200bb\\u2028c'],
  ])('makes %s visible instead of passing it through', (_name, input, expected) => {
    expect(singleLine(input)).toBe(expected);
    expect(singleLine(input)).not.toMatch(CONTROL_CHARS);
    expect(singleLine(input)).not.toContain('\n');
  });

  it('keeps printable unicode as it is', () => {
    expect(singleLine(HOSTILE.unicode)).toBe(HOSTILE.unicode);
  });

  it('turns undefined and null into an empty string', () => {
    expect(singleLine(undefined)).toBe('');
    expect(singleLine(null)).toBe('');
  });
});

describe('multiLine', () => {
  it('keeps newlines, normalises CRLF and tabs, and escapes every other control character', () => {
    expect(multiLine('fix:\r\n\tname: x\u001b[2J')).toBe('fix:\n  name: x\\x1b[2J');
  });
});

describe('asciiLine', () => {
  it('folds accents, replaces other non-ASCII with ? and control characters with spaces', () => {
    expect(asciiLine('naïve-名前-🚀')).toBe('naive-??-??');
    expect(asciiLine(HOSTILE.newline)).toBe(
      'evil Subject: you have been pwned Bcc: all@example.com',
    );
    expect(asciiLine(HOSTILE.ansi)).toMatch(/^[\x20-\x7e]*$/);
  });
});

describe('markdownInline', () => {
  it('turns HTML into text', () => {
    const out = markdownInline(HOSTILE.html);
    expect(out).not.toMatch(/[<>]/);
    expect(out).toContain('&lt;script&gt;');
  });

  it('escapes table pipes, emphasis, code spans, links and headings', () => {
    const out = markdownInline(HOSTILE.table);
    expect(out).toBe('\\| table breakers \\| \\` \\*\\* \\[link\\](http://evil) \\#');
    expect(out.replace(/\\\|/g, '')).not.toContain('|');
  });

  it('turns newlines into <br> so a cell stays on one row', () => {
    expect(markdownInline('a\nb')).toBe('a<br>b');
  });
});

describe('markdownCodeBlock', () => {
  it('uses a fence longer than any backtick run inside, so the content cannot close it', () => {
    const block = markdownCodeBlock('x ```` y');
    expect(block.startsWith('`````text\n')).toBe(true);
    expect(block.endsWith('\n`````')).toBe(true);
  });
});

describe('display width and wrapping', () => {
  it('counts CJK and emoji as two columns', () => {
    expect(displayWidth('名前')).toBe(4);
    expect(displayWidth('🚀a')).toBe(3);
  });

  it('truncates by columns without splitting a code point', () => {
    expect(truncateToWidth('名前名前', 5)).toBe('名前…');
  });

  it('wraps to the width and splits a 63-character label that does not fit', () => {
    const lines = wrapWords(`pod ${HOSTILE.label63} is broken`, 40);
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(40);
    expect(lines.join('').replace(/ /g, '')).toBe(`pod${HOSTILE.label63}isbroken`);
  });

  it('breaks a long field path after a dot or bracket rather than mid-word', () => {
    const lines = wrapWords(
      'containers[datadog-agent].env[DD_CLUSTER_AGENT_AUTH_TOKEN].valueFrom.secretKeyRef.name',
      60,
    );
    expect(lines[0]).toMatch(/[.\]]$/);
  });

  it('leaves long tokens whole when asked (URIs to copy)', () => {
    const uri = `s3://bucket/${'k'.repeat(90)}`;
    expect(wrapWords(uri, 40, { breakLongWords: false })).toEqual([uri]);
  });
});

describe('textBlocks', () => {
  it('separates prose from a snippet introduced by a colon, up to the next blank line', () => {
    const blocks = textBlocks(
      'Add this rule to ClusterRole x:\napiVersion: v1\n  kind: ClusterRole\n\nThen re-run the audit.',
    );
    expect(blocks).toEqual([
      { code: false, lines: ['Add this rule to ClusterRole x:'] },
      { code: true, lines: ['apiVersion: v1', '  kind: ClusterRole'] },
      { code: false, lines: [''] },
      { code: false, lines: ['Then re-run the audit.'] },
    ]);
  });

  it('treats indented lines as code and makes control characters visible in both', () => {
    expect(textBlocks('Fix \u001b[2J now\n    name: a\u0007')).toEqual([
      { code: false, lines: ['Fix \\x1b[2J now'] },
      { code: true, lines: ['    name: a\\x07'] },
    ]);
  });
});
