import { describe, expect, it } from 'vitest';
import { parseHttpAction, shownPreStop } from '../../src/cli/http-action.js';

describe('HTTP pre-stop actions', () => {
  it('are METHOD http://HOST[:PORT]/PATH; anything else is a command', () => {
    expect(parseHttpAction('POST http://127.0.0.1:15000/drain_listeners?graceful')).toEqual({
      method: 'POST', host: '127.0.0.1', port: 15000, path: '/drain_listeners?graceful', credentials: null, loopback: true,
    });
    expect(parseHttpAction('GET http://[::1]/shutdown')).toMatchObject({ host: '::1', port: 80, path: '/shutdown', loopback: true });
    expect(parseHttpAction('DELETE http://localhost:8080')).toMatchObject({ host: 'localhost', path: '/', loopback: true });
    expect(parseHttpAction('POST http://user:p%40ss@127.0.0.2:8080/actuator/shutdown')).toMatchObject({ credentials: 'user:p@ss', loopback: true });
    expect(parseHttpAction('POST http://10.1.2.3:8080/x')).toMatchObject({ host: '10.1.2.3', loopback: false });
    expect(parseHttpAction('nginx -s quit')).toBeNull();
    expect(parseHttpAction('curl -X POST http://127.0.0.1/x')).toBeNull();
    expect(parseHttpAction('get http://127.0.0.1/x')).toBeNull();
  });

  it('refuse what cannot be the pod itself, saying what to write', () => {
    expect(() => parseHttpAction('POST http://app.internal/x')).toThrow(/app\.internal is a name; .*write 127\.0\.0\.1/);
    expect(() => parseHttpAction('POST https://127.0.0.1/x')).toThrow(/only http:\/\//);
    expect(() => parseHttpAction('POST http://127.0.0.1:99999/x')).toThrow(/is not a URL/);
  });

  it('are shown with the password masked, in what they print too; commands as they are', () => {
    expect(shownPreStop('POST http://user:p%40ss@127.0.0.1:8080/x?y=1')).toBe('POST http://user:***@127.0.0.1:8080/x?y=1');
    expect(shownPreStop('GET http://tok3n@127.0.0.1/x')).toBe('GET http://***@127.0.0.1/x');
    expect(shownPreStop("sh -c 'curl http://u:p@127.0.0.1/x'")).toBe("sh -c 'curl http://u:p@127.0.0.1/x'");
    expect(() => parseHttpAction('POST https://u:secret@127.0.0.1/x')).toThrow(/^(?!.*secret)/);
  });
});
