/** Longest line the init writes, newline included: one atomic write(2) to a pipe (PIPE_BUF). */
export const MAX_LINE = 4096;

// C0 controls, DEL, C1 controls and the Unicode line/paragraph separators
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/** One line stays one line: newlines and other control characters inside a value are escaped. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** The longest prefix of `buf` of at most `max` bytes that does not split a UTF-8 character. */
export function utf8Prefix(buf: Buffer, max: number): Buffer {
  if (buf.length <= max) return buf;
  let end = Math.max(0, max);
  // back up over continuation bytes (10xxxxxx) to the start of the character that does not fit
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}

/** `text` cut to at most `max` bytes (marker included) with a marker saying how much was cut. */
export function cutText(text: string, max: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= max) return text;
  // the marker's own length depends on the number in it: measure it with the largest possible number
  const room = Math.max(0, max - cutMarker(buf.length).length);
  const kept = utf8Prefix(buf, room);
  return kept.toString() + cutMarker(buf.length - kept.length);
}

export function cutMarker(bytes: number): string {
  return `...[${bytes} bytes cut]`;
}
