import { describe, expect, it } from 'vitest';
import { parseInvocation, UsageError } from '../../src/cli/parse.js';
import { OPTION_TABLE, envName, formatStatusAddr, parseStatusAddr } from '../../src/cli/options.js';
import { parseDuration } from '../../src/cli/duration.js';
import { shellSyntaxIn, splitCommand } from '../../src/cli/split-command.js';
import { HELP_WIDTH, helpText } from '../../src/cli/help.js';
import { parseSignal } from '../../src/signals.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseInvocation(argv, env);

describe('parseInvocation', () => {
  it('takes the app after -- or at the first non-option', () => {
    expect(parse(['--', 'app', '-v']).command).toEqual(['app', '-v']);
    expect(parse(['-v', 'app', '--', 'x']).command).toEqual(['app', '--', 'x']);
    expect(parse(['-v', 'app']).options.verbosity).toBe('verbose');
  });

  it('reads values inline, as the next word, and grouped short flags', () => {
    const { options } = parse(['-e143', '-e', '3', '--drain-delay=2s', '--grace-period', '1m', '-vg', 'app']);
    expect(options.remapExit).toEqual([143, 3]);
    expect(options.drainDelayMs).toBe(2000);
    expect(options.gracePeriodMs).toBe(60_000);
    expect(options.processGroup).toBe(true);
    expect(options.verbosity).toBe('verbose');
  });

  it('reads every option from GRACEFUL_INIT_*, and the command line wins', () => {
    const env = {
      GRACEFUL_INIT_REMAP_EXIT: '1, 2',
      GRACEFUL_INIT_DRAIN_DELAY: '500ms',
      GRACEFUL_INIT_VERBOSE: 'true',
      GRACEFUL_INIT_PROCESS_GROUP: '0',
      GRACEFUL_INIT_PRE_STOP: "nginx -s quit\nsh -c 'sleep 1'",
      GRACEFUL_INIT_REWRITE: 'TERM:QUIT,USR1:0',
    };
    const { options } = parse(['app'], env);
    expect(options.remapExit).toEqual([1, 2]);
    expect(options.drainDelayMs).toBe(500);
    expect(options.verbosity).toBe('verbose');
    expect(options.processGroup).toBe(false);
    expect(options.preStop).toEqual(['nginx -s quit', "sh -c 'sleep 1'"]);
    expect([...options.rewrite]).toEqual([['SIGTERM', 'SIGQUIT'], ['SIGUSR1', null]]);
    const cli = parse(['-e', '9', '--drain-delay', '1', '-q', 'app'], env).options;
    expect(cli.remapExit).toEqual([9]);
    expect(cli.drainDelayMs).toBe(1000);
    expect(cli.verbosity).toBe('quiet');
  });

  it('every option in the table has an env variable and help; --help, --version, --license, --check and --send-prestop are command line only', () => {
    for (const spec of OPTION_TABLE) {
      if (['help', 'version', 'license', 'check', 'send-prestop'].includes(spec.long)) expect(envName(spec)).toBeNull();
      else expect(envName(spec)).toMatch(/^GRACEFUL_INIT_[A-Z_]+$/);
      expect(spec.help.length).toBeGreaterThan(10);
    }
  });

  it('names each GRACEFUL_INIT_* variable that is not a setting in a warning, with the one it most likely misspells; the app still starts', () => {
    const r = parse(['app'], { GRACEFUL_INIT_DRAIN_DELAYS: '5s', GRACEFUL_INIT_CHECK: '1', GRACEFUL_INIT_DRAIN_DELAY: '1s', GRACEFUL_INIT_PRESTOP: 'x', GRACEFUL_INIT_FOO: '1' });
    expect(r.warnings).toEqual([
      'ignoring GRACEFUL_INIT_CHECK: --check is command-line only',
      'ignoring GRACEFUL_INIT_DRAIN_DELAYS: not a graceful-init setting; did you mean GRACEFUL_INIT_DRAIN_DELAY?',
      'ignoring GRACEFUL_INIT_FOO: not a graceful-init setting (see --help)',
      'ignoring GRACEFUL_INIT_PRESTOP: not a graceful-init setting; did you mean GRACEFUL_INIT_PRE_STOP?',
    ]);
    expect(r.options.check).toBe(false);
    expect(r.command).toEqual(['app']);
    expect(parse(['app'], { GRACEFUL_INIT_APP_NODE_OPTIONS: '' }).warnings).toEqual([]);
  });

  it('a mistyped option names the one it most likely is', () => {
    expect(() => parse(['--drain-delays', '1s', 'app'])).toThrow('unknown option --drain-delays (did you mean --drain-delay?)');
    expect(() => parse(['--prestop', 'x', 'app'])).toThrow('unknown option --prestop (did you mean --pre-stop?)');
    expect(() => parse(['--zzzzzzzz', 'app'])).toThrow(/^unknown option --zzzzzzzz$/);
  });

  it('a list option takes a comma-separated list on the command line as in its variable', () => {
    expect(parse(['-e', '143,130', 'app']).options.remapExit).toEqual([143, 130]);
    expect(parse(['-e143,130', '-e', '3', 'app']).options.remapExit).toEqual([143, 130, 3]);
    expect(parse(['--remap-exit=1, 2,', 'app']).options.remapExit).toEqual([1, 2]);
    expect([...parse(['--rewrite', 'TERM:QUIT,USR1:0', 'app']).options.rewrite]).toEqual([['SIGTERM', 'SIGQUIT'], ['SIGUSR1', null]]);
    // a pre-stop command may hold commas: only the variable's newlines separate those
    expect(parse(['--pre-stop', 'echo a,b', 'app']).options.preStop).toEqual(['echo a,b']);
  });

  it('names each option that does nothing with the others given, from the command line or the environment', () => {
    const warned = (argv: string[], env = {}) => parse([...argv, 'app'], env).warnings;
    expect(warned(['--ready-check', 'listening'])).toEqual(['--ready-check does nothing without --status-addr HOST:PORT, which serves /readyz']);
    expect(warned(['--ready-check', 'listening', '--status-addr', '9'])).toEqual([]);
    expect(warned(['--drain-min', '1s'])).toEqual(['--drain-min does nothing without --drain-quiet DUR (a fixed drain lasts --drain-delay)']);
    expect(warned(['--drain-min', '1s', '--drain-quiet', '1s', '--drain-delay', '5s'])).toEqual([]);
    expect(warned(['--kill-margin', '1s', '--kill-after', '10s'])).toEqual(['--kill-margin does nothing with --kill-after, which sets the kill deadline itself']);
    expect(warned(['--kill-margin', '1s'])).toEqual([]);
    expect(warned(['--ports', '80'])).toEqual(['--ports does nothing without --drain-quiet, --wait-idle, --ready-check listening or --status-addr']);
    expect(warned(['--ports', '80', '--wait-idle', '2s'])).toEqual([]);
    expect(warned(['--pre-stop-wait', '0'])).toEqual(['--pre-stop-wait does nothing without --pre-stop CMD']);
    expect(warned(['--pre-stop-timeout', '1s'], { GRACEFUL_INIT_PRE_STOP: 'x' })).toEqual([]);
    expect(warned([], { GRACEFUL_INIT_STOP_TIMEOUT: '9s' })).toEqual(['--stop-timeout does nothing without --pre-stop CMD']);
    // defaults are not "given": nothing to say
    expect(warned([])).toEqual([]);
  });

  it.each([
    [['--stop-signals', 'KILL', 'app'], /--stop-signals: "KILL": SIGKILL cannot be caught/],
    [['--stop-signals', 'TERM,STOP', 'app'], /SIGSTOP cannot be caught/],
    [['--stop-signals', ',', 'app'], /needs at least one signal/],
    [['--stop-signal', 'STOP', 'app'], /--stop-signal: "STOP": SIGSTOP would freeze the app with nobody to resume it; name the signal the app stops on/],
    [['--stop-signal', 'KILL', 'app'], /--stop-signal: "KILL": only the kill deadline sends SIGKILL; to kill sooner, shorten it with --kill-after DUR/],
    [['--rewrite', 'KILL:TERM', 'app'], /--rewrite: "KILL": SIGKILL cannot be caught/],
    [['--rewrite', 'TERM:NOPE', 'app'], /"NOPE" is not a signal/],
    [['--stop-signals', 'RTMIN+3', 'app'], /real-time signals are always forwarded/],
    [['--stop-signals', 'TERM,CHLD', 'app'], /--stop-signals: "CHLD": SIGCHLD tells the init that a process exited and cannot start the shutdown; name a signal the engine sends/],
    [['--stop-signals', 'SEGV', 'app'], /SIGSEGV is never taken from outside/],
    [['--stop-signals', 'PIPE', 'app'], /SIGPIPE is never taken from outside/],
    [['--stop-signals', 'TTIN', 'app'], /SIGTTIN is never taken from outside/],
    [['--rewrite', 'TERM:KILL', 'app'], /--rewrite: "TERM:KILL": only the kill deadline sends SIGKILL; to kill sooner, shorten it with --kill-after DUR/],
    [['-r', '15:9', 'app'], /-r: "15:9": only the kill deadline sends SIGKILL/],
    [['--rewrite', 'TSTP:STOP', 'app'], /"TSTP:STOP": SIGSTOP would freeze the app .*; forward TSTP itself/],
    [['--pre-stop', 'nginx -s quit && sleep 1', 'app'], /--pre-stop: "nginx -s quit && sleep 1" uses shell syntax \(&&\), but pre-stop commands run without a shell; write sh -c 'nginx -s quit && sleep 1'$/],
    [['--pre-stop', "curl -s localhost/quit | grep -q 'ok'", 'app'], /uses shell syntax \(\|\).*; write sh -c 'curl -s localhost\/quit \| grep -q '\\''ok'\\'''$/],
    [['-c', '-g', 'app'], /-c \(--single-child\) and -g \(--process-group\) contradict each other/],
    [['--pre-stop', '', 'app'], /--pre-stop: "" cannot be run: the command is empty/],
    [['--pre-stop', "sh -c 'x", 'app'], /unclosed ' quote/],
    [['--grace-period', '597h', 'app'], /too long; the maximum is 596h/],
    [['--kill-after', '600h', 'app'], /too long/],
    [['--drain-delay', '9'.repeat(400), 'app'], /not a duration|too long/],
    [['--app-nofile', 'lots', 'app'], /not a number/],
  ])('refuses %j', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it.each([
    [['--nope', 'app'], /unknown option --nope/],
    [['-x', 'app'], /unknown option -x/],
    [[], /missing the command/],
    [['-e'], /-e needs a value/],
    [['-e', '256', 'app'], /not an exit code/],
    [['--quiet=1', 'app'], /takes no value/],
    [['--log-format', 'xml', 'app'], /not one of text, json/],
    [['--status-addr', 'host', 'app'], /not an address; write it like :8081 \(every interface\), 127.0.0.1:8081 or 8081 \(127.0.0.1\)/],
    [['--use-setsid', 'app'], /unknown option --use-setsid: dumb-init has no --use-setsid; .* is -g here/],
  ])('rejects %j', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('does not need a command for --help, --version, --license or --check', () => {
    expect(parse(['--help']).options.help).toBe(true);
    expect(parse(['-l']).options.license).toBe(true);
    expect(parse(['--check']).command).toEqual([]);
  });

  it('--help fits 80 columns and names every option, its default and its variable', () => {
    const help = helpText();
    for (const line of help.split('\n')) expect(line.length, line).toBeLessThanOrEqual(HELP_WIDTH);
    const flat = help.replace(/\n +/g, ' ');
    for (const spec of OPTION_TABLE) {
      expect(flat).toContain(`--${spec.long}`);
      if (spec.defaultText) expect(flat).toContain(`default: ${spec.defaultText}`);
      const env = envName(spec);
      if (env) expect(flat).toContain(env);
    }
  });
});

describe('a drop-in for tini and dumb-init', () => {
  it("takes tini's flags with their meaning: -s -g -e -p -v -w -l", () => {
    const { options } = parse(['-s', '-g', '-e', '143', '-e', '130', '-p', 'SIGKILL', '-vvv', '-w', '--', 'app']);
    expect(options).toMatchObject({ subreaper: true, processGroup: true, remapExit: [143, 130], pdeathSignal: 'SIGKILL', verbosity: 'verbose', warnOnReap: true });
    expect(parse(['-l']).options.license).toBe(true);
  });

  it("takes dumb-init's flags with their meaning: -c, -r s:r with numbers, -v, -V", () => {
    const { options } = parse(['-c', '-r', '15:3', '--rewrite', '10:0', '-v', 'app']);
    expect(options.processGroup).toBe(false);
    expect([...options.rewrite]).toEqual([['SIGTERM', 'SIGQUIT'], ['SIGUSR1', null]]);
    expect(options.verbosity).toBe('verbose');
    expect(parse(['--single-child', 'app']).options.processGroup).toBe(false);
    expect(parse(['-V']).options.version).toBe(true);
  });

  it("honours tini's variables: set at all means on; TINI_VERBOSITY 0 is -q, 2 and up -v", () => {
    expect(parse(['app'], { TINI_SUBREAPER: '', TINI_KILL_PROCESS_GROUP: '1' }).options).toMatchObject({ subreaper: true, processGroup: true });
    expect(parse(['app'], { TINI_VERBOSITY: '0' }).options.verbosity).toBe('quiet');
    expect(parse(['app'], { TINI_VERBOSITY: '1' }).options.verbosity).toBe('normal');
    expect(parse(['app'], { TINI_VERBOSITY: '3' }).options.verbosity).toBe('verbose');
    expect(() => parse(['app'], { TINI_VERBOSITY: 'loud' })).toThrow(/^TINI_VERBOSITY: "loud" is not a level; write 0/);
    // the command line wins, as over GRACEFUL_INIT_*
    expect(parse(['-c', 'app'], { TINI_KILL_PROCESS_GROUP: '' }).options.processGroup).toBe(false);
  });

  it("honours dumb-init's variables: DUMB_INIT_SETSID=0 is -c, any other value its setsid mode (-g); DUMB_INIT_DEBUG=1 is -v", () => {
    expect(parse(['app'], { DUMB_INIT_SETSID: '0' }).options.processGroup).toBe(false);
    expect(parse(['app'], { DUMB_INIT_SETSID: '1' }).options.processGroup).toBe(true);
    expect(parse(['app'], { DUMB_INIT_DEBUG: '1' }).options.verbosity).toBe('verbose');
    expect(parse(['app'], { DUMB_INIT_DEBUG: '0' }).options.verbosity).toBe('normal');
    expect(() => parse(['app'], { DUMB_INIT_SETSID: '0', TINI_KILL_PROCESS_GROUP: '1' })).toThrow(/-c \(--single-child\) and -g \(--process-group\) contradict/);
    expect(parse(['-g', 'app'], { DUMB_INIT_SETSID: '0' }).options.processGroup).toBe(true);
  });
});

describe('values', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['2.5s', 2500],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['2h45m', 9_900_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5m', 90_000],
    ['1500us', 2],
    ['1500µs', 2],
    ['2000000ns', 2],
    ['30', 30_000],
    ['0.25', 250],
    ['0', 0],
    ['0s', 0],
    [' 10s ', 10_000],
    ['596h', 2_145_600_000],
  ])('duration %j is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['-1s', '2 days', '1m 30s', '1S', '1d', 's', '1.2.3s', '', '5 minutes', '30s1', '1e3s'])('duration %j is refused with what to write', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration; write it like 500ms, 2.5s, 1m30s, 1h or 30 \(seconds\)/);
  });

  it('signals by name, short name or number', () => {
    expect(parseSignal('TERM')).toBe('SIGTERM');
    expect(parseSignal('sigquit')).toBe('SIGQUIT');
    expect(parseSignal('15')).toBe('SIGTERM');
    expect(parseSignal('IOT')).toBe('SIGABRT');
    expect(() => parseSignal('NOPE')).toThrow(/not a signal/);
    expect(() => parseSignal('99')).toThrow(/not a signal/);
  });

  it('status addresses: :PORT is every interface as in Go, a bare port 127.0.0.1', () => {
    expect(parseStatusAddr('8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseStatusAddr(':8081')).toEqual({ host: '', port: 8081 });
    expect(formatStatusAddr(parseStatusAddr(':8081'))).toBe(':8081');
    expect(formatStatusAddr(parseStatusAddr('[::1]:80'))).toBe('[::1]:80');
    expect(parseStatusAddr('0.0.0.0:9')).toEqual({ host: '0.0.0.0', port: 9 });
    expect(parseStatusAddr('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseStatusAddr('70000')).toThrow(/not an address/);
  });
});

describe('splitCommand', () => {
  it.each([
    ['nginx -s quit', ['nginx', '-s', 'quit']],
    ["sh -c 'sleep 1; echo done'", ['sh', '-c', 'sleep 1; echo done']],
    ['echo "a \\"b\\" $HOME"', ['echo', 'a "b" $HOME']],
    ['a\\ b  c', ['a b', 'c']],
    ["x '' \"\"", ['x', '', '']],
    ['  lead  trail  ', ['lead', 'trail']],
    ["it''s", ['its']],
  ])('%s', (line, argv) => {
    expect(splitCommand(line)).toEqual(argv);
  });

  it.each([
    ['nginx -s quit', null],
    ["sh -c 'a | b && c; d > e $(f) $G'", null],
    ['echo "a;b|c>d"', null],
    ['echo a\\;b', null],
    ["curl -H 'Accept: */*' http://x/y?z=1", null],
    ['echo 5$', null],
    ['a | b', '|'],
    ['a || b', '||'],
    ['a && b', '&&'],
    ['a & b', '&'],
    ['a; b', ';'],
    ['a > f', '>'],
    ['a 2>&1', '>'],
    ['a < f', '<'],
    ['echo $(date)', '$('],
    ['echo `date`', '`'],
    ['echo $HOME', '$HOME'],
    ['echo "${HOME}"', '${'],
    ['echo "$1"', '$1'],
    ['rm /tmp/*.pid', '*'],
    ['(a)', '('],
    ['~/bin/stop now', '~'],
    ['a ~user/x', '~'],
    ['echo a~b "~" \\~', null],
  ])('shell syntax in %j: %j', (line, found) => {
    expect(shellSyntaxIn(line)).toBe(found);
  });

  it('rejects what a shell would', () => {
    expect(() => splitCommand("sh -c 'open")).toThrow(/unclosed ' quote/);
    expect(() => splitCommand('x \\')).toThrow(/lone backslash/);
    expect(() => splitCommand('   ')).toThrow(/empty/);
  });
});
