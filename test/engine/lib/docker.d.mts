export interface Daemon {
  dir: string;
  socket: string;
  pid: number;
  env: NodeJS.ProcessEnv;
  docker: string;
}
export interface DockerResult {
  code: number | string | null;
  stdout: string;
  stderr: string;
  ms: number;
}
export function docker(daemon: Pick<Daemon, 'docker' | 'env'>, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<DockerResult>;
export function dockerOk(daemon: Pick<Daemon, 'docker' | 'env'>, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
