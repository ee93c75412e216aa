// The one-line tail a progress notification's `message` shows: the end of the text so far, with
// its line breaks folded. It is made once per notification, so it avoids a regular expression:
// `/\s*[\r\n]+\s*/g` tries a match at every character and cost about 9 µs on an 800-character
// tail, where looking for the line breaks and widening each one to its whitespace costs about 1.

export const MESSAGE_MAX = 200;

/** Whether a UTF-16 code unit is whitespace as a regular expression's `\s` defines it. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** The earlier of two `indexOf` results (-1 when neither was found). */
const first = (a: number, b: number) => (a < 0 ? b : b < 0 ? a : Math.min(a, b));

/**
 * `text` with every run of whitespace that holds a line break (`\r` or `\n`) made one space: what
 * `text.replace(/\s*[\r\n]+\s*\/g, ' ')` gives.
 */
export function foldBreaks(text: string): string {
  let lf = text.indexOf('\n');
  let cr = text.indexOf('\r');
  let at = first(lf, cr);
  if (at < 0) return text;
  let out = '';
  // Copied up to here; text[from] is never whitespace (it ends the previous run).
  let from = 0;
  while (at >= 0) {
    let start = at;
    while (start > from && isSpace(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isSpace(text.charCodeAt(end))) end++;
    out += `${text.slice(from, start)} `;
    from = end;
    if (lf >= 0 && lf < end) lf = text.indexOf('\n', end);
    if (cr >= 0 && cr < end) cr = text.indexOf('\r', end);
    at = first(lf, cr);
  }
  return out + text.slice(from);
}

/** The last `max` characters of `text` as one line, never starting inside a surrogate pair. */
export function tailLine(text: string, max = MESSAGE_MAX): string {
  const line = foldBreaks(text).trimStart();
  if (line.length <= max) return line;
  let tail = line.slice(line.length - (max - 1));
  const lead = tail.charCodeAt(0);
  if (lead >= 0xdc00 && lead <= 0xdfff) tail = tail.slice(1);
  return `…${tail}`;
}
