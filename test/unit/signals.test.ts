import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ALIAS_SIGNALS, FORWARDED_SIGNALS, IGNORED_SIGNALS, NOT_FORWARDED, SIGNAL_NAMES, SIGNAL_NUMBERS, signalName, signalNumber } from '../../src/signals.js';

describe('the signal table', () => {
  it('is the runtime’s own list of signals, name for name and number for number', () => {
    expect(SIGNAL_NUMBERS).toEqual({ ...constants.signals });
  });

  // the lists are written out for start-up's sake: here they are derived and held equal
  const canonical = Object.entries(SIGNAL_NUMBERS).filter(([name]) => name !== 'SIGIOT' && name !== 'SIGPOLL');

  it('names each number by its one canonical name', () => {
    expect(SIGNAL_NAMES.flatMap((name, num) => (name ? [[name, num]] : []))).toEqual(canonical.sort(([, a], [, b]) => a - b));
  });

  it('forwards every canonical signal but the ones it must not, in number order', () => {
    expect(FORWARDED_SIGNALS).toEqual(canonical.filter(([name]) => !NOT_FORWARDED.includes(name)).map(([name]) => name));
  });

  it('listens on every other name of a signal it catches', () => {
    const caught = new Set([...FORWARDED_SIGNALS, ...IGNORED_SIGNALS].map((name) => SIGNAL_NUMBERS[name]));
    const aliases = Object.keys(SIGNAL_NUMBERS).filter((name) => !SIGNAL_NAMES.includes(name as NodeJS.Signals) && caught.has(SIGNAL_NUMBERS[name]));
    expect(ALIAS_SIGNALS).toEqual(aliases);
  });

  it('names each number by its canonical name', () => {
    expect(signalName(6)).toBe('SIGABRT');
    expect(signalName(29)).toBe('SIGIO');
    expect(signalNumber('SIGPOLL')).toBe(29);
  });
});
