// Server-sent events over fetch (EventSource cannot POST). Bytes arrive in arbitrary chunks, so a
// line (or even a multi-byte UTF-8 character) may be split across chunks: TextDecoder in stream mode
// keeps partial characters, and we keep the unfinished last line until its newline arrives.

/** Feeds chunks of text; calls onData(payloadString) for each complete `data:` event. */
export class SseParser {
  constructor(onData) {
    this.onData = onData;
    this.pending = '';
    this.dataLines = [];
  }

  push(text) {
    this.pending += text;
    let newline;
    while ((newline = this.pending.search(/\r\n|\n|\r/)) >= 0) {
      const line = this.pending.slice(0, newline);
      const sepLength = this.pending.startsWith('\r\n', newline) ? 2 : 1;
      // A lone '\r' at the very end may be the first half of '\r\n': wait for more text.
      if (this.pending[newline] === '\r' && newline === this.pending.length - 1) break;
      this.pending = this.pending.slice(newline + sepLength);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') { this.dispatch(); return; }
    if (line.startsWith(':')) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
  }

  dispatch() {
    if (this.dataLines.length === 0) return;
    const payload = this.dataLines.join('\n');
    this.dataLines = [];
    this.onData(payload);
  }

  /** End of stream: a final event without its blank line still counts. */
  end() {
    if (this.pending) { this.line(this.pending); this.pending = ''; }
    this.dispatch();
  }
}

/**
 * Reads an SSE response body. onEvent receives parsed JSON objects; `[DONE]` ends the stream.
 * Returns when the stream ends. Malformed JSON becomes an {error} event instead of vanishing.
 */
export async function readSse(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let done = false;
  const parser = new SseParser((payload) => {
    if (done) return;
    if (payload.trim() === '[DONE]') { done = true; return; }
    let event;
    try { event = JSON.parse(payload); } catch { event = { error: `Malformed stream event: ${payload.slice(0, 200)}` }; }
    onEvent(event);
  });
  while (!done) {
    const { value, done: streamDone } = await reader.read();
    if (streamDone) break;
    parser.push(decoder.decode(value, { stream: true }));
  }
  if (!done) { parser.push(decoder.decode()); parser.end(); }
  else reader.cancel().catch(() => {});
  return done;
}
