// /metrics, in the Prometheus text format: what the init has done and where the shutdown stands.
import type { Phase } from './shutdown.js';

export interface MetricsSnapshot {
  /** forwarded signals by name */
  forwarded: ReadonlyMap<string, number>;
  zombiesReaped: number;
  /** the app's inbound connections, null when they cannot be seen */
  connections: { active: number; idle: number } | null;
  ready: boolean;
  phase: Phase;
  /** seconds each phase of the shutdown in progress has lasted so far */
  phaseSeconds: ReadonlyMap<Phase, number>;
  logLinesDropped: number;
}

const PHASES: readonly Phase[] = ['running', 'draining', 'pre-stop', 'waiting', 'stopping', 'killing'];

function metric(name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}${labels} ${v}`)];
}

export function renderMetrics(m: MetricsSnapshot): string {
  const lines = [
    ...metric('graceful_init_signals_forwarded_total', 'counter', 'Signals passed on to the app.',
      [...m.forwarded].map(([signal, n]) => [`{signal="${signal}"}`, n])),
    ...metric('graceful_init_zombies_reaped_total', 'counter', 'Exited processes the init collected.', [['', m.zombiesReaped]]),
    ...(m.connections
      ? metric('graceful_init_app_connections', 'gauge', "Inbound TCP connections to the app's ports.", [
          ['{state="active"}', m.connections.active],
          ['{state="idle"}', m.connections.idle],
        ])
      : []),
    ...metric('graceful_init_ready', 'gauge', '1 while /readyz answers 200.', [['', m.ready ? 1 : 0]]),
    ...metric('graceful_init_shutdown_phase', 'gauge', 'The current phase (1) of the shutdown.',
      PHASES.map((p) => [`{phase="${p}"}`, p === m.phase ? 1 : 0])),
    ...metric('graceful_init_shutdown_phase_seconds', 'gauge', 'How long each phase of the shutdown in progress has lasted.',
      [...m.phaseSeconds].map(([p, s]) => [`{phase="${p}"}`, Math.round(s * 1000) / 1000])),
    ...metric('graceful_init_log_lines_dropped_total', 'counter', 'Log lines dropped because stderr could not take them.', [['', m.logLinesDropped]]),
  ];
  return `${lines.join('\n')}\n`;
}
