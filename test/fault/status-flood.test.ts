// The probe flood (issue 20 §2): while one source address holds hundreds of half-sent requests
// (each one closed is opened again, 2,000 new connections a second), the kubelet's probes, from
// another address, are still answered, and what the init holds stays bounded.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MODES, isAlive, killAll, lines, pid1Available, sleep, tempDir, waitFor, type Mode } from '../e2e/harness.js';
import { PINNED_NODE } from '../native/helpers.js';
import { FAULT_FIXTURES } from './helpers.js';
import { ask, startStoppable } from './status-client.js';

const attackers = new Set<ChildProcess>();
afterEach(() => {
  for (const a of attackers) a.kill('SIGKILL');
  attackers.clear();
  killAll();
});

const PROBE_FROM = '127.0.0.2';

/** A busy attacker: new connections a second, each replacing one the init pushed out. */
const RATE = 2000;

/** hold-requests.mjs from `addresses`, `count` each; resolves once it has opened `atLeast` connections. */
async function holdRequests(port: number, count: number, addresses: string[], atLeast: number): Promise<{ holding(): number }> {
  const args = [join(FAULT_FIXTURES, 'hold-requests.mjs'), String(port), String(count), String(RATE), ...addresses];
  const child = spawn(PINNED_NODE, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  attackers.add(child);
  let last = 0;
  let opened = 0;
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const m = /holding (\d+) of (\d+) opened\n$/.exec(text);
    if (m) [last, opened] = [Number(m[1]), Number(m[2])];
  });
  await waitFor(`${atLeast} connections opened`, () => opened >= atLeast, 10_000);
  return { holding: () => last };
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

async function startApp(mode: Mode, dir: string) {
  const { port, marker, init, pid } = await startStoppable(mode, dir, [], { timeoutMs: 60_000 });
  await waitFor('app ready', () => lines(marker).includes('ready'));
  await waitFor('status endpoint', async () => (await ask(port, '/healthz')).status === 200);
  return { port, marker, init, pid };
}

/** `n` probes from PROBE_FROM, one every 100 ms, as the kubelet's (timeout 1 s): their answers. */
async function probe(port: number, n: number): Promise<(number | string)[]> {
  const answers: (number | string)[] = [];
  for (let i = 0; i < n; i++) {
    const path = i % 2 ? '/readyz' : '/healthz';
    answers.push((await ask(port, path, { from: PROBE_FROM, timeoutMs: 1000 })).status);
    await sleep(100);
  }
  return answers;
}

describe.each(MODES)('status endpoint under a connection flood from other addresses (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('500 requests held half-sent from 127.0.0.1: every probe from 127.0.0.2 is answered, the init holds a bounded number of them', async () => {
    const dir = tempDir();
    try {
      const { port, marker, init, pid } = await startApp(mode, dir.path);
      const before = fds(pid);
      const flood = await holdRequests(port, 500, ['127.0.0.1'], 1000);
      const answers = await probe(port, 20);
      const during = fds(pid);
      expect(answers, `holding ${flood.holding()}`).toEqual(Array.from({ length: 20 }, () => 200));
      // 16 unfinished per source, and a few on their way out
      expect(during - before).toBeLessThan(16 + 32);
      expect(isAlive(pid)).toBe(true);
      expect(lines(marker), 'no shutdown was started').toEqual(['ready']);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.code).toBe(7);
    } finally {
      dir.cleanup();
    }
  }, 60_000);

  it.skipIf(skip)('40 addresses holding 20 each (more than the 256 in all): every probe from 127.0.0.2 is still answered', async () => {
    const dir = tempDir();
    try {
      const { port, init, pid } = await startApp(mode, dir.path);
      const before = fds(pid);
      const addresses = Array.from({ length: 40 }, (_, i) => `127.0.1.${i + 1}`);
      await holdRequests(port, 20, addresses, 1200);
      const answers = await probe(port, 20);
      expect(answers).toEqual(Array.from({ length: 20 }, () => 200));
      expect(fds(pid) - before).toBeLessThan(256 + 64);
      process.kill(pid, 'SIGTERM');
      expect((await init.result).code).toBe(7);
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});
