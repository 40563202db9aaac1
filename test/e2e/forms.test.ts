// One behavioural suite, every form a user installs (test/e2e/forms.ts): the single executable, the
// bundle in an otherwise empty read-only root, and the npm package installed with `npm install -g`
// on each Node major that package.json's engines admit. Each form: --version and --check, exit
// codes, signal forwarding, zombie reaping, and the whole shutdown sequence with a pre-stop command
// and the status endpoint, as PID 1 and (where it means something else) as a plain child.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, killAll, pid1Available, readText, waitFor, type Mode } from './harness.js';
import {
  PACKAGE_VERSION, SIGNAL_APP, admittedMajors, bundleInScratchRoot, bundleRootMissing, childrenOfAllThreads, npmOnNode, singleExecutable, usr1HupTerm, type Form,
} from './forms.js';

afterEach(killAll);

const canPid1 = pid1Available(); // throws under CI when it cannot run
const bundleMissing = bundleRootMissing();
if (bundleMissing && process.env.CI === 'true') throw new Error(`CI=true but the bundle form cannot be set up: it needs ${bundleMissing}`);

const FORMS: [string, () => Form, boolean][] = [
  ['single executable', singleExecutable, false],
  ['bundle', bundleInScratchRoot, !canPid1 || bundleMissing !== null],
  ...admittedMajors().map((major): [string, () => Form, boolean] => [`npm on node ${major}`, () => npmOnNode(major), false]),
];

describe.each(FORMS)('%s', (_label, setUp, skip) => {
  let form: Form;
  const modes: Mode[] = canPid1 ? ['pid1', 'child'] : ['child'];

  beforeAll(() => {
    if (!skip) form = setUp();
  }, 300_000);

  afterAll(() => form?.cleanup());

  it.skipIf(skip)('--version names the package version, the form and its Node.js version', async () => {
    const r = await form.start('child', ['--version']).result;
    expect(r.code).toBe(0);
    const expected = form.name.startsWith('npm on node') ? form.name : `${form.name}, node v24.`;
    expect(r.stdout.toString()).toMatch(new RegExp(`^graceful-init ${PACKAGE_VERSION.replaceAll('.', '\\.')} \\(${expected.replaceAll('.', '\\.')}[\\d.]*\\)\\n$`));
    expect(r.stderr).toBe('');
  });

  it.skipIf(skip)('--check prints the timeline and exits 0; a bad setting is refused with exit 2 before any app starts', async () => {
    const check = await form.start('child', ['--check', '--drain-delay', '3s', '--pre-stop', 'echo bye', '--grace-period', '20s']).result;
    expect(check.code).toBe(0);
    expect(check.stdout.toString()).toMatch(/t=0s .*drain for 3s/);
    expect(check.stdout.toString()).toMatch(/t=18s .*deadline: SIGKILL/);
    const bad = await form.start('child', ['--drain-delay', 'soon', '--', 'sh', '-c', 'echo started']).result;
    expect(bad.code).toBe(2);
    expect(bad.stdout.toString()).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  describe.each(modes)('as %s', (mode) => {
    it.skipIf(skip)('exits with the app status: its code, 128+N for a signal, 127 when the app is not found', async () => {
      expect((await form.start(mode, ['--', 'sh', '-c', 'exit 7']).result).code).toBe(7);
      expect((await form.start(mode, ['--', 'sh', '-c', 'kill -KILL $$']).result).code).toBe(137);
      const missing = await form.start(mode, ['--', 'no-such-app-here']).result;
      expect(missing.code).toBe(127);
      expect(missing.stderr).toMatch(/no-such-app-here/);
    });

    it.skipIf(skip)('forwards signals to the app, and stops it with the stop signal', async () => {
      const r = await usr1HupTerm(form.start(mode, ['--', 'sh', '-c', SIGNAL_APP]));
      expect(r.timedOut).toBe(false);
      expect(r.stdout.toString().split('\n').filter(Boolean)).toEqual(['ready', 'got=USR1', 'got=HUP', 'got=TERM']);
      expect(r.code).toBe(42);
    });

    it.skipIf(skip)('reaps the orphans the app leaves behind while the app runs', async () => {
      // each subshell starts a sleep in the background and exits: the sleep is reparented to the
      // init (PID 1, or the child subreaper) and stays a zombie when it ends unless the init collects it
      const app = "for i in 1 2 3 4 5; do (sleep 0.3 &); done; echo orphans; exec sleep 30";
      const init = form.start(mode, ['--', 'sh', '-c', app]);
      const pid = await init.initPid();
      await waitFor('the orphans', () => init.stdout().includes('orphans'));
      const app1 = await waitFor('the app', () => childrenOfAllThreads(pid).find((p) => readText(`/proc/${p}/cmdline`).startsWith('sleep\x0030')));
      const orphans = await waitFor('the orphans to be reparented to the init', () => {
        const found = childrenOfAllThreads(pid).filter((p) => p !== app1);
        return found.length > 0 ? found : undefined;
      });
      // every one disappears entirely (no zombie left) while the app still runs
      await waitFor('the orphans to be reaped', () => orphans.every((p) => readText(`/proc/${p}/stat`) === ''), 4000);
      expect(childrenOfAllThreads(pid)).toEqual([app1]);
      process.kill(pid, 'SIGTERM');
      expect((await init.result).code).toBe(143);
    });
  });

  it.skipIf(skip || !canPid1)('the whole shutdown sequence as PID 1: drain, pre-stop command, stop signal, status endpoint throughout', async () => {
    const status = await freePort();
    const init = form.start('pid1', [
      '--drain-delay', '400ms', '--pre-stop', 'echo pre-stop ran', '--pre-stop-wait', '500ms', '--status-addr', `127.0.0.1:${status}`,
      '--', 'sh', '-c', SIGNAL_APP,
    ]);
    const pid = await init.initPid();
    await waitFor('the app to be ready', () => init.stdout().includes('ready'));
    expect((await httpGet(status, '/healthz')).status).toBe(200);
    expect((await httpGet(status, '/readyz')).status).toBe(200);
    expect((await httpGet(status, '/metrics')).body).toMatch(/^graceful_init_zombies_reaped_total \d+$/m);
    process.kill(pid, 'SIGTERM');
    // the pre-stop command comes after the drain, through execa (the chunk each form must carry)
    // its output passed on with a prefix, on the stream it wrote to
    await waitFor('the pre-stop command', () => init.stdout().includes('graceful-init: pre-stop 1: pre-stop ran'), 5000);
    expect(init.stdout()).not.toContain('got=TERM'); // the app still runs: the stop signal comes after the pre-stop wait
    expect((await httpGet(status, '/readyz')).status).toBe(503);
    expect((await httpGet(status, '/healthz')).status).toBe(200);
    const r = await init.result;
    expect(r.timedOut).toBe(false);
    expect(r.stdout.toString().split('\n').filter(Boolean)).toEqual(['ready', 'graceful-init: pre-stop 1: pre-stop ran', 'got=TERM']);
    expect(r.stderr).not.toMatch(/internal error|Cannot find module/);
    expect(r.stderr).toMatch(/^graceful-init: shutdown on SIGTERM, drain 0\.4s, pre-stop 1 ok in [\d.]+m?s, SIGTERM to app at [\d.]+s, app exited with 42 at .*, exit 42\n$/m);
    expect(r.code).toBe(42);
  });

  it.skipIf(skip || !canPid1)('an app that ignores the stop signal is killed at the deadline, and the summary says so', async () => {
    const init = form.start('pid1', ['--kill-after', '1s', '--', 'sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"]);
    const pid = await init.initPid();
    await waitFor('the app to be ready', () => init.stdout().includes('ready'));
    process.kill(pid, 'SIGTERM');
    const r = await init.result;
    expect(r.code).toBe(137);
    expect(r.stderr).toMatch(/SIGKILL \(deadline\) at 1(\.\d+)?s, app killed by SIGKILL at .*exit 137\n$/);
  });
});

describe('every Node major the npm package admits is one the suite runs', () => {
  it('engines lists only caret ranges, and each names a major this suite installs on', () => {
    // admittedMajors() throws on an open range such as >=22; the 24 of the embedded runtime is among them
    expect(admittedMajors()).toContain(24);
    expect(FORMS.map(([label]) => label).filter((l) => l.startsWith('npm'))).toHaveLength(admittedMajors().length);
  });
});
