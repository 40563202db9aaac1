import { fstatSync, readdirSync } from 'node:fs';

const S_IFMT = 0o170000;
const S_IFIFO = 0o010000;

/**
 * Descriptors 3 and up that the init was started with (podman's --preserve-fds, systemd socket
 * activation, a shell's 3>file). Node marked them close-on-exec at start, and by the time this
 * runs it has opened its own: anonymous inodes (epoll, eventfd, io_uring) and self-pipes, whose
 * two ends we both hold. Everything else was inherited. Without /proc, descriptors 3..1023 are probed.
 */
export function inheritedDescriptors(): number[] {
  let fds: number[];
  try {
    fds = readdirSync('/proc/self/fd').map(Number);
  } catch {
    fds = Array.from({ length: 1021 }, (_, i) => i + 3);
  }
  const kinds = new Map<number, { type: number; ino: number }>();
  for (const fd of fds) {
    if (fd < 3) continue;
    try {
      const st = fstatSync(fd);
      kinds.set(fd, { type: st.mode & S_IFMT, ino: st.ino });
    } catch {
      // not open (or the directory handle readdir used, closed again)
    }
  }
  const pipeEnds = new Map<number, number>();
  for (const { type, ino } of kinds.values()) if (type === S_IFIFO) pipeEnds.set(ino, (pipeEnds.get(ino) ?? 0) + 1);
  return [...kinds.entries()]
    .filter(([, { type, ino }]) => type !== 0 && !(type === S_IFIFO && (pipeEnds.get(ino) ?? 0) > 1))
    .map(([fd]) => fd)
    .sort((a, b) => a - b);
}
