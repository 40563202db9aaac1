import { monotonicMs } from './clock.js';
import { wantsTraffic, type Options } from './cli/options.js';
import type { Logger } from './log.js';
import { descendantsOf } from './process/leftovers.js';
import type { Native } from './reaper/native.js';
import { connectionField, fromLoopback } from './traffic/connection-table.js';
import { CONNECTION } from './traffic/native-api.js';
import { isOwnPeerPort, ownConnectionsOpened } from './traffic/own-connections.js';
import { sockDiagFrom, startTrafficMonitor, watchAppPorts, type AppPortWatch, type TrafficMonitor } from './traffic/index.js';


/**
 * Watches the connections to the app's ports (given with --ports, or found from the sockets its
 * processes listen on) through the addon's sock_diag. Null when no option needs it, or when it
 * cannot be had: the drain then lasts --drain-delay and --wait-idle its maximum.
 */
export interface AppTraffic {
  monitor: TrafficMonitor;
  /** the ports the app listens on (or --ports) */
  ports: AppPortWatch;
}

export function watchAppTraffic(native: Native | null, options: Options, log: Logger, ownAccepts: () => number): AppTraffic | null {
  if (!wantsTraffic(options)) return null;
  const diag = native ? sockDiagFrom(native.addon) : null;
  if (!diag) {
    log.warn("cannot watch the app's connections without the native addon: the drain lasts --drain-delay");
    return null;
  }
  const ports = watchAppPorts(diag, () => descendantsOf(process.pid), {
    fixed: options.ports,
    excludePorts: options.statusAddr ? [options.statusAddr.port] : [],
    clock: monotonicMs,
    onChange: (found) => log.debug(`watching the app's ports ${found.ports.join(',')}`, { found: found.source }),
  });
  const monitor = startTrafficMonitor({
    diag,
    // the init's own probes of the app (--ready-check) are not the app's traffic
    ignore: (table, i) => isOwnPeerPort(connectionField(table, i, CONNECTION.remotePort)) && fromLoopback(table, i),
    ports: (fresh) => ports.watched(fresh),
    ownAccepts: () => ownAccepts() + ownConnectionsOpened(),
    onError: (error) => log.debug(`cannot read the app's connections: ${error.code} (${error.what})`),
  });
  return { monitor, ports };
}
