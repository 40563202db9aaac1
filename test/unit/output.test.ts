import { describe, expect, it } from 'vitest';
import { jsonLine, textLine } from '../../src/log.js';
import { MAX_LINE, cutText, escapeControl } from '../../src/output/bounded-text.js';
import { PrefixedLines } from '../../src/output/prefixed-lines.js';
import { MAX_WRITE } from '../../src/output/fd-writer.js';

function collect(prefix: string, feed: (p: PrefixedLines) => void): { chunks: Buffer[]; text: string; cut: number } {
  const chunks: Buffer[] = [];
  const p = new PrefixedLines(prefix, (c) => chunks.push(c));
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
