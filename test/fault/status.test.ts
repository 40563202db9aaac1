// Fault cases for the status endpoint (issue 10, item 1): floods of slow, idle and malformed clients
// must not take the init down or start a shutdown, and only GET /prestop starts one.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { request } from 'node:http';
import {
  MODES, freePort, httpGet, isAlive, killAll, killMarked, markedEnv, pid1Available, sleep, start, tempDir, waitFor, lines, SIGNAL_LOGGER,
} from '../e2e/harness.js';
import { STOPPABLE, newMark } from './helpers.js';
import { ask, tokenFile, withToken } from './status-client.js';

const marks: string[] = [];
const open = new Set<Socket>();
afterEach(() => {
  for (const s of open) s.destroy();
  open.clear();
  killAll();
  for (const m of marks.splice(0)) killMarked(m);
});

type Kind = 'slow-headers' | 'idle' | 'garbage' | 'methods' | 'big-body';
const METHODS = ['HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'BREW'];
const PATHS = ['/prestop', '/healthz', '/readyz', '/', '/nope'];

/** 15 KB of headers that never end: 400 short ones (many small strings are what exhausted the heap) */
const SLOW_HEAD = `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 400 }, (_, i) => `X-Pad-${i}: ${'a'.repeat(25)}\r\n`).join('')}`;

function client(port: number, kind: Kind, i: number): Socket {
  const s = connect({ host: '127.0.0.1', port });
  open.add(s);
  s.on('error', () => {});
  s.on('close', () => open.delete(s));
  s.on('data', () => {});
  s.on('connect', () => {
    switch (kind) {
      case 'slow-headers':
        s.write(SLOW_HEAD);
        break;
      case 'garbage':
        s.write(Buffer.from(`\x00\xff\xfe GARBAGE ${i}\r\n\r\n\r\nGET / HTTP/9.9\r\n\r\n`, 'latin1'));
        break;
      case 'methods':
        // every method but the one that is meant to start a shutdown (GET /prestop)
        // i counts this kind's clients: every method on every path
        s.write(`${METHODS[i % METHODS.length]} ${PATHS[Math.floor(i / METHODS.length) % PATHS.length]} HTTP/1.1\r\nHost: x\r\n\r\n`);
        break;
      case 'big-body':
        s.write(`POST /prestop HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n${'b'.repeat(60_000)}`);
        break;
      case 'idle':
        break;
    }
  });
  return s;
}

async function flood(port: number, n: number, kinds: Kind[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    client(port, kinds[i % kinds.length] as Kind, Math.floor(i / kinds.length));
    if (i % 100 === 99) await sleep(5); // let the loop breathe: the client side is one process too
  }
}

/** HEAD/POST/... with a plain request; answers the status code or the error name. */
function send(port: number, method: string, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'ERROR'));
    req.end();
  });
}

/** /healthz from a fresh client, retried until it answers 200 or `ms` pass. */
async function healthyWithin(port: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await httpGet(port, '/healthz', 1000)).status === 200) return true;
    await sleep(200);
  }
  return false;
}

describe.each(MODES)('status endpoint under attack (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  async function startApp(dirPath: string, mark: string, app = STOPPABLE, appArgs = ['7']) {
    const port = await freePort();
    const marker = join(dirPath, 'app');
    const args = ['--status-addr', `127.0.0.1:${port}`, '--prestop-token-file', tokenFile(dirPath), '--', app, ...appArgs, marker];
    const init = start(mode, args, { env: markedEnv(mark), timeoutMs: 40_000 });
    const pid = await init.initPid();
    await waitFor('app ready', () => lines(marker).includes('ready'));
    await waitFor('status endpoint', async () => (await httpGet(port, '/healthz', 1000)).status === 200);
    return { port, marker, init, pid };
  }

  it.skipIf(skip)('2,500 connections that send 15 KB of headers and never finish: the init lives, answers a fresh /healthz, and stops the app normally on TERM', async () => {
    const dir = tempDir();
    const mark = newMark('status-slow');
    marks.push(mark);
    try {
      const { port, marker, init, pid } = await startApp(dir.path, mark);
      await flood(port, 2500, ['slow-headers']);
      await sleep(3000);
      expect(isAlive(pid), 'the init died under the flood').toBe(true);
      expect(await healthyWithin(port, 10_000), 'no answer to a fresh /healthz').toBe(true);
      expect(lines(marker), 'no shutdown was started').toEqual(['ready']);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(lines(marker)).toEqual(['ready', 'TERM']);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/shutdown on SIGTERM, SIGTERM to app at .*exit 7\n$/);
    } finally {
      dir.cleanup();
    }
  }, 60_000);

  it.skipIf(skip)('2,000 idle, slow, malformed and every-method clients: no shutdown starts, signals are still forwarded, a fresh /healthz answers soon after', async () => {
    const dir = tempDir();
    const mark = newMark('status-mixed');
    marks.push(mark);
    try {
      const { port, marker, init, pid } = await startApp(dir.path, mark, SIGNAL_LOGGER, []);
      const flooding = flood(port, 2000, ['idle', 'slow-headers', 'garbage', 'methods', 'big-body']);
      for (const signal of ['SIGUSR2', 'SIGHUP', 'SIGWINCH'] as const) {
        process.kill(pid, signal);
        await sleep(150);
      }
      await flooding;
      await sleep(1000);
      expect(isAlive(pid)).toBe(true);
      await waitFor('signals forwarded during the flood', () => lines(marker).length >= 4, 3000).catch(() => {});
      expect(lines(marker)).toEqual(['ready', 'USR2', 'HUP', 'WINCH']);
      expect(await healthyWithin(port, 10_000), 'no answer to a fresh /healthz').toBe(true);
      expect((await httpGet(port, '/readyz', 2000)).status, 'a shutdown was started by the flood').toBe(200);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(lines(marker)).toEqual(['ready', 'USR2', 'HUP', 'WINCH', 'TERM']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/shutdown on SIGTERM, SIGTERM to app at .*exit 0\n$/);
    } finally {
      dir.cleanup();
    }
  }, 60_000);

  it.skipIf(skip)('only GET starts the shutdown through /prestop; HEAD and the rest get 405 and change nothing', async () => {
    const dir = tempDir();
    const mark = newMark('status-methods');
    marks.push(mark);
    try {
      const { port, marker, init } = await startApp(dir.path, mark);
      for (const method of ['HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
        expect(await send(port, method, '/prestop'), `${method} /prestop`).toBe(405);
      }
      expect(await send(port, 'HEAD', '/healthz')).toBe(200);
      expect(await send(port, 'HEAD', '/readyz')).toBe(200);
      expect(await send(port, 'POST', '/healthz')).toBe(405);
      await sleep(300);
      expect((await httpGet(port, '/readyz')).status, 'a shutdown was started').toBe(200);
      expect(lines(marker)).toEqual(['ready']);
      const answer = await ask(port, '/prestop', { headers: withToken(), timeoutMs: 10_000 });
      expect(answer).toMatchObject({ status: 200, body: 'app exited\n' });
      const r = await init.result;
      expect(lines(marker)).toEqual(['ready', 'TERM']);
      expect(r.code).toBe(7);
    } finally {
      dir.cleanup();
    }
  });
});
