// The Docker client against a private daemon ({ docker, env } from dockerd.mjs).
import { spawn } from 'node:child_process';

/** Runs `docker ...args`; resolves { code, stdout, stderr, ms }; rejects only when it cannot start. */
export function docker(daemon, args, { input, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(daemon.docker, args, { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? `killed by ${signal}` : null), stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.end(input);
  });
}

/** `docker ...args` that must succeed: its stdout, trimmed. */
export async function dockerOk(daemon, args, opts) {
  const r = await docker(daemon, args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}:\n${r.stderr || r.stdout}`);
  return r.stdout.trim();
}
