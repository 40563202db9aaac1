// A FastCGI client just big enough to ask PHP-FPM for one script (FastCGI 1.0, responder role).
import { connect } from 'node:net';

const BEGIN_REQUEST = 1;
const END_REQUEST = 3;
const PARAMS = 4;
const STDIN = 5;
const STDOUT = 6;

function record(type: number, content: Buffer): Buffer {
  const header = Buffer.from([1, type, 0, 1, content.length >> 8, content.length & 0xff, 0, 0]);
  return Buffer.concat([header, content]);
}

function length(n: number): Buffer {
  return n < 128 ? Buffer.from([n]) : Buffer.from([((n >> 24) & 0x7f) | 0x80, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function params(values: Record<string, string>): Buffer {
  return Buffer.concat(Object.entries(values).flatMap(([k, v]) => [length(k.length), length(v.length), Buffer.from(k), Buffer.from(v)]));
}

/** Runs `script` on the FastCGI server at 127.0.0.1:port: its output (headers and body), or null when the request failed. */
export function fastcgiGet(port: number, script: string, timeoutMs = 10_000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let input = Buffer.alloc(0);
    let output = '';
    const done = (result: string | null) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
    socket.on('connect', () => {
      const vars = { SCRIPT_FILENAME: script, SCRIPT_NAME: script, REQUEST_METHOD: 'GET', QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1', GATEWAY_INTERFACE: 'CGI/1.1' };
      socket.write(Buffer.concat([
        record(BEGIN_REQUEST, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])),
        record(PARAMS, params(vars)), record(PARAMS, Buffer.alloc(0)), record(STDIN, Buffer.alloc(0)),
      ]));
    });
    socket.on('data', (chunk: Buffer) => {
      input = Buffer.concat([input, chunk]);
      while (input.length >= 8) {
        const size = input.readUInt16BE(4) + (input[6] ?? 0);
        if (input.length < 8 + size) break;
        const type = input[1];
        const content = input.subarray(8, 8 + input.readUInt16BE(4));
        input = input.subarray(8 + size);
        if (type === STDOUT) output += content.toString();
        // protocol status 0: the request was served to its end
        if (type === END_REQUEST) return done(content[4] === 0 ? output : null);
      }
    });
  });
}
