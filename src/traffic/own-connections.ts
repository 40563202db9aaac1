// The connections the init itself makes to the app (the --ready-check probe every second, an HTTP
// pre-stop action): they are not the app's traffic. A probe to the app's port every second would
// otherwise keep a 1 s --drain-quiet from ever being quiet.
import type { Socket } from 'node:net';
import { monotonicMs } from '../clock.js';

/** After one of ours closes, how long the app's end of it may linger in the dumps. */
const LINGER_MS = 10_000;

/** local port of each of our connections → until when it counts as ours (Infinity while open) */
const ours = new Map<number, number>();
let opened = 0;

/** Marks `socket`, about to connect on loopback, as the init's own. */
export function noteOwnConnection(socket: Socket): void {
  socket.once('connect', () => {
    const port = socket.localPort;
    if (port === undefined) return;
    opened++;
    ours.set(port, Number.POSITIVE_INFINITY);
    socket.once('close', () => ours.set(port, monotonicMs() + LINGER_MS));
  });
}

/** Whether a connection from loopback port `port` is one of ours. */
export function isOwnPeerPort(port: number): boolean {
  const until = ours.get(port);
  if (until === undefined) return false;
  if (until > monotonicMs()) return true;
  ours.delete(port);
  return false;
}

/** Connections of ours accepted so far (in the namespace's PassiveOpens, not the app's). */
export const ownConnectionsOpened = (): number => opened;
