// Server-sent events read from a fetch() response body, as the event-stream format defines them:
// yields the data of each event (its data lines joined by "\n"), as soon as the blank line that
// ends it arrives. fetch + ReadableStream rather than EventSource, because EventSource can only
// GET and cannot send an Authorization header.

export async function* sseData(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      buffer += value;
      for (;;) {
        const end = buffer.search(/[\r\n]/);
        if (end < 0 || (buffer[end] === '\r' && end === buffer.length - 1)) {
          break; // no whole line yet (a "\r" at the end may be the first half of "\r\n")
        }
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1));
        if (line === '') {
          if (data.length) {
            yield data.join('\n');
            data = [];
          }
          continue;
        }
        if (line.startsWith(':')) {
          continue; // a comment (keep-alive)
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) {
          text = text.slice(1);
        }
        if (field === 'data') {
          data.push(text);
        }
      }
    }
    if (data.length) {
      yield data.join('\n');
    }
  } finally {
    reader.releaseLock();
  }
}
