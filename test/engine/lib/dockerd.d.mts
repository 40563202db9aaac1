import type { Daemon } from './docker.mjs';
export interface Engine {
  dockerd: string | null;
  docker: string | null;
  runc: string | null;
  dockerInit: string | null;
  mmdebstrap: string | null;
}
export function findEngine(): Engine;
export function missingEngine(): string[];
export function cleanupDaemonDir(dir: string, pid: number): Promise<void>;
export function startDaemon(opts?: { log?: (line: string) => void }): Promise<Daemon & { stop(): Promise<void> }>;
