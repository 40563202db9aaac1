// The table of servers' graceful stops (src/profiles) as the binary applies it, with programs that
// need no server package: --check on the commands people run, a forced --profile on a shell app,
// and the warning when a signal that stops the app bypasses the sequence.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, pid1Available, run, sleep, underSignalLogger, waitFor } from './harness.js';

afterEach(killAll);

describe('--check -- COMMAND names the server the command runs and what the stop step sends', () => {
  it.each([
    [['nginx', '-g', 'daemon off;'], 'nginx', 'QUIT', 'https://nginx.org/en/docs/control.html'],
    [['apache2ctl', '-DFOREGROUND'], 'Apache httpd', 'WINCH', 'https://httpd.apache.org/docs/2.4/stopping.html'],
    [['haproxy', '-W', '-db', '-f', '/usr/local/etc/haproxy/haproxy.cfg'], 'HAProxy', 'USR1', 'https://docs.haproxy.org/2.6/management.html#4'],
    [['docker-php-entrypoint', 'php-fpm'], 'PHP-FPM', 'QUIT', 'https://github.com/php/php-src/blob/master/sapi/fpm/php-fpm.8.in'],
    [['gunicorn', '-b', ':8000', 'app:app'], 'Gunicorn', 'TERM', 'https://docs.gunicorn.org/en/stable/signals.html'],
    [['docker-entrypoint.sh', 'postgres'], 'PostgreSQL', 'INT', 'https://www.postgresql.org/docs/current/server-shutdown.html'],
  ])('%j: %s, %s', async (command, title, signal, source) => {
    const r = await run('child', ['--check', '--', ...command]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out.split('\n')[0]).toMatch(new RegExp(`^${title} recognised from the command line: the stop step (waits up to 23s for the requests in flight, then )?sends ${signal}, its graceful stop \\(${source.replace(/[.?]/g, '\\$&')}\\)`));
    expect(out).toMatch(new RegExp(`t=0s +stop: ${signal} \\(${title}'s graceful stop\\) to the app`));
  });

  it('PHP-FPM: the stop step waits for the requests in flight first (QUIT alone does not, as it is configured by default)', async () => {
    const out = (await run('child', ['--check', '--', 'php-fpm', '-F'])).stdout.toString();
    expect(out).toMatch(/^PHP-FPM recognised from the command line: the stop step waits up to 23s for the requests in flight, then sends QUIT, its graceful stop \(\S+\); QUIT alone lets them finish only with process_control_timeout above 0 in php-fpm\.conf/);
    expect(out).toMatch(/t=0s +then up to 23s until every request in flight is answered\n.*t=0s +stop: QUIT \(PHP-FPM's graceful stop\) to the app/s);
  });

  it('a setting that contradicts the table: a warning with the graceful stop and its source', async () => {
    const r = await run('child', ['--check', '--stop-signal', 'TERM', '--', 'nginx', '-g', 'daemon off;']);
    expect(r.stdout.toString()).toMatch(/^warning: --stop-signal TERM: TERM is nginx's fast shutdown \(connections are closed at once\) and no --pre-stop stops it first: requests in flight are cut; its graceful stop is QUIT \(https:\/\/nginx\.org\/en\/docs\/control\.html\)$/m);
  });

  it('--profile none, or an app the table does not know: the timeline as before, no server line', async () => {
    for (const args of [['--profile', 'none', '--', 'nginx'], ['--', 'node', 'server.js']]) {
      const out = (await run('child', ['--check', ...args])).stdout.toString();
      expect(out.split('\n')[0]).toMatch(/^t=0s +a stop signal arrives \(TERM, INT\)/);
      expect(out).toMatch(/stop: the signal received \(after --rewrite\) to the app/);
    }
  });
});

describe.skipIf(!pid1Available())('the table at work on a shell app (as PID 1)', () => {
  it('a drain configured and QUIT forwarded (not a stop signal of this app): one warning, at the first QUIT only', async () => {
    const { logged, result } = await underSignalLogger('pid1', ['--drain-delay', '1s'], async (pid, sofar) => {
      process.kill(pid, 'SIGQUIT');
      await waitFor('QUIT', () => sofar().includes('QUIT'));
      process.kill(pid, 'SIGQUIT');
      await waitFor('the second QUIT', () => sofar().filter((l) => l === 'QUIT').length === 2);
      process.kill(pid, 'SIGTERM');
    });
    expect(logged).toEqual(['ready', 'QUIT', 'QUIT', 'TERM']);
    expect(result.stderr.split('\n').filter((l) => l.includes('forwarded SIGQUIT'))).toEqual([
      "graceful-init: forwarded SIGQUIT to the app as it is (a stop signal for many servers): it is not a stop signal here, so no drain, pre-stop or deadline runs for it; if it is the image's STOPSIGNAL, add it to --stop-signals (or run with --profile auto) or restate STOPSIGNAL SIGTERM",
    ]);
    expect(result.stderr).toMatch(/shutdown on SIGTERM, drain 1s, SIGTERM to app at 1s/);
  });

  it('no sequence configured: QUIT is forwarded silently, as tini does', async () => {
    const { logged, result } = await underSignalLogger('pid1', [], async (pid, sofar) => {
      process.kill(pid, 'SIGQUIT');
      await waitFor('QUIT', () => sofar().includes('QUIT'));
      process.kill(pid, 'SIGTERM');
    });
    expect(logged).toEqual(['ready', 'QUIT', 'TERM']);
    expect(result.stderr).not.toMatch(/forwarded/);
  });

  it('--profile sidekiq forces the entry: TSTP (quiet) when the sequence starts, TERM at the stop step, named in the summary', async () => {
    const { logged, result } = await underSignalLogger('pid1', ['--profile', 'sidekiq', '--drain-delay', '500ms'], async (pid, sofar) => {
      process.kill(pid, 'SIGINT');
      await sleep(200);
      expect(sofar()).toEqual(['ready', 'TSTP']);
    });
    expect(logged).toEqual(['ready', 'TSTP', 'TERM']);
    expect(result.stderr).toMatch(/shutdown on SIGINT, drain 0\.5s, SIGTERM \(Sidekiq's graceful stop\) to app at 0\.5s, app exited with 0/);
  });

  it('-v names the server at start', async () => {
    const r = await run('pid1', ['-v', '--profile', 'haproxy', '--', '/bin/true']);
    expect(r.stderr).toMatch(/^graceful-init: --profile haproxy: the stop step sends USR1, its graceful stop \(https:\/\/docs\.haproxy\.org\/2\.6\/management\.html#4\); USR1, its image's STOPSIGNAL, starts the shutdown too$/m);
  });
});
