import { Writable } from 'node:stream';

/**
 * process.stdout and process.stderr are never touched by the init (its log writes fd 2 itself), but
 * Node and libraries reach for them: NODE_DEBUG output, warnings, a stray console.log. The first
 * touch would make the file description the app shares non-blocking, and the app would then lose
 * output on EAGAIN. Replaced by sinks before anything can touch them.
 */
export function sealProcessStdio(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => sink });
  }
}
