// The graceful stops of well-known servers: data only. Each entry says how the server is recognised,
// what each signal means to it, which one stops it without cutting the work in flight, and where
// that comes from (its own documentation). docs/servers.md renders the same facts for readers, and
// test/unit/profiles.test.ts holds the two together.

/** What a signal does to a server: stop it letting work in flight finish, stop it now, or not stop it. */
export type Effect = 'graceful' | 'fast' | 'no stop';

export interface SignalMeaning {
  effect: Effect;
  /** in the server's own terms, for warnings and the docs */
  says: string;
}

export interface ServerProfile {
  /** the --profile NAME */
  name: string;
  /** other words --profile accepts */
  aliases: readonly string[];
  /** the server as people name it */
  title: string;
  /** the executable's file name, as /proc/<pid>/exe (symlinks resolved) or the command names it */
  executable: RegExp;
  /** for servers run by an interpreter (python3.11, ruby3.1): its file name ... */
  interpreter?: RegExp;
  /** ... and the server's script, module or process title as it appears in the command line */
  script?: RegExp;
  /** scripts that start it (apache2ctl, httpd-foreground): recognised in a command line only */
  launchers?: RegExp;
  /** what the stop step sends */
  stop: NodeJS.Signals;
  /** sent when the shutdown sequence starts, so that it takes no new work (Sidekiq's TSTP) */
  quiet?: NodeJS.Signals;
  /** after `stop`, does it finish what is in flight by itself? */
  finishes: 'yes' | 'no' | 'the app decides';
  /** how it finishes, or what is lost */
  finishNote: string;
  /** what its configuration must say for `stop` to let the work in flight finish (a sentence) */
  needs?: string;
  /**
   * Its stop cuts the requests in flight unless it is configured otherwise (`needs`): the stop
   * step first waits until every request in flight is answered, as --wait-idle does.
   */
  waitForIdle?: boolean;
  /** the graceful stop as a command, where the server has one (documentation only: the init signals) */
  command?: string;
  /** the STOPSIGNAL of the server's official image, when it is not TERM */
  imageStopSignal?: NodeJS.Signals;
  signals: Partial<Record<NodeJS.Signals, SignalMeaning>>;
  source: string;
  /** checked against the real program by test/servers (Debian's package) */
  verified: boolean;
}

const graceful = (says: string): SignalMeaning => ({ effect: 'graceful', says });
const fast = (says: string): SignalMeaning => ({ effect: 'fast', says });
const noStop = (says: string): SignalMeaning => ({ effect: 'no stop', says });

const PYTHON = /^python[0-9.]*$/;
const RUBY = /^ruby[0-9.]*$/;

export const SERVERS: readonly ServerProfile[] = [
  {
    name: 'nginx', aliases: ['openresty'], title: 'nginx',
    executable: /^nginx$/, launchers: /^openresty$/,
    stop: 'SIGQUIT', finishes: 'yes', finishNote: 'stops accepting, answers the requests in flight, then exits',
    command: 'nginx -s quit', imageStopSignal: 'SIGQUIT',
    signals: {
      SIGQUIT: graceful('graceful shutdown'), SIGTERM: fast('fast shutdown (connections are closed at once)'),
      SIGINT: fast('fast shutdown'), SIGHUP: noStop('reloads its configuration'), SIGUSR1: noStop('reopens its logs'),
      SIGUSR2: noStop('upgrades its executable'), SIGWINCH: noStop('stops its workers, the master stays'),
    },
    source: 'https://nginx.org/en/docs/control.html', verified: true,
  },
  {
    name: 'apache', aliases: ['httpd', 'apache2'], title: 'Apache httpd',
    executable: /^(apache2|httpd)$/, launchers: /^(apache2ctl|apachectl|httpd-foreground|apache2-foreground)$/,
    stop: 'SIGWINCH', finishes: 'yes', finishNote: 'children finish their current request (GracefulShutdownTimeout bounds it), then the parent exits',
    command: 'apachectl -k graceful-stop', imageStopSignal: 'SIGWINCH',
    signals: {
      SIGWINCH: graceful('graceful-stop'), SIGTERM: fast('stop (children are killed at once)'),
      SIGHUP: noStop('restarts'), SIGUSR1: noStop('graceful restart'),
    },
    source: 'https://httpd.apache.org/docs/2.4/stopping.html', verified: true,
  },
  {
    name: 'haproxy', aliases: [], title: 'HAProxy',
    executable: /^haproxy$/,
    stop: 'SIGUSR1', finishes: 'yes', finishNote: 'unbinds its ports and exits once the last connection has closed (hard-stop-after bounds it)',
    imageStopSignal: 'SIGUSR1',
    signals: {
      SIGUSR1: graceful('soft stop'), SIGTERM: fast('hard stop (established connections are closed)'),
      SIGINT: fast('hard stop'), SIGUSR2: noStop('reloads (master-worker mode)'), SIGHUP: noStop('reloads (master-worker mode)'),
    },
    source: 'https://docs.haproxy.org/2.6/management.html#4', verified: true,
  },
  {
    name: 'php-fpm', aliases: ['phpfpm'], title: 'PHP-FPM',
    executable: /^php-fpm[0-9.]*$/,
    stop: 'SIGQUIT', finishes: 'yes', finishNote: 'workers finish the request they serve, then exit',
    needs: 'QUIT alone lets them finish only with process_control_timeout above 0 in php-fpm.conf (0, the default, makes the master follow QUIT with TERM at once)',
    waitForIdle: true,
    imageStopSignal: 'SIGQUIT',
    signals: {
      SIGQUIT: graceful('graceful stop'), SIGTERM: fast('immediate termination'), SIGINT: fast('immediate termination'),
      SIGUSR1: noStop('reopens its log'), SIGUSR2: noStop('graceful reload'),
    },
    source: 'https://github.com/php/php-src/blob/master/sapi/fpm/php-fpm.8.in', verified: true,
  },
  {
    name: 'unicorn', aliases: [], title: 'Unicorn',
    executable: /^unicorn(_rails)?$/, interpreter: RUBY, script: /^unicorn(_rails)?$/,
    stop: 'SIGQUIT', finishes: 'yes', finishNote: 'waits for the workers to finish their current request',
    signals: {
      SIGQUIT: graceful('graceful shutdown'), SIGTERM: fast('quick shutdown (workers are killed at once)'),
      SIGINT: fast('quick shutdown'), SIGHUP: noStop('reloads'), SIGUSR2: noStop('re-executes itself'),
      SIGWINCH: noStop('stops its workers, the master stays'),
    },
    source: 'https://yhbt.net/unicorn/SIGNALS.html', verified: false,
  },
  {
    name: 'postgres', aliases: ['postgresql', 'postmaster'], title: 'PostgreSQL',
    executable: /^(postgres|postmaster)$/,
    stop: 'SIGINT', finishes: 'no', finishNote: 'fast shutdown: refuses new connections, rolls back open transactions, then a clean checkpoint',
    command: 'pg_ctl stop -m fast', imageStopSignal: 'SIGINT',
    signals: {
      SIGINT: graceful('fast shutdown (clean: no recovery at the next start)'),
      SIGTERM: graceful('smart shutdown (waits for every session to end, which pooled connections never do)'),
      SIGQUIT: fast('immediate shutdown (crash recovery at the next start)'), SIGHUP: noStop('reloads its configuration'),
    },
    source: 'https://www.postgresql.org/docs/current/server-shutdown.html', verified: false,
  },
  {
    name: 'uwsgi', aliases: [], title: 'uWSGI',
    executable: /^uwsgi(-core)?$/,
    stop: 'SIGINT', finishes: 'no', finishNote: 'INT stops it (TERM would reload it) but cuts the requests in flight',
    needs: 'for a graceful stop, configure hook-master-start = unix_signal:15 gracefully_kill_them_all and give --stop-signal TERM',
    signals: {
      SIGTERM: noStop('brutally reloads (unless --die-on-term)'), SIGINT: fast('immediate kill of the whole stack'),
      SIGQUIT: fast('immediate kill of the whole stack'), SIGHUP: noStop('graceful reload'),
    },
    source: 'https://uwsgi-docs.readthedocs.io/en/latest/Management.html', verified: false,
  },
  {
    name: 'sidekiq', aliases: [], title: 'Sidekiq',
    executable: /^sidekiq$/, interpreter: RUBY, script: /^sidekiq$/,
    quiet: 'SIGTSTP', stop: 'SIGTERM', finishes: 'yes',
    finishNote: 'TSTP at the first stop signal: no new jobs; after TERM the jobs still running get its -t timeout (25 s) and are pushed back to Redis after it',
    signals: {
      SIGTSTP: noStop('quiet: takes no new jobs'), SIGTERM: graceful('shuts down within its -t timeout'),
      SIGTTIN: noStop('prints the backtraces of its threads'),
    },
    source: 'https://github.com/sidekiq/sidekiq/wiki/Signals', verified: false,
  },
  {
    name: 'gunicorn', aliases: [], title: 'Gunicorn',
    executable: /^gunicorn$/, interpreter: PYTHON, script: /^gunicorn$/,
    stop: 'SIGTERM', finishes: 'yes', finishNote: 'workers finish their current requests, up to its graceful_timeout (30 s)',
    signals: {
      SIGTERM: graceful('graceful shutdown'), SIGINT: fast('quick shutdown'), SIGQUIT: fast('quick shutdown'),
      SIGHUP: noStop('reloads'), SIGUSR2: noStop('upgrades on the fly'), SIGWINCH: noStop('stops its workers (daemonized)'),
    },
    source: 'https://docs.gunicorn.org/en/stable/signals.html', verified: true,
  },
  {
    name: 'puma', aliases: [], title: 'Puma',
    executable: /^puma$/, interpreter: RUBY, script: /^puma$/,
    stop: 'SIGTERM', finishes: 'yes', finishNote: 'attempts to finish the requests in flight, then exits',
    signals: {
      SIGTERM: graceful('attempts to finish, then exits'), SIGINT: graceful('attempts to finish, then exits'),
      SIGUSR1: noStop('phased restart'), SIGUSR2: noStop('restarts its workers'),
    },
    source: 'https://github.com/puma/puma/blob/master/docs/signals.md', verified: false,
  },
  {
    name: 'caddy', aliases: [], title: 'Caddy',
    executable: /^caddy$/,
    stop: 'SIGTERM', finishes: 'yes', finishNote: 'drains existing connections (its grace period bounds it)',
    signals: {
      SIGTERM: graceful('graceful exit'), SIGINT: graceful('graceful exit (a second INT forces the exit)'),
      SIGQUIT: fast('immediate quit'), SIGUSR1: noStop('ignored'), SIGUSR2: noStop('ignored'), SIGHUP: noStop('ignored'),
    },
    source: 'https://caddyserver.com/docs/command-line#signals', verified: false,
  },
  {
    name: 'traefik', aliases: [], title: 'Traefik',
    executable: /^traefik$/,
    stop: 'SIGTERM', finishes: 'yes', finishNote: 'active requests get its lifeCycle.graceTimeOut (10 s) to finish',
    signals: { SIGTERM: graceful('graceful shutdown'), SIGINT: graceful('graceful shutdown') },
    source: 'https://doc.traefik.io/traefik/routing/entrypoints/#lifecycle', verified: false,
  },
  {
    name: 'redis', aliases: ['valkey', 'redis-server'], title: 'Redis',
    executable: /^(redis-server|valkey-server)$/,
    stop: 'SIGTERM', finishes: 'yes', finishNote: 'the command running finishes, then the data is saved as configured',
    signals: { SIGTERM: graceful('shutdown like SHUTDOWN (saves as configured)'), SIGINT: graceful('shutdown like SHUTDOWN') },
    source: 'https://redis.io/docs/latest/operate/oss_and_stack/reference/signals/', verified: false,
  },
  {
    name: 'mysql', aliases: ['mariadb', 'mysqld', 'mariadbd'], title: 'MySQL / MariaDB',
    executable: /^(mysqld|mariadbd)$/,
    stop: 'SIGTERM', finishes: 'no', finishNote: 'a clean shutdown like SHUTDOWN: open transactions are rolled back',
    signals: { SIGTERM: graceful('shuts down like SHUTDOWN'), SIGINT: noStop('ignores it (unless run with --gdb)'), SIGHUP: noStop('reloads grants, flushes tables and logs'), SIGUSR1: noStop('flushes its logs') },
    source: 'https://dev.mysql.com/doc/refman/8.0/en/unix-signal-response.html', verified: false,
  },
  {
    name: 'jvm', aliases: ['java'], title: 'the JVM',
    executable: /^java$/,
    stop: 'SIGTERM', finishes: 'the app decides', finishNote: 'runs the shutdown hooks (a framework\'s graceful shutdown, when configured)',
    signals: {
      SIGTERM: graceful('runs the shutdown hooks'), SIGINT: graceful('runs the shutdown hooks'), SIGHUP: graceful('runs the shutdown hooks'),
      SIGQUIT: noStop('prints a thread dump'),
    },
    source: 'https://docs.oracle.com/en/java/javase/21/troubleshoot/handle-signals-and-exceptions.html', verified: false,
  },
];

/** `--profile` values besides the names: auto (recognise the app) and none (plain forwarding). */
export const PROFILE_MODES = ['auto', 'none'] as const;

export function profileByName(name: string): ServerProfile | undefined {
  const word = name.trim().toLowerCase();
  return SERVERS.find((s) => s.name === word || s.aliases.includes(word));
}
