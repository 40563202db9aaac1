import { describe, expect, it } from 'vitest';
import { parseInvocation, UsageError } from '../../src/cli/parse.js';
import { OPTION_TABLE, envName, parseStatusAddr } from '../../src/cli/options.js';
import { parseDuration } from '../../src/cli/duration.js';
import { splitCommand } from '../../src/cli/split-command.js';
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

  it('every option in the table has an env variable and help; --help, --version and --check are command line only', () => {
    for (const spec of OPTION_TABLE) {
      if (['help', 'version', 'check'].includes(spec.long)) expect(envName(spec)).toBeNull();
      else expect(envName(spec)).toMatch(/^GRACEFUL_INIT_[A-Z_]+$/);
      expect(spec.help.length).toBeGreaterThan(10);
    }
  });

  it('names a GRACEFUL_INIT_* variable that is not a setting in one warning; the app still starts', () => {
    const r = parse(['app'], { GRACEFUL_INIT_DRAIN_DELAYS: '5s', GRACEFUL_INIT_CHECK: '1', GRACEFUL_INIT_DRAIN_DELAY: '1s' });
    expect(r.warnings).toEqual(['ignoring GRACEFUL_INIT_CHECK, GRACEFUL_INIT_DRAIN_DELAYS: not a graceful-init setting (see --help)']);
    expect(r.options.check).toBe(false);
    expect(r.command).toEqual(['app']);
    expect(parse(['app'], { GRACEFUL_INIT_APP_NODE_OPTIONS: '' }).warnings).toEqual([]);
  });

  it.each([
    [['--stop-signals', 'KILL', 'app'], /--stop-signals: "KILL": SIGKILL cannot be caught/],
    [['--stop-signals', 'TERM,STOP', 'app'], /SIGSTOP cannot be caught/],
    [['--stop-signals', ',', 'app'], /needs at least one signal/],
    [['--stop-signal', 'STOP', 'app'], /--stop-signal: "STOP": SIGSTOP cannot be caught/],
    [['--rewrite', 'KILL:TERM', 'app'], /--rewrite: "KILL": SIGKILL cannot be caught/],
    [['--rewrite', 'TERM:NOPE', 'app'], /"NOPE" is not a signal/],
    [['--stop-signals', 'RTMIN+3', 'app'], /real-time signals are always forwarded/],
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
    [['--status-addr', 'host', 'app'], /not an address/],
  ])('rejects %j', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('does not need a command for --help, --version or --check', () => {
    expect(parse(['--help']).options.help).toBe(true);
    expect(parse(['--check']).command).toEqual([]);
  });
});

describe('values', () => {
  it('durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('30')).toBe(30_000);
    expect(() => parseDuration('-1s')).toThrow(/not a duration/);
    expect(() => parseDuration('2 days')).toThrow(/not a duration/);
  });

  it('signals by name, short name or number', () => {
    expect(parseSignal('TERM')).toBe('SIGTERM');
    expect(parseSignal('sigquit')).toBe('SIGQUIT');
    expect(parseSignal('15')).toBe('SIGTERM');
    expect(parseSignal('IOT')).toBe('SIGABRT');
    expect(() => parseSignal('NOPE')).toThrow(/not a signal/);
    expect(() => parseSignal('99')).toThrow(/not a signal/);
  });

  it('status addresses', () => {
    expect(parseStatusAddr('8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseStatusAddr(':8081')).toEqual({ host: '127.0.0.1', port: 8081 });
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

  it('rejects what a shell would', () => {
    expect(() => splitCommand("sh -c 'open")).toThrow(/unclosed ' quote/);
    expect(() => splitCommand('x \\')).toThrow(/lone backslash/);
    expect(() => splitCommand('   ')).toThrow(/empty/);
  });
});
