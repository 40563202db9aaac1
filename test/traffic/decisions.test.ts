// When --drain-quiet and --wait-idle end.
import { describe, expect, it } from 'vitest';
import {
  decideDrain,
  decideWaitIdle,
  describeDrainEnd,
  describeWaitIdleEnd,
  formatMs,
} from '../../src/traffic/drain-decision.js';

const s = { quietMs: 1000, minMs: 0, maxMs: 20_000 };

describe('decideDrain', () => {
  it('ends once there was no new traffic for the quiet time', () => {
    expect(decideDrain(s, 0, 4200, 3200)).toEqual({ done: true, reason: 'quiet', quietMs: 1000, elapsedMs: 4200 });
    expect(describeDrainEnd(decideDrain(s, 0, 4200, 3200))).toBe('quiet for 1s after 4.2s');
  });

  it('keeps draining while traffic is recent, and says when to look again', () => {
    expect(decideDrain(s, 0, 4000, 3200)).toEqual({ done: false, recheckInMs: 200 });
  });

  it('measures quiet from the start of the drain, not from older traffic', () => {
    expect(decideDrain(s, 5000, 5500, 1000)).toEqual({ done: false, recheckInMs: 500 });
    expect(decideDrain(s, 5000, 6000, null)).toMatchObject({ done: true, reason: 'quiet' });
  });

  it('never ends before --drain-min', () => {
    const withMin = { ...s, minMs: 3000 };
    expect(decideDrain(withMin, 0, 2000, null)).toEqual({ done: false, recheckInMs: 1000 });
    expect(decideDrain(withMin, 0, 3000, null)).toMatchObject({ done: true, reason: 'quiet', elapsedMs: 3000 });
  });

  it('never lasts longer than --drain-delay', () => {
    expect(decideDrain(s, 0, 20_000, 19_990)).toEqual({ done: true, reason: 'maximum', elapsedMs: 20_000 });
    expect(describeDrainEnd({ done: true, reason: 'maximum', elapsedMs: 20_000 })).toBe('maximum reached (20s)');
    expect(decideDrain(s, 0, 19_800, 19_790)).toEqual({ done: false, recheckInMs: 200 });
  });
});

describe('decideWaitIdle', () => {
  it('ends as soon as nothing is busy', () => {
    expect(decideWaitIdle(30_000, 0, 1400, 0)).toEqual({ done: true, reason: 'idle', elapsedMs: 1400 });
    expect(describeWaitIdleEnd({ done: true, reason: 'idle', elapsedMs: 1400 })).toBe('idle after 1.4s');
  });

  it('waits while connections are busy or activity is unknown, at most the given time', () => {
    expect(decideWaitIdle(30_000, 0, 1000, 2)).toEqual({ done: false, recheckInMs: 29_000 });
    expect(decideWaitIdle(30_000, 0, 1000, null)).toEqual({ done: false, recheckInMs: 29_000 });
    const timeout = decideWaitIdle(30_000, 0, 30_000, 3);
    expect(timeout).toEqual({ done: true, reason: 'timeout', elapsedMs: 30_000, active: 3 });
    expect(describeWaitIdleEnd(timeout)).toBe('still 3 busy after 30s');
  });
});

it('formats durations for the summary', () => {
  expect([formatMs(250), formatMs(1000), formatMs(3249), formatMs(12_000)]).toEqual(['250ms', '1s', '3.2s', '12s']);
});
