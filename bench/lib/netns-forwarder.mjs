// A replica's network path, as a pod has one: run inside the replica's own network namespace
// (nsenter --net), it accepts connections on a Unix socket (which the host's load balancer reaches
// whatever the namespaces) and opens, for each, a TCP connection to 127.0.0.1:PORT in that
// namespace; bytes both ways, ends and resets passed on. A refused or reset connect closes the Unix
// side unanswered: the balancer sees what it would see of a pod that no longer listens.
//   node netns-forwarder.mjs SOCKET PORT        (prints "listening" once it accepts)
import { createServer, connect } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';

const [socketPath, port] = process.argv.slice(2);
rmSync(socketPath, { force: true });
const server = createServer({ allowHalfOpen: true }, (outer) => {
  const inner = connect({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true });
  const close = () => {
    outer.destroy();
    inner.destroy();
  };
  outer.on('error', close);
  inner.on('error', close);
  outer.pipe(inner);
  inner.pipe(outer);
});
server.listen(socketPath, () => {
  chmodSync(socketPath, 0o666); // the balancer's workers run as nobody
  process.stdout.write('listening\n');
});
process.on('SIGTERM', () => process.exit(0));
