// An HTTP client for the status endpoint tests: from a chosen source address (127.0.0.2 stands for
// another host), with chosen headers; the status code, or the error's name.
import { request } from 'node:http';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** A token file in `dir`, readable by its owner only (as a Secret volume with defaultMode 0400). */
export function tokenFile(dir: string, token = TOKEN): string {
  const file = join(dir, 'prestop-token');
  writeFileSync(file, `${token}\n`);
  chmodSync(file, 0o400);
  return file;
}

export const withToken = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
