import type { Daemon } from './docker.mjs';
export interface PodContainer {
  args?: string[];
  env?: { name: string; value?: string }[];
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
export interface ImageConfig {
  Entrypoint: string[] | null;
  Cmd: string[] | null;
  Env: string[] | null;
  StopSignal?: string;
  WorkingDir?: string;
}
export function ociBundle(daemon: Pick<Daemon, 'docker' | 'env'>, image: string, dir: string, opts: { container: PodContainer; binds?: [string, string][] }): Promise<ImageConfig>;
