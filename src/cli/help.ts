import { OPTION_TABLE, envName, type OptionSpec } from './options.js';

const SECTIONS: Record<OptionSpec['section'], string> = {
  general: 'General',
  process: 'Process',
  shutdown: 'Shutdown sequence',
  traffic: "Traffic-aware shutdown (watches the app's TCP connections)",
};

function usageOf(spec: OptionSpec): string {
  const long = `--${spec.long}${spec.value ? ` ${spec.value}` : ''}`;
  return spec.short ? `-${spec.short}, ${long}` : `    ${long}`;
}

export function helpText(): string {
  const lines = [
    'Usage: graceful-init [options] [--] app [args...]',
    '',
    'Runs app as its child: forwards signals, reaps zombies, and on a stop signal runs',
    'drain -> pre-stop -> stop -> kill at the deadline, then exits with the app\'s status.',
    'Every option can also be set with the environment variable shown; the command line wins.',
    'Durations: 500ms, 2s, 1m or plain seconds.',
  ];
  for (const [section, title] of Object.entries(SECTIONS)) {
    lines.push('', `${title}:`);
    for (const spec of OPTION_TABLE.filter((s) => s.section === section)) {
      const more = [spec.defaultText ? `default: ${spec.defaultText}` : '', envName(spec) ?? ''].filter(Boolean);
      lines.push(`  ${usageOf(spec).padEnd(30)} ${spec.help}`);
      if (more.length > 0) lines.push(`  ${''.padEnd(30)} [${more.join('; ')}]`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function usageHint(): string {
  return 'try graceful-init --help';
}
