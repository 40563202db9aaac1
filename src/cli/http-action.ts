/**
 * A pre-stop line that is an HTTP request rather than a command: `POST http://127.0.0.1:15000/drain`
 * (Envoy), `GET http://127.0.0.1:4191/shutdown`. Images without curl (distroless, scratch) can then
 * call their app's admin endpoint. Pure: the check that a non-loopback address is the pod's own is
 * made at start (lifecycle), where the interfaces can be read.
 */
export interface HttpAction {
  method: string;
  /** as connect() takes it: 127.0.0.1, ::1, localhost, or an IP literal */
  host: string;
  port: number;
  /** path and query */
  path: string;
  /** user:password from the URL, for a Basic authorization header */
  credentials: string | null;
  /** on 127.0.0.0/8, ::1 or localhost: nothing more to check */
  loopback: boolean;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The action a line asks for, or null when the line is a command. Throws when it is an HTTP action written wrong. */
export function parseHttpAction(line: string): HttpAction | null {
  const shown = shownPreStop(line);
  const match = /^\s*([A-Z]+)\s+([a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S*)\s*$/.exec(line);
  if (!match || !METHODS.includes(match[1] as string)) return null;
  const [, method, text] = match as unknown as [string, string, string];
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${shown}" is not a URL; write it like POST http://127.0.0.1:8080/shutdown`);
  }
  if (url.protocol !== 'http:') throw new Error(`"${shown}": only http:// is spoken, to the app next to the init (127.0.0.1); write http://`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const v4 = IPV4.exec(host);
  const ip = v4 !== null || host.includes(':');
  if (!ip && host !== 'localhost') {
    throw new Error(`"${shown}": ${host} is a name; an HTTP pre-stop action calls the app in the same pod: write 127.0.0.1 (or the pod's own address)`);
  }
  const loopback = host === 'localhost' || host === '::1' || v4?.[1] === '127';
  const credentials = url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : null;
  return { method, host, port: url.port === '' ? 80 : Number(url.port), path: `${url.pathname}${url.search}`, credentials, loopback };
}

/**
 * The line as the logs, the summary and --check show it: an HTTP action's password masked
 * (`POST http://admin:***@127.0.0.1:8080/shutdown`); log collectors keep what the pod spec's
 * readers may not see. A command is shown as it is.
 */
export function shownPreStop(line: string): string {
  return line.replace(/^(\s*[A-Z]+\s+[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#@\s]*)@/, (_all, head: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${head}${colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`}@`;
  });
}
