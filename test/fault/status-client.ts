// For the status endpoint tests: an HTTP client from a chosen source address (127.0.0.2 stands for
// another host), with chosen headers (the status code, or the error's name); the /prestop token file;
// the stoppable app under the init with the endpoint on a free port.
import { request } from 'node:http';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, start, type Mode, type RunOptions } from '../e2e/harness.js';
import { STOPPABLE } from './helpers.js';

export interface Answer {
  status: number | string;
  body: string;
  ms: number;
}

export function ask(port: number, path: string, opts: { from?: string; method?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const done = (status: number | string, body: string) => resolve({ status, body, ms: Date.now() - started });
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.from, agent: false, timeout: opts.timeoutMs ?? 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => done(res.statusCode ?? 0, body));
        res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'ERROR', body));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'ERROR', ''));
    req.end();
  });
}

export const TOKEN = 'kV3q9ZpL0sWx7RtY2uNb8cHd';

/** A token file in `dir`, readable by its owner only by default (as a Secret volume with defaultMode 0400). */
export function tokenFile(dir: string, token = TOKEN, { name = 'prestop-token', mode = 0o400 } = {}): string {
  const file = join(dir, name);
  writeFileSync(file, `${token}\n`);
  chmodSync(file, mode);
  return file;
}

export const withToken = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

/** stoppable.sh (exit 7 on TERM, its log in `dir`/app) under the init with `extra` options, the status endpoint on a free port. */
export async function startStoppable(mode: Mode, dir: string, extra: string[], opts: RunOptions = {}) {
  const port = await freePort();
  const marker = join(dir, 'app');
  const init = start(mode, ['--status-addr', `127.0.0.1:${port}`, ...extra, '--', STOPPABLE, '7', marker], { timeoutMs: 30_000, ...opts });
  const pid = await init.initPid();
  return { port, marker, init, pid };
}
