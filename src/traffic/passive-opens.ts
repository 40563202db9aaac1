// TCP PassiveOpens of this network namespace (/proc/net/snmp): counts the connections accepted
// even when they opened and closed between two polls, which no socket listing can see.
import { readFileSync } from 'node:fs';

/** The counter, or null when /proc is not mounted or the line is missing. */
export function readPassiveOpens(file = '/proc/net/snmp'): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return null;
  }
  return passiveOpensFrom(text);
}

/** Reads "Tcp: ... PassiveOpens ..." header and value lines. */
export function passiveOpensFrom(snmp: string): number | null {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = lines[0]?.split(/\s+/);
  const values = lines[1]?.split(/\s+/);
  if (!names || !values) return null;
  const at = names.indexOf('PassiveOpens');
  const value = at >= 0 ? Number(values[at]) : Number.NaN;
  return Number.isFinite(value) ? value : null;
}
