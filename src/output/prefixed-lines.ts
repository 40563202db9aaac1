import { MAX_LINE, cutMarker, utf8Prefix } from './bounded-text.js';
import { MAX_WRITE } from './fd-writer.js';

/**
 * Turns a byte stream (a pre-stop command's output) into prefixed lines of at most MAX_LINE bytes,
 * handed out in whole-line chunks of at most MAX_WRITE bytes. Memory is bounded whatever the input's
 * shape: a line longer than fits keeps its start and is cut with a marker saying how much was cut.
 */
export class PrefixedLines {
  private readonly prefix: Buffer;
  private readonly line: Buffer;
  private lineLen = 0;
  /** bytes of the current line beyond what it can hold */
  private cutBytes = 0;
  private readonly batch = Buffer.alloc(MAX_WRITE);
  private batchLen = 0;
  /** lines that were cut */
  cutLines = 0;

  constructor(
    prefix: string,
    private readonly emit: (chunk: Buffer) => void,
  ) {
    this.prefix = utf8Prefix(Buffer.from(prefix), MAX_LINE / 4);
    // room for the prefix, the newline and the longest marker
    this.line = Buffer.alloc(MAX_LINE - this.prefix.length - 1 - cutMarker(Number.MAX_SAFE_INTEGER).length);
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
    let marker = '';
    if (this.cutBytes > 0) {
      // never leave half a character before the marker
      const whole = withoutPartialChar(content);
      this.cutBytes += content.length - whole.length;
      content = whole;
      marker = cutMarker(this.cutBytes);
      this.cutLines++;
    }
    const size = this.prefix.length + content.length + marker.length + 1;
    if (this.batchLen + size > this.batch.length) this.flush();
    this.batchLen += this.prefix.copy(this.batch, this.batchLen);
    this.batchLen += content.copy(this.batch, this.batchLen);
    this.batchLen += this.batch.write(`${marker}\n`, this.batchLen);
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
