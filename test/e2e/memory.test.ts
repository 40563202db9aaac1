// Once the app runs, the init drops the pages of its executable that start-up read (issue 14): its
// resident share of the executable falls by a third or more, and everything it runs later comes back from
// the page cache intact: forwarding, a whole shutdown, the exit with the app's status.
// And the bundle stays one-byte text for V8 (its source is held for the life of the init).
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exeResidentKb } from '../../bench/lib/exe-resident.mjs';
import { MODES, ROOT, killAll, pid1Available, start, tempDir, waitFor, lines, SIGNAL_LOGGER } from './harness.js';

afterEach(killAll);

describe.each(MODES)('start-up pages (%s)', (mode) => {
  it.skipIf(mode === 'pid1' && !pid1Available())('dropped a second after set-up; the init goes on forwarding, shuts down and exits as before', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['--drain-delay', '100ms', '--', SIGNAL_LOGGER, log]);
      const pid = await init.initPid();
      await waitFor('app ready', () => lines(log).includes('ready'));
      const atStart = exeResidentKb(pid) ?? 0;
      // what runs again comes back (with the page cache's large folios, in MiB at a time): the
      // drop shows as a fall to well under what start-up left
      const dropped = await waitFor('the pages dropped', () => {
        const kb = exeResidentKb(pid) ?? atStart;
        return kb < atStart * 0.7 && kb;
      }, 5000);
      console.log(`${mode}: executable resident ${(atStart / 1024).toFixed(1)} MiB at start, ${(dropped / 1024).toFixed(1)} MiB after the drop`);
      expect(atStart - dropped).toBeGreaterThan(8 * 1024);
      process.kill(pid, 'SIGUSR1');
      await waitFor('USR1 forwarded', () => lines(log).includes('USR1'));
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(0);
      expect(lines(log)).toEqual(['ready', 'USR1', 'TERM']);
      expect(r.stderr).toMatch(/^graceful-init: shutdown on SIGTERM, drain 0\.1s, SIGTERM to app at [^,]+, app exited with 0 at [^,]+, exit 0\n$/);
    } finally {
      dir.cleanup();
    }
  });
});

it("the bundle's source holds no character past Latin-1: V8 would keep all of it as a two-byte string, twice its size, for the init's whole life", () => {
  const source = readFileSync(join(ROOT, 'dist', 'graceful-init.js'), 'utf8');
  const wide = [...new Set(source)].filter((c) => (c.codePointAt(0) ?? 0) > 0xff);
  expect(wide).toEqual([]);
});
