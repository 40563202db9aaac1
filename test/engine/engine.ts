// What the engine tests share: the daemon the global setup started (inject), containers that are
// always removed after each test, and small readers of a container's state.
import { inject } from 'vitest';
import { docker, dockerOk, type DockerResult } from './lib/docker.mjs';
import type { Images } from './lib/images.mjs';
import { sleep } from '../e2e/harness.js';

export interface EngineContext {
  docker: string;
  env: NodeJS.ProcessEnv;
  dir: string;
  images: Images;
}

declare module 'vitest' {
  export interface ProvidedContext {
    engine: EngineContext | null;
  }
}

/** The engine, or null when it is missing outside CI (the global setup fails in CI). */
export function engine(): EngineContext | null {
  return inject('engine');
}

function need(): EngineContext {
  const e = engine();
  if (!e) throw new Error('no engine');
  return e;
}

export const images = (): Images => need().images;

export function dockerRun(args: string[], timeoutMs?: number): Promise<DockerResult> {
  return docker(need(), args, timeoutMs ? { timeoutMs } : {});
}

export function dockerMust(args: string[], timeoutMs?: number): Promise<string> {
  return dockerOk(need(), args, timeoutMs ? { timeoutMs } : {});
}

const started = new Set<string>();

/** `docker run -d --network host ...`: the container's id; removed by removeContainers(). */
export async function runDetached(args: string[]): Promise<string> {
  const id = await dockerMust(['run', '-d', '--network', 'host', ...args]);
  started.add(id);
  return id;
}

/** `docker run --network host ...` in the foreground (removed afterwards): its result. */
export async function runForeground(args: string[], timeoutMs = 60_000): Promise<DockerResult> {
  const name = `gi-fg-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  started.add(name);
  return dockerRun(['run', '--name', name, '--network', 'host', ...args], timeoutMs);
}

/** For afterEach: every container a test started goes, whatever happened. */
export async function removeContainers(): Promise<void> {
  const ids = [...started];
  started.clear();
  if (ids.length) await dockerRun(['rm', '-f', ...ids]);
}

export async function logs(id: string): Promise<{ stdout: string; stderr: string }> {
  const r = await dockerRun(['logs', id]);
  return { stdout: r.stdout, stderr: r.stderr };
}

export async function state(id: string): Promise<{ running: boolean; exitCode: number; oomKilled: boolean }> {
  const out = await dockerMust(['inspect', '-f', '{{json .State}}', id]);
  const s = JSON.parse(out) as { Running: boolean; ExitCode: number; OOMKilled: boolean };
  return { running: s.Running, exitCode: s.ExitCode, oomKilled: s.OOMKilled };
}

/** Waits until the container has stopped; its exit code. */
export async function waitExit(id: string, ms = 30_000): Promise<number> {
  const r = await dockerRun(['wait', id], ms);
  if (r.code !== 0) throw new Error(`docker wait ${id}: ${r.code} ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** Polls the container's logs (stdout and stderr) until `re` matches. */
export async function waitLog(id: string, re: RegExp, ms = 15_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const l = await logs(id);
    const text = l.stdout + l.stderr;
    if (re.test(text)) return text;
    if (Date.now() > until) throw new Error(`timed out waiting for ${re} in the logs of ${id}:\n${text}`);
    await sleep(100);
  }
}
