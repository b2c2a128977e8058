/**
 * A transcript line as bytes, before it is decoded. Most of the bytes agents write are tool output:
 * a command's stdout, a file's content, a web page, often megabytes on one line (Claude Code even
 * writes it twice, in `message.content` and `toolUseResult`). No adapter needs more than the start of
 * such a string (links are looked for in its first LINK_SCAN_LIMIT characters, search keeps
 * SEARCH_TEXT_MAX, titles and prompts less), yet decoding it to a JavaScript string and parsing it
 * cost more than everything else an index pass does. So every string value longer than
 * LONG_STRING_BYTES is cut to its first LONG_STRING_BYTES bytes (on a character and escape
 * boundary) followed by "…", on the bytes, before the line is decoded and parsed.
 *
 * Finding where a string ends takes a native byte search per quote (Buffer.indexOf) and, for text
 * dense in escaped quotes, a plain byte loop: both run at gigabytes per second, against about
 * 60 MB/s for decoding plus JSON.parse (docs/performance.md).
 *
 * What every reader may rely on: a string of at most LONG_STRING_BYTES bytes in the line is kept
 * exactly; a longer one keeps at least its first LONG_STRING_BYTES / 6 characters (an escape such as
 * \u00e9 is six bytes for one character) and ends with "…". A line that is not valid JSON stays not
 * valid JSON (only the inside of complete strings is touched), except that a control character
 * inside a cut part no longer makes it invalid.
 */

/** Strings longer than this many bytes (as written, escapes included) are cut to this many. */
export const LONG_STRING_BYTES = 64 * 1024;

/** The characters every cut string keeps at least (an escape is at most 6 bytes per character). */
export const LONG_STRING_KEPT_CHARS = Math.floor(LONG_STRING_BYTES / 6);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CUT_MARK = Buffer.from('…');

/** After this many quote searches inside one string at fewer than DENSE_GAP bytes apart, loop over bytes instead. */
const DENSE_AFTER = 64;
const DENSE_GAP = 24;

/**
 * The line with every string value longer than `limit` bytes cut (see the module comment). Returns
 * the same buffer when nothing is cut, which is every line of at most `limit` bytes.
 */
export function cutLongStrings(line: Buffer, limit = LONG_STRING_BYTES): Buffer {
  if (line.length <= limit) return line;
  let parts: Buffer[] | null = null;
  let copied = 0;
  let pos = 0;
  const n = line.length;
  while (pos < n) {
    const open = line.indexOf(QUOTE, pos);
    if (open === -1) break;
    const close = closingQuote(line, open + 1);
    if (close === -1) break; // unterminated: the rest is left as it is
    if (close - open - 1 > limit) {
      const keepEnd = safeCut(line, open + 1, open + 1 + limit);
      (parts ??= []).push(line.subarray(copied, keepEnd), CUT_MARK);
      copied = close;
    }
    pos = close + 1;
  }
  if (!parts) return line;
  parts.push(line.subarray(copied));
  return Buffer.concat(parts);
}

/** The index of the quote that ends the string whose content starts at `from`, or -1. */
function closingQuote(line: Buffer, from: number): number {
  let at = from;
  let searches = 0;
  for (;;) {
    const q = line.indexOf(QUOTE, at);
    if (q === -1) return -1;
    if (!escaped(line, q, from)) return q;
    at = q + 1;
    // Text full of \" (JSON or code inside a string): one native call per quote costs more than
    // walking the bytes.
    if (++searches >= DENSE_AFTER && (at - from) / searches < DENSE_GAP) return closingQuoteByLoop(line, at);
  }
}

function closingQuoteByLoop(line: Buffer, from: number): number {
  const n = line.length;
  for (let i = from; i < n; i++) {
    const c = line[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return -1;
}

/** Whether the quote at `q` is escaped: preceded by an odd number of backslashes (not before `from`). */
function escaped(line: Buffer, q: number, from: number): boolean {
  let b = q - 1;
  while (b >= from && line[b] === BACKSLASH) b--;
  return ((q - 1 - b) & 1) === 1;
}

/**
 * The largest end ≤ `end` at which the string content starting at `start` can be cut: not inside a
 * UTF-8 sequence, not inside an escape (\" or \u00e9).
 */
function safeCut(line: Buffer, start: number, end: number): number {
  let at = end;
  // Not in the middle of a multi-byte character: back to the byte that starts it.
  while (at > start && (line[at] & 0xc0) === 0x80) at--;
  // Not in the middle of an escape: find the last escape that starts within 6 bytes of the cut.
  for (let j = at - 1; j >= start && j >= at - 6; j--) {
    if (line[j] !== BACKSLASH) continue;
    let b = j - 1;
    while (b >= start && line[b] === BACKSLASH) b--;
    // An odd run ending at j: j starts an escape. An even run: j is itself escaped (a complete "\\").
    if (((j - b) & 1) === 1) {
      const len = line[j + 1] === 0x75 /* u */ ? 6 : 2;
      if (j + len > at) at = j;
    }
    break;
  }
  return at;
}

/** A line's text as adapters parse it: long strings cut, decoded, trimmed. */
export function lineText(line: Buffer): string {
  return cutLongStrings(line).toString('utf8').trim();
}

/** The non-blank lines of a whole JSONL document read as bytes, each with its long strings cut, decoded. */
export function* jsonLines(doc: Buffer): Generator<string> {
  let from = 0;
  while (from < doc.length) {
    let nl = doc.indexOf(0x0a, from);
    if (nl === -1) nl = doc.length;
    const line = lineText(doc.subarray(from, nl));
    if (line) yield line;
    from = nl + 1;
  }
}
