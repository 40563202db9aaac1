// Address words from sock_diag records to text, and the namespace's TCP counters.
import { expect, it } from 'vitest';
import { formatAddress } from '../../src/traffic/connection-table.js';
import { sameTcpCounters, tcpCountersFrom } from '../../src/traffic/tcp-counters.js';

it('formats IPv4 and IPv6 addresses', () => {
  expect(formatAddress(4, Float64Array.of(0x7f000001, 0, 0, 0), 0)).toBe('127.0.0.1');
  expect(formatAddress(6, Float64Array.of(9, 0, 0, 0, 1), 1)).toBe('::1');
  expect(formatAddress(6, Float64Array.of(0, 0, 0, 0), 0)).toBe('::');
  expect(formatAddress(6, Float64Array.of(0, 0, 0xffff, 0x7f000001), 0)).toBe('::ffff:127.0.0.1');
  expect(formatAddress(6, Float64Array.of(0x20010db8, 0, 1, 0x00020003), 0)).toBe('2001:db8::1:2:3');
  expect(formatAddress(6, Float64Array.of(0x20010db8, 0x10000, 0x10000, 0x10001), 0)).toBe('2001:db8:1:0:1:0:1:1');
});

it('reads the TCP counters from /proc/net/snmp text', () => {
  const snmp = [
    'Ip: Forwarding DefaultTTL',
    'Ip: 1 64',
    'Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs',
    'Tcp: 1 200 120000 -1 25 17 0 3 4 1000 900',
    'Udp: InDatagrams',
    'Udp: 3',
  ].join('\n');
  const c = tcpCountersFrom(Buffer.from(snmp));
  expect(c).toEqual({ passiveOpens: 17, inSegments: 1000, outSegments: 900 });
  expect(tcpCountersFrom(Buffer.from('Ip: 1\nIp: 2\n'))).toBeNull();
  // the bytes of a read, the first `length` of a larger buffer; no line end at the end
  expect(tcpCountersFrom(Buffer.from(`${snmp}\0\0garbage`, 'latin1'), snmp.length)).toEqual(c);
  expect(tcpCountersFrom(Buffer.from('Tcp: A PassiveOpens InSegs OutSegs\nTcp: 1 2 3 4'))).toEqual({ passiveOpens: 2, inSegments: 3, outSegments: 4 });
  expect(tcpCountersFrom(Buffer.from('Tcp: A PassiveOpens InSegs OutSegs\nTcp: 1 2 x 4\n'))).toBeNull();
  expect(tcpCountersFrom(Buffer.from('Tcp: A PassiveOpens InSegs\nTcp: 1 2 3\n'))).toBeNull();
  expect(sameTcpCounters(c, { passiveOpens: 17, inSegments: 1000, outSegments: 900 })).toBe(true);
  expect(sameTcpCounters(c, { passiveOpens: 17, inSegments: 1001, outSegments: 900 })).toBe(false);
  expect(sameTcpCounters(null, null)).toBe(false);
});
