// The TCP counters of this network namespace (/proc/net/snmp). Reading them costs tens of
// microseconds, a connection dump milliseconds: unchanged counters prove that no segment came or
// went, so the dump can be skipped; PassiveOpens also counts the connections that opened and
// closed between two dumps, which no dump can see.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface TcpCounters {
  passiveOpens: number;
  inSegments: number;
  outSegments: number;
}

const SNMP = '/proc/net/snmp';
let snmpFd: number | null = null;
const snmpBuffer = Buffer.alloc(16 * 1024);

/**
 * The counters, or null when /proc is not mounted or they are missing. Read at every poll: the
 * file stays open and is read again from offset 0 (the kernel regenerates it), into one buffer.
 */
export function readTcpCounters(file = SNMP): TcpCounters | null {
  if (file !== SNMP) {
    try {
      return tcpCountersFrom(readFileSync(file, 'latin1'));
    } catch {
      return null;
    }
  }
  try {
    snmpFd ??= openSync(SNMP, 'r');
    const n = readSync(snmpFd, snmpBuffer, 0, snmpBuffer.length, 0);
    return tcpCountersFrom(snmpBuffer.toString('latin1', 0, n));
  } catch {
    if (snmpFd !== null) {
      try {
        closeSync(snmpFd);
      } catch {
        // already unusable
      }
    }
    snmpFd = null;
    return null;
  }
}

/** From the "Tcp:" header and value lines of /proc/net/snmp. */
export function tcpCountersFrom(snmp: string): TcpCounters | null {
  const header = snmp.startsWith('Tcp:') ? 0 : snmp.indexOf('\nTcp:') + 1;
  if (header === 0 && !snmp.startsWith('Tcp:')) return null;
  const headerEnd = snmp.indexOf('\n', header);
  const valuesEnd = headerEnd < 0 ? -1 : snmp.indexOf('\n', headerEnd + 1);
  if (headerEnd < 0 || !snmp.startsWith('Tcp:', headerEnd + 1)) return null;
  const names = snmp.slice(header, headerEnd).split(' ');
  const values = snmp.slice(headerEnd + 1, valuesEnd < 0 ? snmp.length : valuesEnd).split(' ');
  const get = (name: string): number => {
    const at = names.indexOf(name);
    return at >= 0 ? Number(values[at]) : Number.NaN;
  };
  const counters = { passiveOpens: get('PassiveOpens'), inSegments: get('InSegs'), outSegments: get('OutSegs') };
  return Object.values(counters).every(Number.isFinite) ? counters : null;
}

export function sameTcpCounters(a: TcpCounters | null, b: TcpCounters | null): boolean {
  return (
    a !== null &&
    b !== null &&
    a.passiveOpens === b.passiveOpens &&
    a.inSegments === b.inSegments &&
    a.outSegments === b.outSegments
  );
}
