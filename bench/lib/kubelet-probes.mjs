// Probes as the kubelet sends them: GET PATH on 127.0.0.1:PORT every EVERY_MS, a new connection
// each, for SECONDS, from the moment the port accepts connections (10 s at most); then prints one
// line of JSON: { "<path> <status or error>": count, ... }.
//   node kubelet-probes.mjs PORT EVERY_MS SECONDS PATH...
import { get } from 'node:http';
import { connect } from 'node:net';

const [port, everyMs, seconds, ...paths] = process.argv.slice(2);
const counts = {};
const until = Date.now() + Number(seconds) * 1000;
const accepts = () =>
  new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: Number(port) }, () => resolve(true));
    s.on('connect', () => s.destroy());
    s.on('error', () => resolve(false));
  });
for (const giveUp = Date.now() + 10_000; Date.now() < giveUp && !(await accepts()); ) await new Promise((r) => setTimeout(r, 20));
const probe = (path) =>
  new Promise((resolve) => {
    const done = (what) => {
      counts[`${path} ${what}`] = (counts[`${path} ${what}`] ?? 0) + 1;
      resolve();
    };
    const req = get({ host: '127.0.0.1', port: Number(port), path, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => done(e.code ?? e.message));
  });
while (Date.now() < until) {
  const next = Date.now() + Number(everyMs);
  await Promise.all(paths.map(probe));
  await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
}
process.stdout.write(`${JSON.stringify(counts)}\n`);
