// GET /prestop starts the shutdown: only with the token (issue 20 §1). Another host (127.0.0.2)
// without it, with a wrong one, or by any trick gets 401/403 and the app keeps running; probes and
// metrics need no token; without --prestop-token-file /prestop is off. A /prestop that comes before
// the app exists waits for it instead of answering "app exited" while nothing stopped.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BINARY, MODES, TEST_HOOKS_BINARY, cleanEnv, freePort, isAlive, killAll, pid1Available, readText, sleep, start, tempDir, waitFor, lines } from '../e2e/harness.js';
import { STOPPABLE } from './helpers.js';
import { TOKEN, ask, startStoppable, tokenFile, withToken } from './status-client.js';

afterEach(killAll);

const OTHER_HOST = '127.0.0.2';

describe.each(MODES)('/prestop needs the token (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('from another host: no token 401, a wrong one 403, and the app keeps running; probes and metrics need none; with the token the sequence runs', async () => {
    const dir = tempDir();
    try {
      const { port, marker, init, pid } = await startStoppable(mode, dir.path, ['--prestop-token-file', tokenFile(dir.path)]);
      await waitFor('app ready', () => lines(marker).includes('ready'));
      await waitFor('status endpoint', async () => (await ask(port, '/healthz', { from: OTHER_HOST })).status === 200);
      const refused: [Record<string, string>, number][] = [
        [{}, 401],
        [{ authorization: 'Bearer wrong-token-of-some-length' }, 403],
        [withToken(`${TOKEN}x`), 403],
        [withToken(TOKEN.slice(0, -1)), 403],
        [{ authorization: TOKEN }, 403],
        [{ authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, 403],
        [{ authorization: `Bearer ${TOKEN} ${TOKEN}` }, 403],
        [{ authorization: 'Bearer' }, 403],
      ];
      for (const [headers, status] of refused) {
        const answer = await ask(port, '/prestop', { from: OTHER_HOST, headers });
        expect(answer.status, JSON.stringify(headers)).toBe(status);
      }
      for (const path of ['/healthz', '/readyz', '/metrics']) expect((await ask(port, path, { from: OTHER_HOST })).status, path).toBe(200);
      await sleep(300);
      expect(lines(marker), 'nothing was stopped').toEqual(['ready']);
      expect((await ask(port, '/readyz', { from: OTHER_HOST })).status, 'a shutdown was started').toBe(200);
      expect(isAlive(pid)).toBe(true);

      const accepted = await ask(port, '/prestop', { from: OTHER_HOST, headers: { authorization: `bearer ${TOKEN}` }, timeoutMs: 20_000 });
      expect(accepted).toMatchObject({ status: 200, body: 'app exited\n' });
      const r = await init.result;
      expect(lines(marker)).toEqual(['ready', 'TERM']);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/^graceful-init: refused GET \/prestop from 127\.0\.0\.2: no token$/m);
      expect(r.stderr).toMatch(/^graceful-init: shutdown on GET \/prestop, SIGTERM to app at .*, exit 7$/m);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('without --prestop-token-file /prestop is off: 404 whatever the request carries, and nothing starts', async () => {
    const dir = tempDir();
    try {
      const { port, marker, init, pid } = await startStoppable(mode, dir.path, []);
      await waitFor('app ready', () => lines(marker).includes('ready'));
      await waitFor('status endpoint', async () => (await ask(port, '/healthz')).status === 200);
      for (const headers of [{}, withToken()]) {
        const answer = await ask(port, '/prestop', { from: OTHER_HOST, headers });
        expect(answer).toMatchObject({ status: 404, body: '/prestop is off: the init was started without --prestop-token-file\n' });
      }
      await sleep(300);
      expect(lines(marker)).toEqual(['ready']);
      process.kill(pid, 'SIGTERM');
      expect((await init.result).code).toBe(7);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a /prestop that comes before the app exists waits for it: the app starts, gets the sequence, and the answer comes once it has exited', async () => {
    const dir = tempDir();
    try {
      // the test build waits 1.5 s between opening the status endpoint and starting the app; the
      // drain gives the app the time to set its TERM trap
      const { port, marker, init } = await startStoppable(mode, dir.path, ['--prestop-token-file', tokenFile(dir.path), '--drain-delay', '500ms'], {
        binary: TEST_HOOKS_BINARY,
        env: cleanEnv({ GI_TEST_SPAWN_DELAY_MS: '1500' }),
      });
      await waitFor('status endpoint', async () => (await ask(port, '/healthz')).status !== 'ECONNREFUSED', 5000);
      expect(lines(marker), 'the app is not there yet').toEqual([]);
      const answer = await ask(port, '/prestop', { headers: withToken(), timeoutMs: 20_000 });
      expect(answer).toMatchObject({ status: 200, body: 'app exited\n' });
      expect(lines(marker), 'it answered before the app had started and stopped').toEqual(['ready', 'TERM']);
      const r = await init.result;
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/shutdown on GET \/prestop, drain 0\.5s, SIGTERM to app at .*, exit 7\n$/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('--send-prestop, the exec form of the hook, inside the container: the sequence runs, and it returns 0 once the app has exited', async () => {
    const dir = tempDir();
    try {
      const port = await freePort();
      const env = { GRACEFUL_INIT_STATUS_ADDR: `:${port}`, GRACEFUL_INIT_PRESTOP_TOKEN_FILE: tokenFile(dir.path) };
      const marker = join(dir.path, 'app');
      const init = start(mode, ['--', STOPPABLE, '7', marker], { env: cleanEnv(env), timeoutMs: 30_000 });
      await waitFor('app ready', () => lines(marker).includes('ready'));
      await waitFor('status endpoint', async () => (await ask(port, '/healthz')).status === 200);
      const hook = spawnSync(BINARY, ['--send-prestop'], { env: cleanEnv(env), encoding: 'utf8', timeout: 20_000 });
      expect(hook.stderr).toBe('');
      expect(hook.status).toBe(0);
      expect(lines(marker), 'the hook returned before the app had exited').toEqual(['ready', 'TERM']);
      expect((await init.result).code).toBe(7);
      // a wrong token: one line, exit 1
      const wrong = tokenFile(dir.path, 'not-the-token-the-init-has', { name: 'wrong-token' });
      const init2 = start(mode, ['--', STOPPABLE, '7', marker], { env: cleanEnv(env), timeoutMs: 30_000 });
      await waitFor('status endpoint', async () => (await ask(port, '/healthz')).status === 200);
      const refused = spawnSync(BINARY, ['--send-prestop', '--prestop-token-file', wrong], { env: cleanEnv(env), encoding: 'utf8', timeout: 20_000 });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toBe(`graceful-init: --send-prestop: GET /prestop at 127.0.0.1:${port}: 403 wrong token\n`);
      process.kill(await init2.initPid(), 'SIGTERM');
      expect((await init2.result).code).toBe(7);
    } finally {
      dir.cleanup();
    }
  });
});

describe('the token file', () => {
  it('missing, too short, holding spaces or a directory: refused before the app starts, one line, exit 2; readable by everyone: a warning', async () => {
    const dir = tempDir();
    try {
      const cases: [string, RegExp][] = [
        [join(dir.path, 'missing'), /: cannot read it \(ENOENT\); give a file the init can read$/],
        [tokenFile(dir.path, 'secret', { name: 'short' }), /: holds 6 characters; write 16 to 1024 random printable characters, e.g. head -c 24 \/dev\/urandom \| base64$/],
        [tokenFile(dir.path, 'a token with some spaces in it', { name: 'spaces' }), /: holds spaces or other characters that cannot go into an HTTP header; write 16 to 1024 /],
        [dir.path, /: not a regular file$/],
      ];
      for (const [file, why] of cases) {
        const port = await freePort();
        const marker = join(dir.path, 'ran');
        const r = await start('child', ['--status-addr', `127.0.0.1:${port}`, '--prestop-token-file', file, '--', 'touch', marker]).result;
        expect(r.code, file).toBe(2);
        const text = r.stderr.trim();
        expect(text.split('\n'), file).toHaveLength(1);
        expect(text, file).toMatch(new RegExp(`^graceful-init: --prestop-token-file ${file}${why.source}`));
        expect(readText(marker), 'the app ran').toBe('');
      }
      const open = tokenFile(dir.path, TOKEN, { name: 'open', mode: 0o644 });
      const r = await start('child', ['--status-addr', `127.0.0.1:${await freePort()}`, '--prestop-token-file', open, '--', 'true']).result;
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(
        `graceful-init: --prestop-token-file ${open} is readable by every user (mode 644): any process in the container can stop the app; make it 0400 (defaultMode: 0400 for a Secret volume)\n`,
      );
    } finally {
      dir.cleanup();
    }
  });
});
