import { closeSync, constants, fstatSync, openSync, writeSync, type Stats } from 'node:fs';
import { loadNative } from '../reaper/load.js';
import type { Addon } from '../reaper/native-api.js';
import type { Native } from '../reaper/native.js';

/** One write of at most this many bytes to a pipe is atomic (PIPE_BUF on Linux). */
export const MAX_WRITE = 4096;

/**
 * How the init writes to a descriptor it shares with the app (1, 2) without ever blocking and without
 * changing the shared open file description (O_NONBLOCK there would hand the app EAGAIN):
 *   reopened  pipe, FIFO or terminal: /proc/self/fd/N opened again with O_NONBLOCK, which is a NEW open
 *             file description on the same pipe, with flags of its own
 *   file      regular file or block device: a plain write, it does not wait for a reader
 *   socket    send(MSG_DONTWAIT | MSG_NOSIGNAL) (native)
 *   poll      no /proc, or the reopen refused (a pipe created by another user): poll(POLLOUT, 0) then
 *             one write of <= PIPE_BUF (native); it can still block if the app fills the pipe between
 *             the two calls
 *   blocking  the native part could not be loaded: a plain write, which can block (the init is then
 *             running in a degraded mode it reports anyway)
 *   closed    the descriptor is not open: everything is dropped
 * What cannot be written at once is dropped and counted, never queued.
 */
export type WriteMethod = 'reopened' | 'file' | 'socket' | 'poll' | 'blocking' | 'closed';

export interface FdWriter {
  readonly fd: number;
  /** Writes `data` (at most MAX_WRITE bytes, whole lines) now or not at all; false when dropped. */
  write(data: Buffer): boolean;
  /** chunks dropped so far */
  readonly dropped: number;
  /** decided at the first write */
  readonly method: WriteMethod | null;
}

type NativeWrites = Pick<Addon, 'sendNonBlocking' | 'pollWrite'>;

let native: NativeWrites | null | undefined;

/** Lets main, which loaded the addon, share it (else it is loaded here, the first time it is needed). */
export function useNativeWrites(loaded: Native | null): void {
  native = loaded?.addon ?? null;
}

function nativeWrites(): NativeWrites | null {
  if (native === undefined) useNativeWrites(loadNative().native);
  return native ?? null;
}

const writers = new Map<number, FdWriter>();

/** The one writer of `fd` for the whole process (the logger and pre-stop output share it). */
export function writerFor(fd: number): FdWriter {
  let w = writers.get(fd);
  if (!w) {
    w = createFdWriter(fd);
    writers.set(fd, w);
  }
  return w;
}

function reopenNonBlocking(fd: number, st: Stats): number | null {
  let reopened: number;
  try {
    reopened = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return null; // no /proc, EACCES (a pipe another user created), ENXIO (a FIFO nobody reads)
  }
  try {
    const again = fstatSync(reopened);
    if (again.dev === st.dev && again.ino === st.ino) return reopened;
  } catch {
    // fall through
  }
  closeSync(reopened);
  return null;
}

export function createFdWriter(fd: number): FdWriter {
  let dropped = 0;
  let method: WriteMethod | null = null;
  let target = fd;
  let nat: NativeWrites | null = null;

  const decide = (): WriteMethod => {
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch {
      return 'closed';
    }
    if (st.isFile() || st.isBlockDevice()) return 'file';
    if (!st.isSocket()) {
      const reopened = reopenNonBlocking(fd, st);
      if (reopened !== null) {
        target = reopened;
        return 'reopened';
      }
    }
    // only now the addon: a usage error on a piped stderr need not load it
    nat = nativeWrites();
    if (!nat) return 'blocking';
    return st.isSocket() ? 'socket' : 'poll';
  };

  /** bytes written, or a negative errno */
  const writeOnce = (data: Buffer, m: WriteMethod): number => {
    switch (m) {
      case 'socket':
        return (nat as NativeWrites).sendNonBlocking(target, data);
      case 'poll':
        return (nat as NativeWrites).pollWrite(target, data);
      case 'closed':
        return -1;
      default:
        try {
          return writeSync(target, data);
        } catch (err) {
          return (err as NodeJS.ErrnoException).errno ?? -1;
        }
    }
  };

  return {
    fd,
    get dropped() {
      return dropped;
    },
    get method() {
      return method;
    },
    write(data: Buffer): boolean {
      method ??= decide();
      let off = 0;
      // a pipe takes <= PIPE_BUF bytes whole or not at all; a terminal or socket may take part of it
      while (off < data.length) {
        const n = writeOnce(off === 0 ? data : data.subarray(off), method);
        if (n <= 0) break; // EAGAIN (full), EPIPE (no reader), EBADF: drop the rest
        off += n;
      }
      if (off < data.length) {
        dropped++;
        return false;
      }
      return true;
    },
  };
}
