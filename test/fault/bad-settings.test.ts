// Every option and every GRACEFUL_INIT_* variable, given a bad value: one line, exit 2, and the app
// never starts. Generated from the option table, so a new option needs a bad value here too.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OPTION_TABLE, envName } from '../../src/cli/options.js';
import { cleanEnv, run, tempDir } from '../e2e/harness.js';

/** A value each kind of option must refuse; null where any text is a valid value (a file path). */
const BAD: Record<string, string | null> = {
  FORMAT: 'xml',
  CODE: '256',
  SIG: 'NOPE',
  N: '-1',
  FILE: null,
  LIST: 'TERM,KILL',
  'FROM:TO': 'TERM',
  DUR: '5 minutes',
  CMD: "sh -c 'unclosed",
  'HOST:PORT': 'localhost:99999',
  SPEC: 'http://example.com/',
  NAME: 'iis',
};

const cases = OPTION_TABLE.flatMap((spec) => {
  const bad = spec.value ? BAD[spec.value] : 'maybe';
  if (bad === undefined) throw new Error(`no bad value for --${spec.long} (${spec.value}): add one to BAD`);
  if (bad === null) return [];
  const viaEnv = envName(spec);
  return [
    ...(spec.value ? [{ name: `--${spec.long} ${bad}`, args: [`--${spec.long}`, bad], env: {} }] : []),
    ...(viaEnv ? [{ name: `${viaEnv}=${bad}`, args: [], env: { [viaEnv]: bad } }] : []),
  ];
});

/** The init given `args` and `env`: one line on stderr matching `message`, exit 2, and the app never ran. */
async function expectRefused(args: string[], env: NodeJS.ProcessEnv, message: RegExp): Promise<void> {
  const dir = tempDir();
  try {
    const marker = join(dir.path, 'ran');
    const r = await run('child', [...args, '--', 'sh', '-c', `touch ${marker}`], { env: cleanEnv(env) });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(marker)).toBe(false);
  } finally {
    dir.cleanup();
  }
}

describe('bad settings', () => {
  it.each(cases)('$name: one line, exit 2, the app never starts', async ({ args, env }) => {
    await expectRefused(args, env, /^graceful-init: (--|-[a-zA-Z]|GRACEFUL_INIT_)/);
  });
});

/** Settings as users write them that cannot mean what they want: each refused with what to write instead. */
const REFUSED: { name: string; args: string[]; env?: NodeJS.ProcessEnv; message: RegExp }[] = [
  { name: 'a duration with a space', args: ['--drain-delay', '1m 30s'], message: /^graceful-init: --drain-delay: "1m 30s" is not a duration; write it like 500ms, 2\.5s, 1m30s, 1h or 30 \(seconds\)/ },
  { name: 'days', args: [], env: { GRACEFUL_INIT_GRACE_PERIOD: '1d' }, message: /^graceful-init: GRACEFUL_INIT_GRACE_PERIOD: "1d" is not a duration; write it like/ },
  { name: 'a bad code in an -e list', args: ['-e', '143,abc'], message: /^graceful-init: -e: "abc" is not an exit code; write a number from 0 to 255/ },
  { name: 'a rewrite to KILL', args: ['--rewrite', 'TERM:KILL'], message: /^graceful-init: --rewrite: "TERM:KILL": only the kill deadline sends SIGKILL; to kill sooner, shorten it with --kill-after DUR/ },
  { name: "dumb-init's rewrite to STOP", args: ['-r', '20:19'], message: /^graceful-init: -r: "20:19": SIGSTOP would freeze the app .*; forward TSTP itself/ },
  { name: 'CHLD as a stop signal', args: ['--stop-signals', 'TERM,CHLD'], message: /^graceful-init: --stop-signals: "CHLD": SIGCHLD tells the init that a process exited and cannot start the shutdown; name a signal the engine sends, such as TERM/ },
  { name: 'SEGV as a stop signal', args: [], env: { GRACEFUL_INIT_STOP_SIGNALS: 'SEGV' }, message: /^graceful-init: GRACEFUL_INIT_STOP_SIGNALS: "SEGV": SIGSEGV is never taken from outside/ },
  { name: 'a pre-stop pipeline', args: ['--pre-stop', 'nginx -s quit && sleep 1'], message: /^graceful-init: --pre-stop: "nginx -s quit && sleep 1" uses shell syntax \(&&\), but pre-stop commands run without a shell; write sh -c 'nginx -s quit && sleep 1'/ },
  { name: 'a pre-stop redirection from the variable', args: [], env: { GRACEFUL_INIT_PRE_STOP: 'true\ncurl -s http://127.0.0.1/quit > /dev/null' }, message: /^graceful-init: GRACEFUL_INIT_PRE_STOP: .* uses shell syntax \(>\).*; write sh -c 'curl -s http:\/\/127\.0\.0\.1\/quit > \/dev\/null'/ },
  { name: 'a pre-stop variable', args: ['--pre-stop', 'kill -QUIT $APP_PID'], message: /uses shell syntax \(\$APP_PID\)/ },
  { name: '-c and -g together', args: ['-c', '-g'], message: /^graceful-init: -c \(--single-child\) and -g \(--process-group\) contradict each other; keep one/ },
  { name: 'DUMB_INIT_SETSID=0 with TINI_KILL_PROCESS_GROUP', args: [], env: { DUMB_INIT_SETSID: '0', TINI_KILL_PROCESS_GROUP: '1' }, message: /contradict each other/ },
  { name: 'a TINI_VERBOSITY that is not a level', args: [], env: { TINI_VERBOSITY: 'debug' }, message: /^graceful-init: TINI_VERBOSITY: "debug" is not a level; write 0 \(errors only\), 1 \(warnings, the default\), 2 or 3 \(-v\)/ },
  { name: 'dumb-init has no --use-setsid', args: ['--use-setsid'], message: /^graceful-init: unknown option --use-setsid: dumb-init has no --use-setsid; .* is -g here/ },
  { name: 'a mistyped option', args: ['--grace-periode', '30s'], message: /^graceful-init: unknown option --grace-periode \(did you mean --grace-period\?\)/ },
];

describe('settings that cannot mean what was written', () => {
  it.each(REFUSED)('$name: one line saying what to write, exit 2, the app never starts', async ({ args, env, message }) => {
    await expectRefused(args, env ?? {}, message);
  });
});
