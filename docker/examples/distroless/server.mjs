// A small HTTP server for the distroless example: answers on :8080 (or $PORT) and, on TERM (sent by
// graceful-init after its drain delay), stops accepting and exits once the open requests are done.
import http from 'node:http';

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from pid ${process.pid}\n`);
});
const port = Number(process.env.PORT ?? 8080);
server.listen(port, () => console.log(`listening on :${port}`));

process.on('SIGTERM', () => {
  console.log('TERM: closing');
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
