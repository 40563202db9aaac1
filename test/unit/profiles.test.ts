import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultOptions, type Options } from '../../src/cli/options.js';
import { parseInvocation, UsageError } from '../../src/cli/parse.js';
import { contradictions, imageStopStarts, looksLikeStop, tableDecidesStop, withServerDefaults } from '../../src/profiles/decide.js';
import { findServer, procReader } from '../../src/profiles/proc.js';
import { recogniseCommand } from '../../src/profiles/recognise.js';
import { SERVERS, profileByName } from '../../src/profiles/table.js';

interface FakeProcess {
  /** where /proc/<pid>/exe points; absent: not readable (another user's process) */
  exe?: string;
  argv: string[];
  comm?: string;
  children?: number[];
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A directory laid out like /proc for the given processes: exe links, cmdline, comm, task/<pid>/children. */
function fakeProc(processes: Record<number, FakeProcess>): string {
  const root = mkdtempSync(join(tmpdir(), 'gi-proc-'));
  roots.push(root);
  for (const [pid, p] of Object.entries(processes)) {
    mkdirSync(join(root, pid, 'task', pid), { recursive: true });
    if (p.exe) symlinkSync(p.exe, join(root, pid, 'exe'));
    writeFileSync(join(root, pid, 'cmdline'), `${p.argv.join('\0')}\0`);
    writeFileSync(join(root, pid, 'comm'), `${(p.comm ?? p.exe?.split('/').pop() ?? '').slice(0, 15)}\n`);
    writeFileSync(join(root, pid, 'task', pid, 'children'), (p.children ?? []).map((c) => `${c} `).join(''));
  }
  return root;
}

const found = (root: string, pid = 1) => {
  const f = findServer(pid, procReader(root));
  return f ? { server: f.profile.name, pid: f.pid } : null;
};

describe('recognising the server from /proc at the moment it matters', () => {
  it('an entrypoint script that exec\'d nginx is nginx (its exe, not its argv)', () => {
    const root = fakeProc({ 1: { exe: '/usr/sbin/nginx', argv: ['nginx: master process nginx -g daemon off;'], children: [7] }, 7: { exe: '/usr/sbin/nginx', argv: ['nginx: worker process'] } });
    expect(found(root)).toEqual({ server: 'nginx', pid: 1 });
  });

  it('the same script before it exec\'d: a shell with no server below it is nothing yet', () => {
    const root = fakeProc({ 1: { exe: '/usr/bin/dash', argv: ['/bin/sh', '/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'] } });
    expect(found(root)).toBeNull();
  });

  it('a server started through sh -c is found as the shell\'s child, and that child is the one signalled', () => {
    const root = fakeProc({
      1: { exe: '/usr/bin/dash', argv: ['sh', '-c', "nginx -g 'daemon off;'; echo done"], children: [12] },
      12: { exe: '/usr/sbin/nginx', argv: ['nginx: master process nginx -g daemon off;'], children: [13] },
      13: { exe: '/usr/sbin/nginx', argv: ['nginx: worker process'] },
    });
    expect(found(root)).toEqual({ server: 'nginx', pid: 12 });
  });

  it('apache2ctl -DFOREGROUND (a shell script that does not exec) and a shell below a shell', () => {
    const root = fakeProc({
      1: { exe: '/usr/bin/dash', argv: ['/bin/sh', '/usr/sbin/apache2ctl', '-DFOREGROUND'], children: [5] },
      5: { exe: '/usr/bin/bash', argv: ['bash', '-c', 'apache2 -DFOREGROUND'], children: [9] },
      9: { exe: '/usr/sbin/apache2', argv: ['/usr/sbin/apache2', '-DFOREGROUND'] },
    });
    expect(found(root)).toEqual({ server: 'apache', pid: 9 });
  });

  it('a renamed binary: by its exe when argv[0] is renamed, by the title it gives itself when the file is', () => {
    const argvRenamed = fakeProc({ 1: { exe: '/usr/sbin/nginx', argv: ['web', '-g', 'daemon off;'] } });
    expect(found(argvRenamed)).toEqual({ server: 'nginx', pid: 1 });
    const fileRenamed = fakeProc({ 1: { exe: '/opt/site/bin/web', argv: ['nginx: master process /opt/site/bin/web'] } });
    expect(found(fileRenamed)).toEqual({ server: 'nginx', pid: 1 });
    // httpd names itself by its path: a copy under another name is not recognised (--profile apache says it)
    const apacheRenamed = fakeProc({ 1: { exe: '/opt/site/bin/web', argv: ['/opt/site/bin/web', '-DFOREGROUND'] } });
    expect(found(apacheRenamed)).toBeNull();
    // a symlink named otherwise: /proc/<pid>/exe is the file it points to
    const deleted = fakeProc({ 1: { exe: '/usr/sbin/php-fpm8.2 (deleted)', argv: ['php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)'] } });
    expect(found(deleted)).toEqual({ server: 'php-fpm', pid: 1 });
  });

  it('servers run by an interpreter: by script, module or process title', () => {
    expect(found(fakeProc({ 1: { exe: '/usr/bin/python3.11', argv: ['/usr/bin/python3', '/usr/bin/gunicorn', '-b', ':8000', 'web:app'] } })))
      .toEqual({ server: 'gunicorn', pid: 1 });
    expect(found(fakeProc({ 1: { exe: '/usr/local/bin/python3.12', argv: ['python', '-m', 'gunicorn', 'web:app'] } }))).toEqual({ server: 'gunicorn', pid: 1 });
    expect(found(fakeProc({ 1: { exe: '/usr/local/bin/python3.12', argv: ['gunicorn: master [web:app]'] } }))).toEqual({ server: 'gunicorn', pid: 1 });
    expect(found(fakeProc({ 1: { exe: '/usr/bin/ruby3.1', argv: ['puma 6.4.0 (tcp://0.0.0.0:3000) [app]'] } }))).toEqual({ server: 'puma', pid: 1 });
    expect(found(fakeProc({ 1: { exe: '/usr/bin/ruby3.1', argv: ['/usr/bin/ruby3.1', '/usr/local/bin/bundle', 'exec', 'sidekiq', '-t', '25'] } })))
      .toEqual({ server: 'sidekiq', pid: 1 });
    expect(found(fakeProc({ 1: { exe: '/usr/bin/python3.11', argv: ['python3', 'server.py'] } }))).toBeNull();
  });

  it('an app that is not a shell is never looked into: its children are its own business', () => {
    const root = fakeProc({ 1: { exe: '/usr/local/bin/node', argv: ['node', 'supervisor.js'], children: [4] }, 4: { exe: '/usr/sbin/nginx', argv: ['nginx'] } });
    expect(found(root)).toBeNull();
  });

  it('an exe that cannot be read (another user\'s process): the command name says it', () => {
    const root = fakeProc({ 1: { argv: ['postgres', '-D', '/var/lib/postgresql/data'], comm: 'postgres' } });
    expect(found(root)).toEqual({ server: 'postgres', pid: 1 });
  });

  it('no /proc at all: nothing is found (the command line is the fallback, see KnownServer)', () => {
    expect(findServer(1, procReader(join(tmpdir(), 'gi-no-such-proc')))).toBeNull();
  });
});

describe('recognising the server a command line runs (the line at start, --check, no /proc)', () => {
  it.each([
    [['nginx', '-g', 'daemon off;'], 'nginx'],
    [['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'], 'nginx'],
    [['apache2ctl', '-DFOREGROUND'], 'apache'],
    [['httpd-foreground'], 'apache'],
    [['docker-php-entrypoint', 'php-fpm'], 'php-fpm'],
    [['/usr/sbin/php-fpm8.2', '-F'], 'php-fpm'],
    [['haproxy', '-W', '-db', '-f', '/usr/local/etc/haproxy/haproxy.cfg'], 'haproxy'],
    [['docker-entrypoint.sh', 'postgres'], 'postgres'],
    [['gosu', 'postgres', 'postgres', '-D', '/data'], 'postgres'],
    [['gosu', 'www-data', 'php-fpm'], 'php-fpm'],
    [['python3', '-m', 'gunicorn', 'app:app'], 'gunicorn'],
    [['bundle', 'exec', 'puma', '-C', 'config/puma.rb'], 'puma'],
    [['env', 'RAILS_ENV=production', 'bundle', 'exec', 'sidekiq'], 'sidekiq'],
    [['sh', '-c', "exec nginx -g 'daemon off;'"], 'nginx'],
    [['/bin/sh', '-c', 'redis-server --port 6379; echo done'], 'redis'],
    [['tini', '--', 'uwsgi', '--ini', 'app.ini'], 'uwsgi'],
    [['java', '-jar', 'app.jar'], 'jvm'],
    [['caddy', 'run', '--config', '/etc/caddy/Caddyfile'], 'caddy'],
  ])('%j is %s', (command, name) => {
    expect(recogniseCommand(command)?.name).toBe(name);
  });

  it.each([
    [['node', 'server.js']],
    [['./app.sh', '--port', '8080']],
    [['myapp', '--upstream', 'nginx']],
    [['sh', '-c', 'python3 server.py']],
    [['gosu', 'nginx', 'myapp']],
  ])('%j is no known server', (command) => {
    expect(recogniseCommand(command)).toBeNull();
  });
});

const opts = (o: Partial<Options> = {}): Options => ({ ...defaultOptions(), ...o });
const nginx = profileByName('nginx') ?? SERVERS[0];

describe('what the table decides for a configuration', () => {
  it('the stop step uses the graceful stop unless --stop-signal, --pre-stop or a --rewrite of the signal received says otherwise', () => {
    expect(tableDecidesStop(opts(), 'SIGTERM')).toBe(true);
    expect(tableDecidesStop(opts({ profile: 'none' }), 'SIGTERM')).toBe(false);
    expect(tableDecidesStop(opts({ stopSignal: 'SIGTERM' }), 'SIGTERM')).toBe(false);
    expect(tableDecidesStop(opts({ preStop: ['nginx -s quit'] }), 'SIGTERM')).toBe(false);
    expect(tableDecidesStop(opts({ rewrite: new Map([['SIGTERM', 'SIGQUIT']]) }), 'SIGTERM')).toBe(false);
    expect(tableDecidesStop(opts({ rewrite: new Map([['SIGTERM', 'SIGQUIT']]) }), 'SIGINT')).toBe(true);
  });

  it('the image\'s STOPSIGNAL of the server starts the shutdown, unless --stop-signals or --profile none was given', () => {
    expect(imageStopStarts(opts(), nginx ?? null, 'SIGQUIT')).toBe(true);
    expect(imageStopStarts(opts(), profileByName('gunicorn') ?? null, 'SIGQUIT')).toBe(false);
    expect(imageStopStarts(opts({ stopSignalsGiven: true }), nginx ?? null, 'SIGQUIT')).toBe(false);
    expect(imageStopStarts(opts({ profile: 'none' }), nginx ?? null, 'SIGQUIT')).toBe(false);
    expect(imageStopStarts(opts(), null, 'SIGQUIT')).toBe(false);
  });

  it('a forwarded signal looks like a stop: the server\'s own stops, QUIT when the app is not known, never a JVM\'s thread dump', () => {
    expect(looksLikeStop(null, 'SIGQUIT')).toBe(true);
    expect(looksLikeStop(null, 'SIGUSR1')).toBe(false);
    expect(looksLikeStop(nginx ?? null, 'SIGQUIT')).toBe(true);
    expect(looksLikeStop(nginx ?? null, 'SIGHUP')).toBe(false);
    expect(looksLikeStop(profileByName('jvm') ?? null, 'SIGQUIT')).toBe(false);
    expect(looksLikeStop(profileByName('haproxy') ?? null, 'SIGUSR1')).toBe(true);
  });

  it('a configuration that contradicts the table is named with the graceful stop and its source', () => {
    const [term] = contradictions(opts({ stopSignal: 'SIGTERM' }), nginx ?? null);
    expect(term).toMatch(/^--stop-signal TERM: TERM is nginx's fast shutdown .* its graceful stop is QUIT \(https:\/\/nginx\.org\/en\/docs\/control\.html\)$/);
    // with a pre-stop command nginx is stopped by it; the signal is only the fallback
    expect(contradictions(opts({ stopSignal: 'SIGTERM', preStop: ['nginx -s quit'] }), nginx ?? null)).toEqual([]);
    const [quit] = contradictions(opts({ stopSignal: 'SIGQUIT', preStop: ['true'] }), profileByName('jvm') ?? null);
    expect(quit).toMatch(/^--stop-signal QUIT: QUIT does not stop the JVM \(it prints a thread dump\); its stop is TERM \(https:/);
    expect(contradictions(opts({ rewrite: new Map([['SIGTERM', 'SIGINT']]) }), profileByName('gunicorn') ?? null)[0]).toMatch(/^--rewrite TERM:INT: INT is Gunicorn's quick shutdown/);
    expect(contradictions(opts({ stopSignal: 'SIGQUIT' }), nginx ?? null)).toEqual([]);
    expect(contradictions(opts({ stopSignal: 'SIGTERM', profile: 'none' }), nginx ?? null)).toEqual([]);
  });

  it('--profile takes auto, none, a server\'s name or alias; anything else is refused with the list', () => {
    expect(parseInvocation(['--profile', 'HTTPD', '--', 'x'], {}).options.profile).toBe('apache');
    expect(parseInvocation(['--', 'x'], { GRACEFUL_INIT_PROFILE: 'none' }).options.profile).toBe('none');
    expect(() => parseInvocation(['--profile', 'iis', '--', 'x'], {})).toThrow(UsageError);
    expect(() => parseInvocation(['--profile', 'iis', '--', 'x'], {})).toThrow(/"iis" is not auto, none or a known server \(nginx, apache, haproxy/);
    expect(parseInvocation(['--stop-signals', 'TERM', '--', 'x'], {}).options.stopSignalsGiven).toBe(true);
  });
});

describe('the table', () => {
  it('every entry: a unique name, its own documentation as the source, its stop is not one it says does not stop it', () => {
    const names = SERVERS.flatMap((s) => [s.name, ...s.aliases]);
    expect(new Set(names).size).toBe(names.length);
    for (const s of SERVERS) {
      expect(s.source).toMatch(/^https:\/\//);
      expect(s.signals[s.stop]?.effect, s.name).not.toBe('no stop');
      if (s.imageStopSignal) expect(s.signals[s.imageStopSignal]?.effect, s.name).not.toBe('no stop');
    }
  });

  it('docs/servers.md lists every entry with its stop, its source, and verified only where test/servers runs the real program', () => {
    const root = join(import.meta.dirname, '..', '..');
    const doc = readFileSync(join(root, 'docs', 'servers.md'), 'utf8');
    for (const s of SERVERS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| ${s.title} |`));
      expect(row, s.title).toBeDefined();
      expect(row).toContain(s.source);
      expect(row).toContain(`\`${s.stop.slice(3)}\``);
      expect(row).toContain(s.verified ? 'verified' : 'docs only');
      if (s.verified) expect(readFileSync(join(root, 'test', 'servers', `${s.name}.test.ts`), 'utf8')).toMatch(/^describeServerStop\(\{$/m);
    }
  });
});

describe('what a server\'s entry adds to the options', () => {
  const phpFpm = profileByName('php-fpm') ?? null;
  it('PHP-FPM: a wait for the requests in flight before its QUIT, leaving --stop-timeout before the deadline; not when the user decided', () => {
    expect(withServerDefaults(opts(), phpFpm).waitIdleMs).toBe(23_000);
    expect(withServerDefaults(opts({ drainDelayMs: 5000 }), phpFpm).waitIdleMs).toBe(18_000);
    expect(withServerDefaults(opts({ waitIdleMs: 3000 }), phpFpm).waitIdleMs).toBe(3000);
    expect(withServerDefaults(opts({ stopSignal: 'SIGQUIT' }), phpFpm).waitIdleMs).toBeNull();
    expect(withServerDefaults(opts({ profile: 'none' }), phpFpm).waitIdleMs).toBeNull();
    expect(withServerDefaults(opts(), nginx ?? null).waitIdleMs).toBeNull();
  });
});
