import type { Daemon } from './docker.mjs';
export const ROOT: string;
export const RECIPES: readonly ['alpine', 'distroless', 'nginx', 'scratch'];
export type Recipe = 'alpine' | 'distroless' | 'nginx' | 'scratch';
export interface Images {
  busybox: string;
  node: string;
  debian: string;
  nginx: string;
  init: string;
  recipes: Record<Recipe, string>;
}
export function cacheDir(): string;
export function debianMirror(): { suite: string; mirror: string };
export function prepareImages(daemon: Pick<Daemon, 'docker' | 'env'>, opts: { bundleTarball: string; log?: (line: string) => void; recipes?: Recipe[] }): Promise<Images>;
