import { OPTION_TABLE, checkCombination, defaultOptions, envName, type OptionSpec, type Options } from './options.js';

export class UsageError extends Error {}

export interface Invocation {
  options: Options;
  /** the app and its arguments, exactly as given */
  command: string[];
  /** things worth one line at start that do not stop the app (a misspelt variable) */
  warnings: string[];
}

/** Set by the npm entry (bin/graceful-init), not by users: see process/app-env.ts. */
const INTERNAL_VARIABLES = new Set(['GRACEFUL_INIT_APP_NODE_OPTIONS']);

/** GRACEFUL_INIT_* variables that set nothing: most likely a typo the user wants to hear about. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = new Set(OPTION_TABLE.map(envName).filter((n): n is string => n !== null));
  return Object.keys(env).filter((k) => k.startsWith('GRACEFUL_INIT_') && !known.has(k) && !INTERNAL_VARIABLES.has(k)).sort();
}

const byLong = new Map(OPTION_TABLE.map((spec) => [spec.long, spec]));
const byShort = new Map(OPTION_TABLE.filter((s) => s.short).map((spec) => [spec.short as string, spec]));

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off', ''];

function apply(opts: Options, spec: OptionSpec, raw: string | true, source: string): void {
  try {
    spec.set(opts, raw);
  } catch (err) {
    throw new UsageError(`${source}: ${(err as Error).message}`);
  }
}

/** Environment first, so that the command line wins; a list given on the command line replaces the env's. */
function applyEnvironment(opts: Options, env: NodeJS.ProcessEnv): void {
  for (const spec of OPTION_TABLE) {
    const name = envName(spec);
    if (name === null) continue;
    const raw = env[name];
    if (raw === undefined) continue;
    if (!spec.value) {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.includes(word)) apply(opts, spec, true, name);
      else if (!FALSE_WORDS.includes(word)) {
        throw new UsageError(`${name}: "${raw}" is not a yes/no value; write 1 or 0`);
      }
    } else if (spec.list) {
      for (const item of raw.split(spec.list.envSeparator)) {
        if (item.trim() !== '') apply(opts, spec, item.trim(), name);
      }
    } else {
      apply(opts, spec, raw, name);
    }
  }
}

export function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv): Invocation {
  const options = defaultOptions();
  applyEnvironment(options, env);
  const listsSeen = new Set<OptionSpec>();

  const take = (spec: OptionSpec, name: string, inline: string | undefined, next: () => string | undefined) => {
    if (spec.list && !listsSeen.has(spec)) {
      listsSeen.add(spec);
      spec.list.reset(options);
    }
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`${name} takes no value`);
      apply(options, spec, true, name);
      return;
    }
    const value = inline ?? next();
    if (value === undefined) throw new UsageError(`${name} needs a value (${spec.value})`);
    apply(options, spec, value, name);
  };

  let i = 0;
  const next = () => (i < argv.length ? argv[i++] : undefined);
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg.startsWith('--')) {
      i++;
      const eq = arg.indexOf('=');
      const long = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = byLong.get(long);
      if (!spec) throw new UsageError(`unknown option --${long}`);
      take(spec, `--${long}`, eq === -1 ? undefined : arg.slice(eq + 1), next);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      i++;
      // Short flags may be grouped (-vg); a short option with a value takes the rest (-e143) or the next word.
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] as string;
        const spec = byShort.get(letter);
        if (!spec) throw new UsageError(`unknown option -${letter}`);
        if (spec.value) {
          const rest = arg.slice(j + 1);
          take(spec, `-${letter}`, rest === '' ? undefined : rest, next);
          break;
        }
        take(spec, `-${letter}`, undefined, next);
      }
      continue;
    }
    break;
  }

  const command = argv.slice(i);
  const needsCommand = !options.help && !options.version && !options.check;
  if (needsCommand && command.length === 0) {
    throw new UsageError('missing the command to run: graceful-init [options] -- app [args...]');
  }
  try {
    checkCombination(options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const unknown = unknownVariables(env);
  const warnings = unknown.length > 0 ? [`ignoring ${unknown.join(', ')}: not a graceful-init setting (see --help)`] : [];
  return { options, command, warnings };
}
