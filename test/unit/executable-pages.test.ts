import { describe, expect, it } from 'vitest';
import { droppableRanges } from '../../src/process/executable-pages.js';

const EXE = '/usr/local/bin/graceful-init';

function mapping(range: string, perms: string, path: string, anonymousKb = 0): string {
  return [
    `${range} ${perms} 00000000 fe:00 5333038                            ${path}`.trimEnd(),
    'Size:               1024 kB',
    'Rss:                 512 kB',
    `Anonymous:          ${anonymousKb} kB`,
    'VmFlags: rd mr mw me',
  ].join('\n');
}

describe('droppableRanges', () => {
  it('keeps to the private read-only mappings of the executable that hold no copied page', () => {
    const smaps = [
      mapping('00400000-00746000', 'r--p', EXE),
      mapping('0074a000-03201000', 'r-xp', EXE),
      mapping('06b52000-06b56000', 'r--p', EXE, 8), // RELRO: written by the loader
      mapping('06b56000-06b7d000', 'rw-p', EXE, 140), // data
      mapping('0e7c0000-0e820000', 'r--p', EXE),
      mapping('0e900000-0e901000', 'r--s', EXE), // shared: not ours to drop
      mapping('7f0000000000-7f0000100000', 'r-xp', '/usr/lib/x86_64-linux-gnu/libc.so.6'),
      mapping('7f0000200000-7f0000300000', 'r--p', `${EXE}.old`),
      mapping('7f0000400000-7f0000500000', 'rw-p', ''),
    ].join('\n');
    expect(droppableRanges(Buffer.from(`${smaps}\n`), EXE)).toEqual([
      [0x400000, 0x746000],
      [0x74a000, 0x3201000],
      [0xe7c0000, 0xe820000],
    ]);
  });

  it('matches a replaced executable by the name /proc gives it, and finds nothing in an empty or odd file', () => {
    const deleted = `${EXE} (deleted)`;
    expect(droppableRanges(Buffer.from(`${mapping('00400000-00746000', 'r-xp', deleted)}\n`), deleted)).toEqual([[0x400000, 0x746000]]);
    expect(droppableRanges(Buffer.alloc(0), EXE)).toEqual([]);
    expect(droppableRanges(Buffer.from(`garbage ${EXE}\nAnonymous: 0 kB\nVmFlags: rd\n`), EXE)).toEqual([]);
  });
});
