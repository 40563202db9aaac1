// Which known server a process is, or a command line will run. Pure: the /proc reading is in proc.ts.
import { SERVERS, type ServerProfile } from './table.js';

/** One process as /proc shows it; exe null when it cannot be read (not ours to read, or gone). */
export interface ProcessView {
  exe: string | null;
  comm: string | null;
  argv: readonly string[];
}

/** Processes that hand the work to a child and stay (a shell running a command, an init, su). */
const PASSES_ON = /^(sh|bash|dash|ash|zsh|ksh|mksh|busybox|su|sudo|runuser|setsid|timeout|tini|tini-static|dumb-init|catatonit)$/;
/** Words in a command line that run what follows them. */
const RUNS_NEXT = /^(env|exec|nice|ionice|chpst|setpriv|setsid|stdbuf|timeout|tini|tini-static|dumb-init|catatonit|s6-setuidgid|bundle|python[0-9.]*|ruby[0-9.]*|--)$/;
/** ... and those whose first word is theirs (a user, a directory), not the command's. */
const TAKES_ONE = /^(gosu|su-exec|chroot)$/;
const SHELL = /^(sh|bash|dash|ash|zsh|ksh|mksh)$/;

/** The file name of a path; /proc/<pid>/exe of a replaced executable ends in " (deleted)". */
export function fileName(path: string): string {
  const clean = path.replace(/ \(deleted\)$/, '');
  return clean.slice(clean.lastIndexOf('/') + 1);
}

/** "nginx: master process …", "gunicorn: master [app]", "puma 6.4.0 (tcp://…)": the server's own name for itself. */
function titleWord(argv0: string | undefined): string | null {
  const first = argv0?.trim().split(/\s+/)[0];
  return first ? fileName(first).replace(/:$/, '') : null;
}

const byExecutable = (name: string) => SERVERS.find((s) => s.executable.test(name));
const byLauncher = (name: string) => SERVERS.find((s) => s.launchers?.test(name));

/** A server run by an interpreter: its script, module (-m) or title among the first words of its command. */
function hostedServer(interpreter: string, argv: readonly string[]): ServerProfile | undefined {
  const candidates = SERVERS.filter((s) => s.interpreter?.test(interpreter));
  if (candidates.length === 0) return undefined;
  const words = [titleWord(argv[0]), ...argv.slice(1).filter((w) => !w.startsWith('-')).slice(0, 4).map(fileName)];
  for (const word of words) {
    const found = word ? candidates.find((s) => s.script?.test(word)) : undefined;
    if (found) return found;
  }
  return undefined;
}

/**
 * The known server this process is: by its executable (so an entrypoint script that exec'd the
 * server is the server), by its script when an interpreter runs it, by the name it gives itself
 * (a renamed nginx still calls itself "nginx: master process"), or by its command name when the
 * executable cannot be read.
 */
export function recogniseProcess(view: ProcessView): ServerProfile | null {
  const name = view.exe !== null ? fileName(view.exe) : (view.comm ?? titleWord(view.argv[0]) ?? '');
  if (name === '') return null;
  const found = byExecutable(name) ?? hostedServer(name, view.argv);
  if (found) return found;
  if (PASSES_ON.test(name)) return null;
  const title = titleWord(view.argv[0]);
  return (title !== null && title !== name && (byExecutable(title) ?? SERVERS.find((s) => s.script?.test(title)))) || null;
}

/** A shell, su or an init: its children do the work, so they are looked at. */
export function passesOn(view: ProcessView): boolean {
  const name = view.exe !== null ? fileName(view.exe) : (view.comm ?? '');
  return PASSES_ON.test(name);
}

/** Splits `sh -c` text into words, enough to find the command (quotes dropped, operators as spaces). */
function shellWords(text: string): string[] {
  return text.replace(/[;&|()<>`]/g, ' ').replace(/["']/g, '').split(/\s+/).filter(Boolean);
}

const entrypointScript = (name: string) => /entrypoint|\.sh$/.test(name);

/**
 * The known server a command line runs, read the way a person would: past environment settings,
 * options, launchers (env, gosu USER, bundle exec, python -m, tini --) and entrypoint scripts that
 * pass their arguments on (/docker-entrypoint.sh nginx …), into `sh -c '…'`. The first other word
 * decides. For the line at start and --check, and where /proc is missing.
 */
export function recogniseCommand(command: readonly string[]): ServerProfile | null {
  for (let i = 0; i < command.length && i < 32; i++) {
    const word = command[i] as string;
    if (word.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || /^\d+$/.test(word)) continue;
    const name = fileName(word);
    const found = byExecutable(name) ?? byLauncher(name);
    if (found) return found;
    if (SHELL.test(name)) {
      const script = command.indexOf('-c', i + 1);
      return script === -1 ? null : recogniseCommand(shellWords(command[script + 1] ?? ''));
    }
    if (TAKES_ONE.test(name)) i++;
    else if (!RUNS_NEXT.test(name) && !entrypointScript(name)) return null;
  }
  return null;
}
