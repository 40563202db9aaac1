// npm run demo: the built binary runs a small app as PID 1 of a new PID namespace, gets SIGTERM the
// way the kubelet sends it, and goes through drain -> pre-stop -> stop while the app finishes its work.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from './lib/paths.mjs';
import { fail } from './lib/run.mjs';

const binary = join(dist, 'graceful-init');
if (!existsSync(binary)) fail('dist/graceful-init is missing; run npm run build first');

// The app: serves until its graceful-stop command (the pre-stop) asks it to finish, like
// `nginx -s quit`; it leaves an orphan behind for the init to clean up.
const work = mkdtempSync(join(tmpdir(), 'graceful-init-demo-'));
const quitFile = join(work, 'quit');
const app = [
  'sh', '-c',
  [
    'echo "app: serving requests (pid $$)"',
    '(sleep 300 &)',
    `while [ ! -e ${quitFile} ]; do sleep 0.1; done`,
    'echo "app: asked to quit: finishing in-flight work"',
    'sleep 0.5',
    'echo "app: done"',
  ].join('; '),
];
const options = ['-v', '--drain-delay', '1s', '--pre-stop', `sh -c 'echo asking the app to quit; touch ${quitFile}'`, '--grace-period', '10s'];

const asPid1 = process.getuid?.() === 0 && existsSync('/usr/bin/unshare');
const [file, args] = asPid1
  ? ['/usr/bin/unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', binary, ...options, '--', ...app]]
  : [binary, [...options, '--', ...app]];

console.log(`demo: ${asPid1 ? 'running as PID 1 of a new PID namespace' : 'not root: running as a plain child (the subreaper does the reaping)'}`);
console.log(`demo: graceful-init ${options.join(' ')} -- <app>\n`);
const child = spawn(file, args, { stdio: 'inherit' });

setTimeout(() => {
  const initPid = asPid1 ? childOf(child.pid) : child.pid;
  console.log('\ndemo: sending SIGTERM to the init, as the kubelet does when the pod stops\n');
  process.kill(initPid, 'SIGTERM');
}, 1500);

child.on('exit', (code) => {
  rmSync(work, { recursive: true, force: true });
  console.log(`\ndemo: graceful-init exited with ${code} (the app's own status)`);
  process.exit(code === 0 ? 0 : 1);
});

/** unshare's child: the init, as seen from outside its PID namespace (started long before the 1.5 s are up). */
function childOf(pid) {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children ? Number(children.split(' ')[0]) : pid;
}
