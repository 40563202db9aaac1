import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SIGNAL_NUMBERS, signalName, signalNumber } from '../../src/signals.js';

describe('the signal table', () => {
  it('is the runtime’s own list of signals, name for name and number for number', () => {
    expect(SIGNAL_NUMBERS).toEqual({ ...constants.signals });
  });

  it('names each number by its canonical name', () => {
    expect(signalName(6)).toBe('SIGABRT');
    expect(signalName(29)).toBe('SIGIO');
    expect(signalNumber('SIGPOLL')).toBe(29);
  });
});
