import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/**
 * Calls `onLine` for every `\n`-terminated line of a stream (and the unterminated tail at its end).
 * Only `\n` ends a line: the runtime client writes one log record per line and turns newlines
 * inside a record into `\r`, which are turned back into `\n` here so a record stays one entry.
 */
export function forEachLine(stream: Readable, onLine: (text: string) => void): void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (line: string): void => onLine(line.replace(/\r\n?/g, '\n').replace(/\n$/, ''));
  stream.on('data', (chunk: Buffer) => {
    pending += decoder.write(chunk);
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });
  stream.on('end', () => {
    pending += decoder.end();
    if (pending.length > 0) emit(pending);
    pending = '';
  });
}
