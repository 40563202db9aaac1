// How the build scripts run tools and give up. A tool's output is kept back and shown only when it
// fails; every failure is one line naming the script, then exit status 1, so a caller (npm, the
// test setup, another script) sees which step of which script broke without a stack trace.
import { spawnSync } from 'node:child_process';
import { basename, relative } from 'node:path';
import { root } from './paths.mjs';

const scriptName = basename(process.argv[1] ?? 'build', '.mjs');

export function fail(message) {
  console.error(`${scriptName}: ${message}`);
  process.exit(1);
}

/** Runs a tool to completion and returns its stdout; any failure ends the script. */
export function run(file, args, options = {}) {
  const result = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (result.error) fail(`cannot run ${file}: ${result.error.message}`);
  if (result.status !== 0) {
    fail(`${file} ${args.join(' ')} exited with ${result.status ?? result.signal}: ${(result.stderr || result.stdout || '').trim()}`);
  }
  return result.stdout;
}

/** Another of these scripts, on this same Node; its stderr (and stdout, unless redirected) goes through. */
export function runScript(script, args = [], { stdout = 'inherit' } = {}) {
  const result = spawnSync(process.execPath, [script, ...args], { stdio: ['ignore', stdout, 'inherit'] });
  if (result.status !== 0) fail(`${relative(root, script)} exited with ${result.status ?? result.signal ?? result.error?.message}`);
}

export const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

export function requireTools(tools, hint) {
  for (const tool of tools) if (!have(tool)) fail(`${tool} is needed (${hint(tool)})`);
}
