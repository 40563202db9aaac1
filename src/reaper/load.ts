// Finds and loads the addon. Runs at every start: a handful of stat() calls, never throws.
// Candidates, the first that loads wins: --reaper-path; beside the executable and in ../lib (the
// portable bundle); the asset embedded in the single executable; beside the main script (the npm
// package runs dist/graceful-init.cjs next to dist/reaper.node).
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ADDON_FUNCTIONS, type Addon } from './native-api.js';
import { Native } from './native.js';
import { ADDON_ASSET, extractedAssetPaths, seaModule } from './sea-asset.js';

export type LoadResult = { native: Native; from: string } | { native: null; reasons: string[] };

interface Candidate {
  path: string;
  /** makes the file exist first (the embedded asset) */
  write?: () => void;
  label?: string;
}

declare const __REAPER_ASSET_SHA256__: string | undefined;

/** The embedded asset's hash, computed by the build: hashing here would load node:crypto (~6 ms). */
function assetHash(): string {
  return typeof __REAPER_ASSET_SHA256__ === 'string' && __REAPER_ASSET_SHA256__ !== '' ? __REAPER_ASSET_SHA256__ : 'dev';
}

/** In order, each worked out only when the one before has failed. */
function* candidates(explicitPath: string | null): Generator<Candidate> {
  if (explicitPath) yield { path: resolve(explicitPath) };
  const exeDir = dirname(process.execPath);
  yield { path: join(exeDir, ADDON_ASSET) };
  yield { path: join(exeDir, '..', 'lib', ADDON_ASSET) };
  const sea = seaModule();
  if (sea) {
    for (const c of extractedAssetPaths(sea, assetHash())) yield { ...c, label: `sea-asset:${c.path}` };
  } else if (process.argv[1]) {
    yield { path: join(dirname(resolve(process.argv[1])), ADDON_ASSET) };
  }
}

function reason(err: unknown, path: string): string {
  let text = ((err as Error)?.message ?? String(err)).split('\n', 1)[0] ?? '';
  if (text.startsWith(`${path}: `)) text = text.slice(path.length + 2); // dlopen repeats the path
  if (text.includes('failed to map segment')) text += ' (noexec mount?)';
  return `${path}: ${text.length > 200 ? `${text.slice(0, 197)}...` : text}`;
}

const loaded = new Map<string, Native>();

function tryLoad(candidate: Candidate, reasons: string[]): Native | null {
  const { path } = candidate;
  const cached = loaded.get(path);
  if (cached) return cached;
  try {
    candidate.write?.();
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
      reasons.push(`${path}: not found`);
      return null;
    }
    const mod: { exports: Record<string, unknown> } = { exports: {} };
    process.dlopen(mod, path);
    const missing = ADDON_FUNCTIONS.find((name) => typeof mod.exports[name] !== 'function');
    if (missing) {
      reasons.push(`${path}: not a graceful-init addon (no ${missing}())`);
      return null;
    }
    const native = new Native(mod.exports as unknown as Addon);
    loaded.set(path, native);
    return native;
  } catch (err) {
    reasons.push(reason(err, path));
    return null;
  }
}

export function loadNative(explicitPath: string | null = null): LoadResult {
  const reasons: string[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates(explicitPath)) {
    if (seen.has(candidate.path)) continue;
    seen.add(candidate.path);
    const native = tryLoad(candidate, reasons);
    if (native) return { native, from: candidate.label ?? candidate.path };
  }
  return { native: null, reasons: reasons.length > 0 ? reasons : ['no candidate paths'] };
}
