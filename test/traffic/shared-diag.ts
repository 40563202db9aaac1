// The addon's sock_diag functions for the native traffic tests, from the addon built before the run
// (test/global-setup.ts).
import { loadNative } from '../../src/reaper/load.js';
import type { NativeSockDiag } from '../../src/traffic/native-api.js';
import { sockDiagFrom, type SockDiag } from '../../src/traffic/sock-diag.js';
import { ADDON } from '../native/helpers.js';

export function loadSockDiag(): { native: NativeSockDiag; diag: SockDiag } {
  const res = loadNative(ADDON);
  if (!res.native) throw new Error(`the addon did not load: ${res.reasons.join('; ')}`);
  const diag = sockDiagFrom(res.native.addon);
  if (!diag) throw new Error('the addon has no sock_diag functions');
  return { native: res.native.addon as unknown as NativeSockDiag, diag };
}
