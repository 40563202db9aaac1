import { OPTION_TABLE, envName, type OptionSpec } from './options.js';

const SECTIONS: Record<OptionSpec['section'], string> = {
  general: 'General',
  process: 'Process',
  shutdown: 'Shutdown sequence',
  traffic: "Traffic-aware shutdown (watches the app's TCP connections)",
};

/** --help fits an 80-column terminal. */
export const HELP_WIDTH = 80;
const USAGE_COLUMN = 30;

function usageOf(spec: OptionSpec): string {
  const long = `--${spec.long}${spec.value ? ` ${spec.value}` : ''}`;
  return spec.short ? `-${spec.short}, ${long}` : `    ${long}`;
}

/** `text` in lines of at most `width`, broken at spaces (a word longer than that stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Usage on the left, the help text wrapped in a column on the right. */
function optionLines(spec: OptionSpec): string[] {
  const more = [spec.defaultText ? `default: ${spec.defaultText}` : '', envName(spec) ?? ''].filter(Boolean);
  const usage = `  ${usageOf(spec)}`;
  const indent = ' '.repeat(USAGE_COLUMN);
  const width = HELP_WIDTH - USAGE_COLUMN;
  const body = [...wrap(spec.help, width), ...(more.length > 0 ? wrap(`[${more.join('; ')}]`, width) : [])].map((l) => indent + l);
  if (usage.length < USAGE_COLUMN - 1) body[0] = usage.padEnd(USAGE_COLUMN) + (body[0] as string).slice(USAGE_COLUMN);
  else body.unshift(usage);
  return body;
}

const INTRO = [
  'Runs app as its child: forwards signals, reaps zombies, and on a stop signal runs drain -> pre-stop -> stop -> SIGKILL at the kill deadline, then exits with the status of the app.',
  'Every option can also be set with the variable shown; the command line wins. A list option takes a comma-separated list too (-e 143,130).',
  'Durations as in Go and Kubernetes: 500ms, 2.5s, 1m30s, 1h (units ns us ms s m h), or plain seconds (30).',
  'The stop window: with pre-stop commands, the stop signal goes out at the latest --stop-timeout before the kill deadline.',
];

const OUTRO = [
  "Drop-in for tini and dumb-init: tini's -s -g -e -p -v -w -l and dumb-init's -c -r -v -V mean the same here. Honoured: TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP (set at all: on), TINI_VERBOSITY (0: -q, 2 and up: -v), DUMB_INIT_SETSID (0: -c, else -g), DUMB_INIT_DEBUG=1 (-v). dumb-init's default, signals to the whole process group, is -g here.",
  'Exit status: the app\'s (128+N after signal N); 2: a bad setting (one line on stderr, the app never starts); 126/127: the app cannot be run. --check exits 1 when it prints a warning.',
];

export function helpText(): string {
  const para = (text: string) => wrap(text, HELP_WIDTH);
  const lines = ['Usage: graceful-init [options] [--] app [args...]', ''];
  INTRO.forEach((text, i) => lines.push(...(i > 0 ? [''] : []), ...para(text)));
  for (const [section, title] of Object.entries(SECTIONS)) {
    lines.push('', `${title}:`);
    for (const spec of OPTION_TABLE.filter((s) => s.section === section)) lines.push(...optionLines(spec));
  }
  for (const text of OUTRO) lines.push('', ...para(text));
  return `${lines.join('\n')}\n`;
}

export function usageHint(): string {
  return 'try graceful-init --help';
}
