import { MAX_LINE, cutMarker, utf8Prefix } from './bounded-text.js';
import { MAX_WRITE } from './fd-writer.js';

/** The longest marker there can be: the room a cut line keeps for it. */
const MARKER_ROOM = cutMarker(Number.MAX_SAFE_INTEGER).length;

/**
 * How one line of a command's output is written: `content` (raw bytes, at most `room`) and how many
 * bytes of the line were cut before it came here. `render` returns the line with its newline, at most
 * MAX_LINE bytes, a cut line ending in a marker that says how much was cut.
 */
export interface LineFormat {
  readonly room: number;
  render(content: Buffer, cutBytes: number): Buffer;
}

/** `prefix` + the line (+ marker): the text log's form. */
export function prefixedText(prefix: string): LineFormat {
  const head = utf8Prefix(Buffer.from(prefix), MAX_LINE / 4);
  return {
    room: MAX_LINE - head.length - 1 - MARKER_ROOM,
    render: (content, cutBytes) => Buffer.concat([head, content, Buffer.from(`${cutBytes > 0 ? cutMarker(cutBytes) : ''}\n`)]),
  };
}

/**
 * Any form whose length the line's bytes do not decide alone (JSON escapes them): `shape` writes the
 * line's text; while the result is too long, the kept part is shortened by what is over, the marker
 * counting every byte not written.
 */
export function fittedLines(shape: (text: string) => string): LineFormat {
  return {
    room: MAX_LINE - 1 - MARKER_ROOM,
    render(content, cutBytes) {
      let keep = content.length;
      for (;;) {
        const kept = utf8Prefix(content, keep);
        const cut = cutBytes + content.length - kept.length;
        const line = Buffer.from(`${shape(kept.toString() + (cut > 0 ? cutMarker(cut) : ''))}\n`);
        const over = line.length - MAX_LINE;
        if (over <= 0 || kept.length === 0) return over <= 0 ? line : Buffer.from(`${shape(cutMarker(cutBytes + content.length))}\n`);
        keep = kept.length - over;
      }
    },
  };
}

/**
 * Turns a byte stream (a pre-stop command's output) into lines of at most MAX_LINE bytes in the
 * given format, handed out in whole-line chunks of at most MAX_WRITE bytes. Memory is bounded
 * whatever the input's shape: a line longer than fits keeps its start and is cut with a marker
 * saying how much was cut.
 */
export class PrefixedLines {
  private readonly line: Buffer;
  private lineLen = 0;
  /** bytes of the current line beyond what it can hold */
  private cutBytes = 0;
  private readonly batch = Buffer.alloc(MAX_WRITE);
  private batchLen = 0;
  /** lines that were cut */
  cutLines = 0;

  constructor(
    private readonly format: LineFormat,
    private readonly emit: (chunk: Buffer) => void,
  ) {
    this.line = Buffer.alloc(this.format.room);
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const end = nl === -1 ? chunk.length : nl;
      const room = this.line.length - this.lineLen;
      const take = Math.min(room, end - pos);
      chunk.copy(this.line, this.lineLen, pos, pos + take);
      this.lineLen += take;
      this.cutBytes += end - pos - take;
      if (nl === -1) break;
      this.finishLine();
      pos = nl + 1;
    }
    this.flush();
  }

  /** the stream ended: a last line without a newline still gets one */
  end(): void {
    if (this.lineLen > 0 || this.cutBytes > 0) this.finishLine();
    this.flush();
  }

  private finishLine(): void {
    let content = this.line.subarray(0, this.lineLen);
    if (this.cutBytes > 0) {
      // never leave half a character before the marker
      const whole = withoutPartialChar(content);
      this.cutBytes += content.length - whole.length;
      content = whole;
      this.cutLines++;
    }
    const rendered = this.format.render(content, this.cutBytes);
    if (this.batchLen + rendered.length > this.batch.length) this.flush();
    this.batchLen += rendered.copy(this.batch, this.batchLen);
    this.lineLen = 0;
    this.cutBytes = 0;
  }

  private flush(): void {
    if (this.batchLen === 0) return;
    this.emit(Buffer.from(this.batch.subarray(0, this.batchLen)));
    this.batchLen = 0;
  }
}

/** `buf` without a UTF-8 character cut short at its end */
function withoutPartialChar(buf: Buffer): Buffer {
  let i = buf.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && ((buf[i] as number) & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return buf;
  const lead = buf[i] as number;
  const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  return lead >= 0xc0 && need > continuation ? buf.subarray(0, i) : buf;
}
