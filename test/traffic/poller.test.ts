// The poller: immediate first run, repeats, survives a throwing task, stops, and never holds the process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPoller } from '../../src/traffic/poller.js';
import { PINNED_NODE, ROOT, sleep } from '../native/helpers.js';
import { until } from './net-helpers.js';

describe('startPoller', () => {
  it('runs at once, then every interval, until stopped', async () => {
    let runs = 0;
    const p = startPoller(() => runs++, { intervalMs: 10 });
    expect(runs).toBe(1);
    await until('4 runs', () => (runs >= 4 ? true : undefined));
    p.stop();
    expect(p.running).toBe(false);
    const atStop = runs;
    await sleep(50);
    expect(runs).toBe(atStop);
  });

  it('goes on after the task throws, and reports the error', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const p = startPoller(
      () => {
        runs++;
        throw new Error(`boom ${runs}`);
      },
      {
        intervalMs: 5,
        onError: (e) => {
          errors.push(e);
          throw new Error('the reporter fails too');
        },
      },
    );
    await until('3 runs', () => (runs >= 3 ? true : undefined));
    p.stop();
    expect(errors.length).toBe(runs);
  });

  it('can be stopped from inside the task', async () => {
    let runs = 0;
    const p = startPoller(
      () => {
        if (++runs === 2) p.stop();
      },
      { intervalMs: 5 },
    );
    await sleep(50);
    expect(runs).toBe(2);
  });

  it('does not keep the event loop alive', () => {
    // a process whose only work is a running poller exits by itself
    const script = `import { startPoller } from ${JSON.stringify(join(ROOT, 'src', 'traffic', 'poller.ts'))};
      startPoller(() => {}, { intervalMs: 50 }); console.log('started');`;
    const r = spawnSync(PINNED_NODE, ['--input-type=module-typescript', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('started');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  });
});
