// The addon's sock_diag functions for the native traffic tests, built from the current sources.
import { loadReaper } from '../../src/reaper/load.js';
import type { NativeSockDiag } from '../../src/traffic/native-api.js';
import { sockDiagFrom, type SockDiag } from '../../src/traffic/sock-diag.js';
import { ADDON, buildAddon } from '../native/helpers.js';

export function loadSockDiag(): { native: NativeSockDiag; diag: SockDiag } {
  buildAddon();
  const res = loadReaper({ explicitPath: ADDON });
  if (!res.reaper) throw new Error(`reaper did not load: ${res.reasons.join('; ')}`);
  const diag = sockDiagFrom(res.reaper);
  if (!diag) throw new Error('the addon has no sock_diag functions');
  return { native: res.reaper as unknown as NativeSockDiag, diag };
}
