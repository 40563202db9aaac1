import { OPTION_TABLE, checkCombination, contradictions, defaultOptions, envName, unusedOptionWarnings, type OptionSpec, type Options } from './options.js';
import { closestName } from './spelling.js';
import { applyDropInEnvironment } from './drop-in.js';
import { UsageError } from '../errors.js';

export { UsageError };

export interface Invocation {
  options: Options;
  /** the app and its arguments, exactly as given */
  command: string[];
  /** things worth one line at start that do not stop the app (a misspelt variable, an option that does nothing) */
  warnings: string[];
}

/** Set by the npm entry (bin/graceful-init), not by users: see process/app-env.ts. */
const INTERNAL_VARIABLES = new Set(['GRACEFUL_INIT_APP_NODE_OPTIONS']);

const byLong = new Map(OPTION_TABLE.map((spec) => [spec.long, spec]));
const byShort = new Map(OPTION_TABLE.filter((s) => s.short).map((spec) => [spec.short as string, spec]));
const variables = new Map(OPTION_TABLE.map((spec) => [envName(spec), spec] as const).filter((e): e is [string, OptionSpec] => e[0] !== null));

/** GRACEFUL_INIT_* variables that set nothing: most likely a typo the user wants to hear about. */
function unknownVariableWarnings(env: NodeJS.ProcessEnv): string[] {
  const unknown = Object.keys(env).filter((k) => k.startsWith('GRACEFUL_INIT_') && !variables.has(k) && !INTERNAL_VARIABLES.has(k));
  return unknown.sort().map((name) => {
    const spec = byLong.get(name.slice('GRACEFUL_INIT_'.length).toLowerCase().replaceAll('_', '-'));
    if (spec?.commandLineOnly) return `ignoring ${name}: --${spec.long} is command-line only`;
    const near = closestName(name, [...variables.keys()]);
    return `ignoring ${name}: not a graceful-init setting${near ? `; did you mean ${near}?` : ' (see --help)'}`;
  });
}

/** Flags of other programs people pass by habit, with what to write here. */
const FOREIGN_OPTIONS: Readonly<Record<string, string>> = {
  'use-setsid': "dumb-init has no --use-setsid; its default setsid mode (signals to the app's whole process group) is -g here",
};

function unknownOption(name: string): UsageError {
  const hint = FOREIGN_OPTIONS[name.replace(/^-+/, '')];
  if (hint) return new UsageError(`unknown option ${name}: ${hint}`);
  const near = name.startsWith('--') ? closestName(name, [...byLong.keys()].map((l) => `--${l}`)) : null;
  return new UsageError(`unknown option ${name}${near ? ` (did you mean ${near}?)` : ''}`);
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off', ''];

/** One source of settings (the environment, the command line): what it sets, and which options it named. */
class Layer {
  readonly given = new Set<string>();
  private readonly listsSeen = new Set<OptionSpec>();

  constructor(private readonly opts: Options) {}

  /** `raw`: the text, or true for a flag; a list given here replaces what an earlier layer gave. */
  set(spec: OptionSpec, raw: string | true, source: string): void {
    this.given.add(spec.long);
    if (spec.list && !this.listsSeen.has(spec)) {
      this.listsSeen.add(spec);
      spec.list.reset(this.opts);
    }
    // a list of nothing (`-e ''`, `--rewrite ,`) goes to the option whole, which says what to write
    const listed = spec.list?.envSeparator === ',' && raw !== true ? raw.split(',').filter((item) => item.trim() !== '') : [];
    const items = listed.length > 0 ? listed : [raw];
    for (const item of items) {
      try {
        spec.set(this.opts, typeof item === 'string' && spec.list ? item.trim() : item);
      } catch (err) {
        throw new UsageError(`${source}: ${(err as Error).message}`);
      }
    }
  }

  check(): void {
    const contradiction = contradictions(this.given);
    if (contradiction) throw new UsageError(contradiction);
  }
}

/** Environment first, so that the command line wins. */
function applyEnvironment(opts: Options, env: NodeJS.ProcessEnv): Layer {
  const layer = new Layer(opts);
  applyDropInEnvironment(env, (long, raw, name) => layer.set(byLong.get(long) as OptionSpec, raw, name));
  for (const [name, spec] of variables) {
    const raw = env[name];
    if (raw === undefined) continue;
    if (!spec.value) {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.includes(word)) layer.set(spec, true, name);
      else if (!FALSE_WORDS.includes(word)) throw new UsageError(`${name}: "${raw}" is not a yes/no value; write 1 or 0`);
    } else if (spec.list) {
      // an empty item (a trailing separator, an empty variable) is nothing, as in a shell's lists
      for (const item of raw.split(spec.list.envSeparator)) if (item.trim() !== '') layer.set(spec, item.trim(), name);
    } else {
      layer.set(spec, raw, name);
    }
  }
  layer.check();
  return layer;
}

/** Reads the options up to the app; returns where the app's argv starts. */
function applyCommandLine(layer: Layer, argv: readonly string[]): number {
  let i = 0;
  const take = (spec: OptionSpec, name: string, inline: string | undefined) => {
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`${name} takes no value`);
      return layer.set(spec, true, name);
    }
    const value = inline ?? (i < argv.length ? argv[i++] : undefined);
    if (value === undefined) throw new UsageError(`${name} needs a value (${spec.value})`);
    layer.set(spec, value, name);
  };
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (arg === '--') return i + 1;
    if (arg.startsWith('--')) {
      i++;
      const eq = arg.indexOf('=');
      const long = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = byLong.get(long);
      if (!spec) throw unknownOption(`--${long}`);
      take(spec, `--${long}`, eq === -1 ? undefined : arg.slice(eq + 1));
      continue;
    }
    if (!arg.startsWith('-') || arg.length === 1) return i;
    i++;
    // Short flags may be grouped (-vg); a short option with a value takes the rest (-e143) or the next word.
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j] as string;
      const spec = byShort.get(letter);
      if (!spec) throw unknownOption(`-${letter}`);
      if (spec.value) {
        const rest = arg.slice(j + 1);
        take(spec, `-${letter}`, rest === '' ? undefined : rest);
        break;
      }
      take(spec, `-${letter}`, undefined);
    }
  }
  return i;
}

export function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv): Invocation {
  const options = defaultOptions();
  const fromEnv = applyEnvironment(options, env);
  const fromArgs = new Layer(options);
  const appAt = applyCommandLine(fromArgs, argv);
  fromArgs.check();

  const command = argv.slice(appAt);
  const printsOnly = options.help || options.version || options.license || options.check || options.sendPrestop;
  if (!printsOnly && command.length === 0) {
    throw new UsageError('missing the command to run: graceful-init [options] -- app [args...]');
  }
  try {
    checkCombination(options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const given = new Set([...fromEnv.given, ...fromArgs.given]);
  return { options, command, warnings: [...unknownVariableWarnings(env), ...unusedOptionWarnings(options, given)] };
}

/** Does `arg` (an option word) take the next word as its value? */
function takesNextWord(arg: string): boolean {
  if (arg.startsWith('--')) return !arg.includes('=') && byLong.get(arg.slice(2))?.value !== undefined;
  for (let j = 1; j < arg.length; j++) {
    if (byShort.get(arg[j] as string)?.value) return j === arg.length - 1;
  }
  return false;
}

/**
 * The log format asked for, read without judging anything else: a bad setting is reported in the
 * format the rest of the log would have had.
 */
export function requestedLogFormat(argv: readonly string[], env: NodeJS.ProcessEnv): 'text' | 'json' {
  let format = env.GRACEFUL_INIT_LOG_FORMAT;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break;
    if (arg === '--log-format') format = argv[i + 1];
    else if (arg.startsWith('--log-format=')) format = arg.slice('--log-format='.length);
    if (takesNextWord(arg)) i++;
  }
  return format?.trim().toLowerCase() === 'json' ? 'json' : 'text';
}
