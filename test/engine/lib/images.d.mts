import type { Daemon } from './docker.mjs';
export const ROOT: string;
export const RECIPES: readonly ['alpine', 'distroless', 'nginx', 'scratch'];
export type Recipe = 'alpine' | 'distroless' | 'nginx' | 'scratch';
export interface Images {
  busybox: string;
  node: string;
  debian: string;
  nginx: string;
  /** the stand-in for docker/Dockerfile's base image, under the name the Dockerfile gives */
  nodeBookworm: string;
  /** graceful-init:<version>, built from docker/Dockerfile */
  init: string;
  recipes: Record<Recipe, string>;
}
export function cacheDir(): string;
export function debianMirror(): { suite: string; mirror: string };
export function prepareImages(daemon: Pick<Daemon, 'docker' | 'env'>, opts?: { log?: (line: string) => void; recipes?: Recipe[] }): Promise<Images>;
