// A progress message's one-line tail: line breaks folded exactly as the regular expression that
// defines it would fold them, the last 200 characters kept, no half of a surrogate pair in front.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldBreaks, MESSAGE_MAX, tailLine } from '../src/mcp/tail-line.js';

/** The definition foldBreaks is written to match. */
const byRegExp = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ');

// Every code unit `\s` matches, and some near misses (U+0085, U+180E and U+200B are not `\s`).
const SPACES = [
  ' ',
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2005',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
];
const OTHERS = ['a', 'é', '\u0085', '\u180e', '\u200b', '\ud83d', '\ude80', '…'];
const unit = fc.constantFrom(...SPACES, ...OTHERS);
const text = fc.array(unit, { maxLength: 60 }).map((units) => units.join(''));

describe('foldBreaks', () => {
  it('folds every whitespace run that holds a line break into one space, as the regular expression does', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(foldBreaks(t)).toBe(byRegExp(t));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the regular expression on any string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (t) => {
        expect(foldBreaks(t)).toBe(byRegExp(t));
      }),
      { numRuns: 1000 },
    );
  });

  it('treats exactly the code units `\\s` matches as whitespace', () => {
    const differ: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const t = `a${String.fromCharCode(c)}\nb`;
      if (foldBreaks(t) !== byRegExp(t)) differ.push(`U+${c.toString(16)}`);
    }
    expect(differ).toEqual([]);
  });

  it('returns text without a line break as it is', () => {
    const t = 'no  break\there';
    expect(foldBreaks(t)).toBe(t);
    expect(foldBreaks('')).toBe('');
    expect(foldBreaks('\r\n \n')).toBe(' ');
    expect(foldBreaks('a \r b\n\nc\r')).toBe('a b c ');
  });
});

describe('tailLine', () => {
  it('folds newlines into spaces and keeps the last 200 characters', () => {
    expect(tailLine('a\n\nb\r\nc')).toBe('a b c');
    const long = `${'x'.repeat(300)}\nend`;
    const tail = tailLine(long);
    expect(tail).toHaveLength(MESSAGE_MAX);
    expect(tail.startsWith('…')).toBe(true);
    expect(tail.endsWith('x end')).toBe(true);
  });

  it('drops the whitespace in front, a folded line break included', () => {
    expect(tailLine('\n  \t first words')).toBe('first words');
  });

  it('never starts with half of a surrogate pair', () => {
    const text = `${'🚀'.repeat(150)}`;
    const tail = tailLine(text);
    expect(tail.length).toBeLessThanOrEqual(MESSAGE_MAX);
    expect(tail.codePointAt(1)).toBe(0x1f680);
  });

  it('gives what the definition by regular expression gives, for any text and length', () => {
    const reference = (t: string, max: number) => {
      const line = byRegExp(t).trimStart();
      if (line.length <= max) return line;
      let tail = line.slice(line.length - (max - 1));
      const lead = tail.charCodeAt(0);
      if (lead >= 0xdc00 && lead <= 0xdfff) tail = tail.slice(1);
      return `…${tail}`;
    };
    fc.assert(
      fc.property(text, fc.integer({ min: 2, max: 40 }), (t, max) => {
        expect(tailLine(t, max)).toBe(reference(t, max));
      }),
      { numRuns: 3000 },
    );
  });
});
