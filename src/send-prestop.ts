// graceful-init --send-prestop: the exec form of the preStop hook. It runs inside the container,
// with the container's environment and user, so it finds the init's status address and token file
// where the init found them, and asks the init for its shutdown as the kubelet's httpGet hook would;
// it returns once the app has exited, so that the kubelet's stop signal comes after, not during,
// the sequence.
import { get } from 'node:http';
import type { Options } from './cli/options.js';
import { ExitError } from './errors.js';
import { bearer, loadPrestopToken } from './prestop-token.js';

/** Where a client in this network namespace reaches a listener bound to `host`. */
function reachable(host: string): string {
  // every interface (`:8081`) is IPv4 too, and not always IPv6
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** 0 once the init has answered that the app exited; an ExitError (1, or 2 for a setting) otherwise. */
export async function sendPrestop(options: Options): Promise<number> {
  const { statusAddr, prestopTokenFile } = options;
  if (!statusAddr) throw new ExitError(2, '--send-prestop: needs --status-addr HOST:PORT (GRACEFUL_INIT_STATUS_ADDR), where the init serves /prestop');
  if (!prestopTokenFile) throw new ExitError(2, '--send-prestop: needs --prestop-token-file FILE (GRACEFUL_INIT_PRESTOP_TOKEN_FILE), the token the init expects');
  const token = loadPrestopToken(prestopTokenFile);
  const host = reachable(statusAddr.host);
  const { status, body } = await new Promise<{ status: number | string; body: string }>((resolve) => {
    const req = get({ host, port: statusAddr.port, path: '/prestop', headers: { authorization: bearer(token) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text = (text + chunk).slice(0, 500)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.trim() }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? 'ERROR', body: '' }));
    });
    // the kubelet bounds the hook by the grace period; so does the init's own deadline
    req.setTimeout(options.gracePeriodMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? 'ERROR', body: '' }));
  });
  if (status === 200) return 0;
  const where = `${host.includes(':') ? `[${host}]` : host}:${statusAddr.port}`;
  throw new ExitError(1, `--send-prestop: GET /prestop at ${where}: ${typeof status === 'number' ? `${status} ${body}` : `cannot reach the init (${status})`}`);
}
