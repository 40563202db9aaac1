import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, jsonLine, textLine } from '../../src/log.js';
import { MAX_LINE, cutText, escapeControl } from '../../src/output/bounded-text.js';
import { PrefixedLines, fittedLines, prefixedText } from '../../src/output/prefixed-lines.js';
import { MAX_WRITE } from '../../src/output/fd-writer.js';

function collect(prefix: string, feed: (p: PrefixedLines) => void): { chunks: Buffer[]; text: string; cut: number } {
  const chunks: Buffer[] = [];
  const p = new PrefixedLines(prefixedText(prefix), (c) => chunks.push(c));
  feed(p);
  p.end();
  return { chunks, text: Buffer.concat(chunks).toString(), cut: p.cutLines };
}

describe('log lines', () => {
  it('a newline or control character in a value never splits a text line', () => {
    const line = textLine('pre-stop 1: "a\nb" failed', { command: 'x\r\ny\u0007', list: ['p\nq', 'r'] });
    expect(line).toBe('graceful-init: pre-stop 1: "a\\nb" failed (command=x\\r\\ny\\x07 list=p\\nq,r)');
  });

  it('an overlong text line is cut to MAX_LINE - 1 bytes with a marker', () => {
    const line = textLine('x'.repeat(100_000), {});
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE - 1);
    expect(line).toMatch(/x\.\.\.\[\d+ bytes cut\]$/);
  });

  it('an overlong JSON line stays valid JSON, its longest values cut', () => {
    const line = jsonLine('warn', 'short', { a: 'é'.repeat(5000), b: '\u0001'.repeat(3000), c: 'kept' });
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE - 1);
    const record = JSON.parse(line) as Record<string, string>;
    expect(record.msg).toBe('short');
    expect(record.c).toBe('kept');
    expect(record.a).toMatch(/^é+\.\.\.\[\d+ bytes cut\]$/);
  });

  it('a JSON line holds lists and objects as values, and cuts a long string before them', () => {
    const results = Array.from({ length: 10 }, (_, i) => ({ index: i + 1, command: 'c'.repeat(100), outcome: 'ok' }));
    const record = JSON.parse(jsonLine('info', 'm'.repeat(3000), { preStop: results, exitCode: 143 })) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', logger: 'graceful-init', preStop: results, exitCode: 143 });
    expect(record.msg).toMatch(/^m+\.\.\.\[\d+ bytes cut\]$/);
    const huge = jsonLine('info', 'short', { preStop: Array.from({ length: 100 }, () => ({ command: 'x'.repeat(100) })) });
    expect(Buffer.byteLength(huge)).toBeLessThanOrEqual(MAX_LINE - 1);
    expect((JSON.parse(huge) as Record<string, unknown>).msg).toBe('short');
  });

  it('the text summary is the message alone; the JSON summary has the fields as values', () => {
    const written = (format: 'text' | 'json') => {
      const dir = mkdtempSync(join(tmpdir(), 'gi-log-'));
      const fd = openSync(join(dir, 'log'), 'w');
      try {
        createLogger(format, 'normal', fd).summary('shutdown on SIGTERM, exit 0', { trigger: 'SIGTERM', preStop: [{ index: 1, outcome: 'ok' }], exitCode: 0 });
        return readFileSync(join(dir, 'log'), 'utf8');
      } finally {
        closeSync(fd);
        rmSync(dir, { recursive: true });
      }
    };
    expect(written('text')).toBe('graceful-init: shutdown on SIGTERM, exit 0\n');
    expect(JSON.parse(written('json'))).toMatchObject({ level: 'info', logger: 'graceful-init', msg: 'shutdown on SIGTERM, exit 0', trigger: 'SIGTERM', preStop: [{ index: 1, outcome: 'ok' }], exitCode: 0 });
  });

  it('cutText never splits a UTF-8 character and counts what it cut', () => {
    const text = '€'.repeat(100); // 300 bytes
    const cut = cutText(text, 50);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(50);
    const m = /^(€*)\.\.\.\[(\d+) bytes cut\]$/.exec(cut);
    expect(m).not.toBeNull();
    expect(Buffer.byteLength(m?.[1] ?? '') + Number(m?.[2])).toBe(300);
    expect(escapeControl('tab\there')).toBe('tab\\there');
  });
});

describe('pre-stop output lines', () => {
  it('splits lines across chunks and prefixes each', () => {
    const { text } = collect('P: ', (p) => {
      p.push(Buffer.from('one\ntw'));
      p.push(Buffer.from('o\n\nthree'));
    });
    expect(text).toBe('P: one\nP: two\nP: \nP: three\n');
  });

  it('a line of any length is cut to MAX_LINE bytes, what was cut is counted exactly, and chunks stay within MAX_WRITE', () => {
    const total = 5_000_000;
    const { chunks, text, cut } = collect('P: ', (p) => {
      for (let sent = 0; sent < total; sent += 65536) p.push(Buffer.alloc(Math.min(65536, total - sent), 0x78));
      p.push(Buffer.from('\nnext\n'));
    });
    expect(cut).toBe(1);
    const [first, second] = text.split('\n');
    expect(Buffer.byteLength(`${first}\n`)).toBeLessThanOrEqual(MAX_LINE);
    const m = /^P: (x+)\.\.\.\[(\d+) bytes cut\]$/.exec(first ?? '');
    expect((m?.[1]?.length ?? 0) + Number(m?.[2])).toBe(total);
    expect(second).toBe('P: next');
    expect(chunks.every((c) => c.length <= MAX_WRITE)).toBe(true);
  });

  it('cuts before a multi-byte character rather than through it', () => {
    const { text } = collect('', (p) => p.push(Buffer.from('é'.repeat(5000))));
    expect(text).not.toContain('\ufffd');
    expect(text).toMatch(/^é+\.\.\.\[\d+ bytes cut\]\n$/);
  });
});

describe('pre-stop output lines in the JSON log', () => {
  const json = fittedLines((text) => JSON.stringify({ msg: text, prestop: 1, stream: 'stdout' }));
  const collectJson = (feed: (p: PrefixedLines) => void) => {
    const chunks: Buffer[] = [];
    const p = new PrefixedLines(json, (c) => chunks.push(c));
    feed(p);
    p.end();
    return { chunks, records: Buffer.concat(chunks).toString().trimEnd().split('\n').map((l) => JSON.parse(l) as { msg: string; prestop: number; stream: string }) };
  };

  it('one object a line, with the index and stream', () => {
    const { records } = collectJson((p) => p.push(Buffer.from('one\ntwo "quoted"\tand a tab\n')));
    expect(records).toEqual([
      { msg: 'one', prestop: 1, stream: 'stdout' },
      { msg: 'two "quoted"\tand a tab', prestop: 1, stream: 'stdout' },
    ]);
  });

  it('a line that escapes to more than fits is cut to MAX_LINE bytes, still JSON, the cut counted exactly', () => {
    // each control byte is six bytes of JSON: 4000 of them cannot fit
    const total = 100_000;
    const { chunks, records } = collectJson((p) => {
      p.push(Buffer.alloc(total, 0x01));
      p.push(Buffer.from('\nnext\n'));
    });
    const [first, second] = records;
    // eslint-disable-next-line no-control-regex
    const m = /^(\u0001*)\.\.\.\[(\d+) bytes cut\]$/.exec(first?.msg ?? '');
    expect(m).not.toBeNull();
    expect((m?.[1]?.length ?? 0) + Number(m?.[2])).toBe(total);
    expect(second?.msg).toBe('next');
    for (const line of Buffer.concat(chunks).toString().split('\n')) expect(Buffer.byteLength(line) + 1).toBeLessThanOrEqual(MAX_LINE);
    expect(chunks.every((c) => c.length <= MAX_WRITE)).toBe(true);
  });

  it('bytes that are not UTF-8 become U+FFFD, and the line stays one line', () => {
    const { records } = collectJson((p) => p.push(Buffer.from([0x61, 0xff, 0x62, 0x0d, 0x63, 0x0a])));
    expect(records).toEqual([{ msg: 'a\ufffdb\rc', prestop: 1, stream: 'stdout' }]);
  });
});
