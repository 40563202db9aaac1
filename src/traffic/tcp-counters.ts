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
 * file stays open and is read again from offset 0 (the kernel regenerates it), into one buffer,
 * and parsed there: ten polls a second that made strings of it were a third of all the init
 * allocated in the Deployment's configuration.
 */
export function readTcpCounters(file = SNMP): TcpCounters | null {
  if (file !== SNMP) {
    try {
      return tcpCountersFrom(readFileSync(file));
    } catch {
      return null;
    }
  }
  try {
    snmpFd ??= openSync(SNMP, 'r');
    return tcpCountersFrom(snmpBuffer, readSync(snmpFd, snmpBuffer, 0, snmpBuffer.length, 0));
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

const TCP = Buffer.from('Tcp:', 'latin1');
const WANTED = ['PassiveOpens', 'InSegs', 'OutSegs'] as const;
/** the last header line seen, and where in it the wanted counters are: it is the same at every read */
let columns: { header: Buffer; at: number[] } | null = null;

/** Where the wanted counters are on the value line, as the header line names them; -1 when missing. */
function columnsOf(bytes: Buffer, start: number, end: number): number[] {
  if (columns && columns.header.length === end - start && bytes.compare(columns.header, 0, columns.header.length, start, end) === 0) return columns.at;
  const names = bytes.toString('latin1', start, end).split(' ');
  columns = { header: Buffer.from(bytes.subarray(start, end)), at: WANTED.map((name) => names.indexOf(name)) };
  return columns.at;
}

/** The index of "Tcp:" at the start of a line of bytes[0, length), from `from`; -1 when none. */
function tcpLine(bytes: Buffer, length: number, from: number): number {
  for (let at = bytes.indexOf(TCP, from); at !== -1 && at < length; at = bytes.indexOf(TCP, at + 1)) {
    if (at === 0 || bytes[at - 1] === 0x0a) return at;
  }
  return -1;
}

/** From the "Tcp:" header and value lines of /proc/net/snmp: the first `length` bytes read. */
export function tcpCountersFrom(bytes: Buffer, length = bytes.length): TcpCounters | null {
  const header = tcpLine(bytes, length, 0);
  const headerEnd = header === -1 ? -1 : bytes.indexOf(0x0a, header);
  if (headerEnd === -1 || headerEnd >= length || tcpLine(bytes, length, headerEnd + 1) !== headerEnd + 1) return null;
  const at = columnsOf(bytes, header, headerEnd);
  const found = [Number.NaN, Number.NaN, Number.NaN];
  // the value line, field by field (field 0 is "Tcp:"): digits with an optional sign
  let field = 0;
  let value = 0;
  let sign = 1;
  let digits = 0;
  for (let i = headerEnd + 1 + TCP.length; i <= length; i++) {
    const c = i < length ? (bytes[i] as number) : 0x0a;
    if (c === 0x20 || c === 0x0a) {
      const k = at.indexOf(field);
      if (k !== -1 && digits > 0) found[k] = sign * value;
      if (c === 0x0a) break;
      field++;
      value = 0;
      sign = 1;
      digits = 0;
    } else if (c === 0x2d && digits === 0) {
      sign = -1;
    } else if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      digits++;
    } else {
      return null;
    }
  }
  const [passiveOpens = Number.NaN, inSegments = Number.NaN, outSegments = Number.NaN] = found;
  return Number.isFinite(passiveOpens) && Number.isFinite(inSegments) && Number.isFinite(outSegments) ? { passiveOpens, inSegments, outSegments } : null;
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
