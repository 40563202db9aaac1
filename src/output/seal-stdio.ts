let sealed = false;

/**
 * Replaces process.stdin/stdout/stderr with streams that lead nowhere, before anything reads them.
 * The first read of Node's own getters opens the shared descriptor as a stream, and for a pipe libuv
 * makes its open file description O_NONBLOCK: the app, which shares it, then gets EAGAIN on its own
 * writes. Node's warnings, NODE_DEBUG output and any dependency's output go to these sinks instead;
 * the init writes through output/fd-writer.ts only. Idempotent. The sinks are made on first use:
 * node:stream costs start-up time and memory, and nothing of ours reads them.
 */
export function sealProcessStdio(): void {
  if (sealed) return;
  sealed = true;
  const sinks: Record<'stdin' | 'stdout' | 'stderr', () => NodeJS.ReadStream | NodeJS.WriteStream> = {
    stdin: () => Object.assign(stream().Readable.from([]), { fd: 0, isTTY: false }) as unknown as NodeJS.ReadStream,
    stdout: () => discard(1),
    stderr: () => discard(2),
  };
  for (const [name, make] of Object.entries(sinks)) {
    let stream: NodeJS.ReadStream | NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: true,
      get: () => (stream ??= make()),
    });
  }
}

function discard(fd: number): NodeJS.WriteStream {
  const sink = new (stream().Writable)({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  return Object.assign(sink, { fd, isTTY: false, columns: 80, rows: 24 }) as unknown as NodeJS.WriteStream;
}

function stream(): typeof import('node:stream') {
  return process.getBuiltinModule('node:stream');
}
