// The TCP counters of this network namespace (/proc/net/snmp). Reading them costs tens of
// microseconds, a connection dump milliseconds: unchanged counters prove that no segment came or
// went, so the dump can be skipped; PassiveOpens also counts the connections that opened and
// closed between two dumps, which no dump can see.
import { readFileSync } from 'node:fs';

export interface TcpCounters {
  passiveOpens: number;
  inSegments: number;
  outSegments: number;
}

/** The counters, or null when /proc is not mounted or they are missing. */
export function readTcpCounters(file = '/proc/net/snmp'): TcpCounters | null {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return null;
  }
  return tcpCountersFrom(text);
}

/** From the "Tcp:" header and value lines of /proc/net/snmp. */
export function tcpCountersFrom(snmp: string): TcpCounters | null {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
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
