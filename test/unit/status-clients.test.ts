import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bearerMatches } from '../../src/prestop-token.js';
import { StatusClients, sourceOf } from '../../src/status-clients.js';

/** A stand-in socket: its address, whether it was destroyed; destroy() closes it as a real one does. */
function fakeSocket(remoteAddress: string): Socket & { destroyed: boolean } {
  const s = new EventEmitter() as unknown as Socket & { destroyed: boolean };
  Object.assign(s, { remoteAddress, destroyed: false });
  s.destroy = () => {
    s.destroyed = true;
    s.emit('close');
    return s;
  };
  return s;
}

describe('sourceOf', () => {
  it('an IPv4 address, mapped or not, is its own source; an IPv6 address counts by its /64', () => {
    expect(sourceOf('10.1.2.3')).toBe('10.1.2.3');
    expect(sourceOf('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(sourceOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceOf('::1')).toBe('0:0:0:0::/64');
    expect(sourceOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceOf(undefined)).toBe('?');
  });
});

describe('StatusClients', () => {
  it("a new connection past a source's limit pushes out that source's oldest, never another's", () => {
    const clients = new StatusClients({ perSource: 3, total: 100 });
    const probe = fakeSocket('10.0.0.1');
    clients.admit(probe);
    const flood = Array.from({ length: 10 }, () => fakeSocket('10.9.9.9'));
    for (const s of flood) clients.admit(s);
    expect(flood.map((s) => s.destroyed)).toEqual([true, true, true, true, true, true, true, false, false, false]);
    expect(probe.destroyed).toBe(false);
  });

  it('past the total, the source that holds the most loses its oldest; a request that arrived no longer counts', () => {
    const clients = new StatusClients({ perSource: 4, total: 6 });
    const a = Array.from({ length: 4 }, () => fakeSocket('10.0.0.1'));
    const b = Array.from({ length: 2 }, () => fakeSocket('10.0.0.2'));
    for (const s of [...a, ...b]) clients.admit(s);
    const probe = fakeSocket('10.0.0.3');
    clients.admit(probe);
    expect(a[0]?.destroyed).toBe(true);
    expect([...a.slice(1), ...b, probe].some((s) => s.destroyed)).toBe(false);
    clients.settle(probe); // its request arrived
    const more = fakeSocket('10.0.0.2');
    clients.admit(more);
    expect(more.destroyed || b.some((s) => s.destroyed) || a.slice(1).some((s) => s.destroyed)).toBe(false);
    // of equal holders, the one whose oldest came first
    const c = fakeSocket('10.0.0.4');
    clients.admit(c);
    expect(a[1]?.destroyed).toBe(true);
    expect(b.some((s) => s.destroyed)).toBe(false);
  });
});

describe('bearerMatches', () => {
  const token = Buffer.from('kV3q9ZpL0sWx7RtY2uNb8cHd');
  it('accepts the token as a Bearer token (scheme in any case), nothing else', () => {
    expect(bearerMatches('Bearer kV3q9ZpL0sWx7RtY2uNb8cHd', token)).toBe(true);
    expect(bearerMatches('bearer  kV3q9ZpL0sWx7RtY2uNb8cHd ', token)).toBe(true);
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'kV3q9ZpL0sWx7RtY2uNb8cHd', 'Basic kV3q9ZpL0sWx7RtY2uNb8cHd', 'Bearer kV3q9ZpL0sWx7RtY2uNb8cH', 'Bearer kV3q9ZpL0sWx7RtY2uNb8cHdd', 'Bearer kV3q9ZpL0sWx7RtY2uNb8cHe', 'Bearer a b']) {
      expect(bearerMatches(header, token), String(header)).toBe(false);
    }
  });
});
