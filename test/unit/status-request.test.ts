import { describe, expect, it } from 'vitest';
import { parseRequestHead } from '../../src/status-request.js';
import { STATUS_LIMITS } from '../../src/status-server.js';

const parse = (text: string, limits = STATUS_LIMITS) => parseRequestHead(Buffer.from(text, 'latin1'), limits);
const request = (method: string, path: string, authorization?: string) => ({ kind: 'request', request: { method, path, authorization } });
const refused = (status: number) => ({ kind: 'refused', status });

describe('parseRequestHead', () => {
  it('reads the method, the path without its query and the first Authorization, whatever its case', () => {
    expect(parse('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual(request('GET', '/readyz'));
    expect(parse('HEAD /healthz?verbose=1 HTTP/1.0\r\n\r\n')).toEqual(request('HEAD', '/healthz'));
    expect(parse('GET /prestop HTTP/1.1\r\nauthorization: Bearer  abc \r\nAuthorization: Bearer other\r\n\r\n')).toEqual(request('GET', '/prestop', 'Bearer  abc'));
    // a body after the head is never read
    expect(parse('POST /prestop HTTP/1.1\r\nContent-Length: 100000000\r\n\r\nbbbbbbbb')).toEqual(request('POST', '/prestop'));
  });

  it('waits for the empty line; lines may end with a bare LF; empty lines before the request line are skipped', () => {
    expect(parse('GET /readyz HTTP/1.1\r\nHost: x\r\n')).toEqual({ kind: 'incomplete' });
    expect(parse('GET /readyz HTTP/1.1\r\nHost: x\r')).toEqual({ kind: 'incomplete' });
    expect(parse('GET /readyz HTTP/1.1\nHost: x\n\n')).toEqual(request('GET', '/readyz'));
    expect(parse('\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n')).toEqual(request('GET', '/healthz'));
  });

  it('refuses with 400 what is not HTTP/1.x: garbage, other versions, a bare CR, a folded or malformed header, control characters', () => {
    for (const bad of [
      '\x00\xff\xfe GARBAGE 1\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /\r\n\r\n',
      'GET  /readyz HTTP/1.1\r\n\r\n',
      'GET /readyz HTTP/1.1\rHost: x\r\n\r\n',
      'GET /readyz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n',
      'GET /readyz HTTP/1.1\r\nHost : x\r\n\r\n',
      'GET /readyz HTTP/1.1\r\n: x\r\n\r\n',
      'GET /readyz HTTP/1.1\r\nno colon\r\n\r\n',
      'GET /readyz HTTP/1.1\r\nX-A: a\x00b\r\n\r\n',
      'G@T /readyz HTTP/1.1\r\n\r\n',
    ]) {
      expect(parse(bad), JSON.stringify(bad)).toEqual(refused(400));
    }
  });

  it('refuses with 431 a head longer than the limit, finished or not; the headers past the count are ignored', () => {
    const limits = { ...STATUS_LIMITS, maxHeaderBytes: 100, maxHeaders: 2 };
    const pad = `X-Pad: ${'a'.repeat(100)}\r\n`;
    expect(parse(`GET /readyz HTTP/1.1\r\n${pad}`, limits)).toEqual(refused(431));
    expect(parse(`GET /readyz HTTP/1.1\r\n${pad}\r\n`, limits)).toEqual(refused(431));
    expect(parse('GET /prestop HTTP/1.1\r\nA: 1\r\nB: 2\r\nAuthorization: Bearer x\r\n\r\n', limits)).toEqual(request('GET', '/prestop'));
    expect(parse('GET /prestop HTTP/1.1\r\nA: 1\r\nAuthorization: Bearer x\r\n\r\n', limits)).toEqual(request('GET', '/prestop', 'Bearer x'));
  });
});
