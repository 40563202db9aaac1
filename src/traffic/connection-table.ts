// Reading the records of tcpConnections() (see native-api.ts for the layout).
import { CONNECTION } from './native-api.js';

/** `count` records of CONNECTION.fields numbers each, at the start of `data`. */
export interface ConnectionTable {
  count: number;
  data: Float64Array;
}

/** The value of `field` in record `index`. */
export function connectionField(table: ConnectionTable, index: number, field: number): number {
  return table.data[index * CONNECTION.fields + field] ?? 0;
}

/**
 * The socket cookie as one number. Cookies are handed out from a counter, so they stay far below
 * 2^53 and the number is exact.
 */
export function connectionKey(table: ConnectionTable, index: number): number {
  const r = index * CONNECTION.fields;
  return (table.data[r + CONNECTION.cookieHi] ?? 0) * 0x1_0000_0000 + (table.data[r + CONNECTION.cookieLo] ?? 0);
}

/** The peer of connection `index` is on loopback (127.0.0.0/8, ::1, or IPv4 loopback on a dual-stack socket). */
export function fromLoopback(table: ConnectionTable, index: number): boolean {
  const r = index * CONNECTION.fields + CONNECTION.remoteAddress;
  const word = (i: number): number => (table.data[r + i] ?? 0) >>> 0;
  if (connectionField(table, index, CONNECTION.family) === 4) return word(0) >>> 24 === 127;
  if (word(0) !== 0 || word(1) !== 0) return false;
  if (word(2) === 0xffff) return word(3) >>> 24 === 127;
  return word(2) === 0 && word(3) === 1;
}

/** "127.0.0.1" / "::1" from 4 host-order words starting at data[offset]. */
export function formatAddress(family: 4 | 6, data: Float64Array, offset: number): string {
  const word = (i: number): number => (data[offset + i] ?? 0) >>> 0;
  if (family === 4) {
    const w = word(0);
    return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
  }
  if (word(0) === 0 && word(1) === 0 && word(2) === 0xffff) {
    const w = word(3);
    return `::ffff:${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`; // IPv4 on a dual-stack socket
  }
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) groups.push((word(i) >>> 16).toString(16), (word(i) & 0xffff).toString(16));
  // the longest run of zero groups becomes "::"
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
