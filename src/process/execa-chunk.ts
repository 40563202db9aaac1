// execa and the packages it brings are two thirds of the init's JavaScript, and only pre-stop
// commands use them. The build puts them in a chunk of their own (dist/execa.cjs, also an asset of
// the single executable), evaluated when the first command runs: compiling them at every start
// cost ~4 ms and 0.5 MiB of private memory.
import type * as Execa from 'execa';
import { seaModule } from '../reaper/sea-asset.js';

export const EXECA_CHUNK = 'execa.cjs';

export async function loadExeca(): Promise<typeof Execa> {
  const code = seaModule()?.getAsset(EXECA_CHUNK, 'utf8');
  if (code !== undefined) return evaluateChunk(code) as typeof Execa;
  // the bundle: ./execa.cjs beside it (scripts/build.mjs maps it so); under vitest, the package
  return import('execa');
}

/** A CommonJS chunk whose dependencies are all built into it, except Node's own modules. */
function evaluateChunk(code: string): unknown {
  const { compileFunction } = process.getBuiltinModule('node:vm');
  const module = { exports: {} };
  const run = compileFunction(code, ['exports', 'require', 'module'], { filename: EXECA_CHUNK });
  run(module.exports, (id: string) => process.getBuiltinModule(id), module);
  return module.exports;
}
