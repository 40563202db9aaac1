// What the status endpoint's clients may hold, per source. A client that keeps hundreds of requests
// half-sent must not keep the kubelet's probes out: each source address has a few unfinished
// connections at most, and a new one pushes out that source's oldest, never another source's. Past
// the total, the source that holds the most loses its oldest: a probe, which sends its request at
// once, is never the one that holds the most.
import type { Socket } from 'node:net';

export interface ClientLimits {
  /** unfinished connections one source (an IPv4 address, an IPv6 /64) may hold */
  perSource: number;
  /** unfinished connections from all sources together */
  total: number;
}

/**
 * The source a limit counts against: an IPv4 address (also when mapped into IPv6), or the /64 of
 * an IPv6 address (a host usually holds a whole /64).
 */
export function sourceOf(address: string | undefined): string {
  if (!address) return '?';
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1] as string;
  const [head = '', tail] = (address.split('%')[0] ?? '').split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

export class StatusClients {
  /** each source's unfinished connections, oldest first */
  private readonly bySource = new Map<string, Socket[]>();
  /** when each was admitted, in admissions */
  private readonly admitted = new WeakMap<Socket, number>();
  private admissions = 0;
  private count = 0;

  constructor(private readonly limits: ClientLimits) {}

  /** A new connection: counted against its source; whoever it pushes out is destroyed. */
  admit(socket: Socket): void {
    const source = sourceOf(socket.remoteAddress);
    const held = this.bySource.get(source) ?? [];
    this.bySource.set(source, held);
    held.push(socket);
    this.admitted.set(socket, this.admissions++);
    this.count++;
    socket.once('close', () => this.settle(socket));
    if (held.length > this.limits.perSource) this.evictOldest(held);
    if (this.count > this.limits.total) this.evictOldest(this.largest());
  }

  /** Its request has arrived (or it closed): it no longer counts. */
  settle(socket: Socket): void {
    const source = sourceOf(socket.remoteAddress);
    const held = this.bySource.get(source);
    const at = held?.indexOf(socket) ?? -1;
    if (!held || at < 0) return;
    held.splice(at, 1);
    this.count--;
    if (held.length === 0) this.bySource.delete(source);
  }

  private evictOldest(held: Socket[]): void {
    const oldest = held[0];
    if (!oldest) return;
    this.settle(oldest);
    oldest.destroy();
  }

  /** The source that holds the most; of equals, the one whose oldest came first. */
  private largest(): Socket[] {
    const age = (held: Socket[]) => this.admitted.get(held[0] as Socket) ?? 0;
    let pick: Socket[] = [];
    for (const held of this.bySource.values()) {
      if (held.length > pick.length || (held.length === pick.length && age(held) < age(pick))) pick = held;
    }
    return pick;
  }
}
