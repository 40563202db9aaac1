// The secret a GET /prestop must carry (--prestop-token-file), as `Authorization: Bearer <token>`:
// read once at start, compared in constant time. Not node:crypto's timingSafeEqual: loading
// node:crypto costs every start ~6 ms.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ExitError } from './errors.js';

const MIN_LENGTH = 16;
const MAX_LENGTH = 1024;

export interface PrestopToken {
  bytes: Buffer;
  /** something to fix that does not stop the init (the file is readable by every user) */
  warning: string | null;
}

/** The token in `file`, or an Error whose message says what is wrong and what to write. */
function readPrestopToken(file: string): PrestopToken {
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    const raw = Buffer.alloc(Math.min(st.size, MAX_LENGTH + 64));
    const bytes = Buffer.from(raw.subarray(0, readSync(fd, raw, 0, raw.length, 0)).toString('latin1').trim(), 'latin1');
    const write = `write ${MIN_LENGTH} to ${MAX_LENGTH} random printable characters, e.g. head -c 24 /dev/urandom | base64`;
    if (bytes.length < MIN_LENGTH || bytes.length > MAX_LENGTH) throw new Error(`holds ${bytes.length} characters; ${write}`);
    if (bytes.some((b) => b < 0x21 || b > 0x7e)) throw new Error(`holds spaces or other characters that cannot go into an HTTP header; ${write}`);
    const warning =
      st.mode & 0o004
        ? `--prestop-token-file ${file} is readable by every user (mode ${(st.mode & 0o777).toString(8)}): any process in the container can stop the app; make it 0400 (defaultMode: 0400 for a Secret volume)`
        : null;
    return { bytes, warning };
  } finally {
    closeSync(fd);
  }
}

/** readPrestopToken(), or the setting refused: one line, exit 2. */
export function loadPrestopToken(file: string): PrestopToken {
  try {
    return readPrestopToken(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ExitError(2, `--prestop-token-file ${file}: ${e.code ? `cannot read it (${e.code}); give a file the init can read` : e.message}`);
  }
}

/** Does `header` (an Authorization header) carry `token` as a Bearer token? Takes the same time whatever it holds. */
export function bearerMatches(header: string | undefined, token: Buffer): boolean {
  const match = /^bearer +([\x21-\x7e]+) *$/i.exec(header ?? '');
  const given = Buffer.from(match?.[1] ?? '', 'latin1');
  let diff = given.length ^ token.length;
  for (let i = 0; i < token.length; i++) diff |= (token[i] as number) ^ (given[i % Math.max(1, given.length)] ?? 0);
  return match !== null && diff === 0;
}

/** The header value a client sends. */
export const bearer = (token: PrestopToken): string => `Bearer ${token.bytes.toString('latin1')}`;
