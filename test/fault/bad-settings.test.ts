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

describe('bad settings', () => {
  it.each(cases)('$name: one line, exit 2, the app never starts', async ({ args, env }) => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'ran');
      const r = await run('child', [...args, '--', 'sh', '-c', `touch ${marker}`], { env: cleanEnv(env) });
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^graceful-init: (--|-[a-zA-Z]|GRACEFUL_INIT_)/);
      expect(existsSync(marker)).toBe(false);
    } finally {
      dir.cleanup();
    }
  });
});
