// What the lifecycle, the options and the status endpoint use of the traffic sensing.
export { discoverAppPorts, watchAppPorts, type AppPortWatch, type AppPorts, type AppPortsOptions } from './app-ports.js';
export {
  decideDrain,
  decideWaitIdle,
  describeDrainEnd,
  describeWaitIdleEnd,
  type DrainEnd,
  type DrainQuietSettings,
  type DrainVerdict,
  type IdleEnd,
  type IdleVerdict,
} from './drain-decision.js';
export { sockDiagFrom, SockDiag, type DiagError, type DiagResult, type Listener } from './sock-diag.js';
export { readTcpCounters, type TcpCounters } from './tcp-counters.js';
export { startTrafficMonitor, type TrafficMonitor, type TrafficMonitorOptions, type TrafficMonitorStats } from './traffic-monitor.js';
export { TrafficTracker, type TrafficCounts, type TrafficObservation } from './traffic-tracker.js';
export { drainUntilQuiet, waitUntilIdle, type WaitOptions } from './traffic-waits.js';
