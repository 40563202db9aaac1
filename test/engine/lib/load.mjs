// HTTP load on 127.0.0.1 for the engine tests and the rollout benchmark, and the nginx site the
// containers serve (mounted into the nginx images' /etc/nginx/conf.d).
import { get } from 'node:http';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One GET; resolves to 'ok' (the status wanted and the whole body), 'refused', 'reset',
 * 'truncated', 'http <status>' or 'other:<code>'. Never rejects.
 */
export function request(port, path, { expectBytes, timeoutMs = 20_000, onHeaders, headers } = {}) {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    const req = get({ host: '127.0.0.1', port, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      onHeaders?.();
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      const finish = () => {
        if (res.statusCode !== 200) done(`http ${res.statusCode}`);
        else done(res.complete && (expectBytes === undefined || bytes === expectBytes) ? 'ok' : 'truncated');
      };
      res.on('end', finish);
      res.on('aborted', () => done('truncated'));
      res.on('error', () => done('truncated'));
      res.on('close', finish);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => {
      if (err.code === 'ECONNREFUSED') done('refused');
      else if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up') done('reset');
      else done(`other:${err.code ?? err.message}`);
    });
  });
}

/** { total, failed, kinds: { outcome: count } } of a list of outcomes. */
export function tally(outcomes) {
  const kinds = {};
  for (const o of outcomes) if (o !== 'ok') kinds[o] = (kinds[o] ?? 0) + 1;
  return { total: outcomes.length, failed: outcomes.filter((o) => o !== 'ok').length, kinds };
}

/**
 * Constant load: every `everyMs`, a GET of each path in `paths` ([path, expectBytes]); `stop()`
 * ends it and resolves to every outcome, once they have all settled.
 */
export function constantLoad(port, paths, { everyMs = 50 } = {}) {
  const pending = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const [path, expectBytes] of paths) pending.push(request(typeof port === 'function' ? port() : port, path, { expectBytes }));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    count: () => pending.length,
    async stop() {
      running = false;
      await loop;
      return Promise.all(pending);
    },
  };
}

/**
 * The site: /fast.txt ("ok\n") and /slow.bin (`slowBytes` at `rate`), one server block listening on
 * 127.0.0.1:<port>. `volumes(port)` are the `docker run` arguments that mount it.
 */
export function nginxSite(dir, { slowBytes, rate }) {
  chmodSync(dir, 0o755); // the workers run as www-data
  const www = join(dir, 'www');
  mkdirSync(www);
  writeFileSync(join(www, 'fast.txt'), 'ok\n');
  writeFileSync(join(www, 'slow.bin'), Buffer.alloc(slowBytes, 'x'));
  const mounts = (port) => {
    const conf = join(dir, `conf.d-${port}`);
    mkdirSync(conf, { recursive: true });
    writeFileSync(
      join(conf, 'site.conf'),
      `server {
  listen 127.0.0.1:${port};
  access_log off;
  root /srv/www;
  location = /slow.bin { limit_rate ${rate}; limit_rate_after 0; }
}
`,
    );
    return [[conf, '/etc/nginx/conf.d'], [www, '/srv/www']];
  };
  return {
    slowBytes,
    mounts,
    volumes: (port) => mounts(port).flatMap(([host, path]) => ['-v', `${host}:${path}:ro`]),
  };
}
