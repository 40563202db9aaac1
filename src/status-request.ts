// The status endpoint's requests, read by hand: a request line and headers, of which only the
// method, the path and Authorization matter. node:http would parse them too, at the price of
// ~1 MiB of the init's private memory for the whole life of the pod (its modules, its parsers).
// Pure: bytes in, a request or the status to refuse it with out.

export interface StatusRequest {
  method: string;
  /** the request target without its query */
  path: string;
  /** the first Authorization header, if any */
  authorization: string | undefined;
}

export interface HeadLimits {
  /** bytes of request line and headers */
  maxHeaderBytes: number;
  /** headers looked at; the ones after are ignored (as node:http's maxHeadersCount does) */
  maxHeaders: number;
}

export type HeadResult =
  | { kind: 'incomplete' }
  | { kind: 'request'; request: StatusRequest }
  /** 400: not HTTP/1.x as RFC 9112 writes it; 431: the head is longer than the limit */
  | { kind: 'refused'; status: 400 | 431 };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/1\.[01]$/;
// field values: visible characters, spaces, tabs and obs-text; no control character
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The request whose head is at the start of `bytes` (all that the connection sent so far), once
 * its empty line has come. Lines end with CRLF or a bare LF; a bare CR, a folded header line, a
 * space before a header's colon or a control character in a value refuses the request (RFC 9112
 * §2.2, §5.1, §5.2), as does a head past `limits.maxHeaderBytes`. Empty lines before the request
 * line are skipped (§2.2). A body is never read.
 */
export function parseRequestHead(bytes: Buffer, limits: HeadLimits): HeadResult {
  const text = bytes.toString('latin1', 0, Math.min(bytes.length, limits.maxHeaderBytes + 2));
  const lines: string[] = [];
  let at = 0;
  for (;;) {
    const nl = text.indexOf('\n', at);
    if (nl === -1) break;
    const line = text.slice(at, nl > at && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl);
    at = nl + 1;
    if (line.includes('\r')) return { kind: 'refused', status: 400 };
    if (line !== '') lines.push(line);
    else if (lines.length > 0) return at - 2 > limits.maxHeaderBytes ? { kind: 'refused', status: 431 } : headOf(lines, limits);
  }
  return bytes.length > limits.maxHeaderBytes ? { kind: 'refused', status: 431 } : { kind: 'incomplete' };
}

function headOf([requestLine = '', ...fields]: string[], limits: HeadLimits): HeadResult {
  const start = REQUEST_LINE.exec(requestLine);
  if (!start) return { kind: 'refused', status: 400 };
  let authorization: string | undefined;
  for (const [i, field] of fields.entries()) {
    const colon = field.indexOf(':');
    const name = field.slice(0, colon);
    const value = field.slice(colon + 1).trim();
    if (colon < 1 || !TOKEN.test(name) || !FIELD_VALUE.test(value)) return { kind: 'refused', status: 400 };
    if (i < limits.maxHeaders && authorization === undefined && name.toLowerCase() === 'authorization') authorization = value;
  }
  return { kind: 'request', request: { method: start[1] as string, path: (start[2] as string).split('?')[0] as string, authorization } };
}
