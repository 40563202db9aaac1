// Which form of graceful-init is running, for --version: the single executable, the same executable
// inside the portable bundle (whose share/graceful-init/BUNDLE.txt sits beside its bin/), or the npm
// package's dist/graceful-init.cjs on the image's own node.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { seaModule } from './reaper/sea-asset.js';

export function installForm(): string {
  if (!seaModule()) return `npm on node ${process.version}`;
  const bundleMarker = join(dirname(process.execPath), '..', 'share', 'graceful-init', 'BUNDLE.txt');
  const form = statSync(bundleMarker, { throwIfNoEntry: false })?.isFile() ? 'bundle' : 'single executable';
  return `${form}, node ${process.version}`;
}
