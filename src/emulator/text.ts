// Deterministic text for the emulator: a seeded PRNG, a built-in sentence pool and a tokenizer. Pure.

/** FNV-1a, 32 bits: a cheap, stable hash so the same request always seeds the same answer. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a tiny PRNG with good enough spread for picking sentences; returns [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` lowercase hex digits drawn from `rng`. */
export function hex(rng: () => number, n: number): string {
  let out = '';
  while (out.length < n) out += Math.floor(rng() * 16).toString(16);
  return out;
}

const ANSWER_SENTENCES: readonly string[] = [
  'Streaming sends each token to the reader as soon as the model produces it.',
  'A token is a small piece of text, often a whole word or part of one.',
  'Latency to the first token matters more to people than total generation time.',
  'Server-sent events carry each chunk on a line that starts with data.',
  'The stream ends with a done marker so the client knows the answer is complete.',
  'Backpressure lets a slow reader pause a fast writer without losing data.',
  'A dropped connection can be recovered by asking the model to continue.',
  'Retries with jittered backoff keep a busy service from being overwhelmed.',
  'Reasoning tokens arrive before the answer when the model thinks out loud.',
  'Usage figures report how many tokens the prompt and the completion used.',
  'A tool call asks the client to run a function and send back the result.',
  'Chunk boundaries rarely line up with word or character boundaries.',
  'Multibyte characters can be split across two network reads.',
  'An idle timeout catches a stream that has silently stalled.',
  'Cancelling a request should close the upstream connection at once.',
  'Throughput is measured in tokens per second over the whole answer.',
  'Keep-alive connections save a handshake on every new request.',
  'A rate limit answer may say how long to wait before trying again.',
  'Deterministic test servers make streaming bugs easy to reproduce.',
  'Partial answers are still useful when they are clearly marked as partial.',
  'The finish reason tells you whether the model stopped or ran out of room.',
  'Small chunks feel smooth, while large chunks feel jumpy but cost less.',
  'A good client never blocks the terminal while it waits for the next token.',
  'Context windows limit how much text a model can read at once.',
  'Shorter prompts cut both cost and latency.',
  'An error frame inside a stream must be surfaced, not silently ignored.',
  'Every timer a client starts should be cleared when the request ends.',
  'Proxies sometimes buffer responses, which hides the benefit of streaming.',
  'Measuring time to first token needs a clock on both ends of the wire.',
  'A stream that ends without a done marker should be treated as incomplete.',
];

// Every answer carries one of these so clients meet multibyte UTF-8 (2, 3 and 4 bytes) in every test.
const UNICODE_SENTENCES: readonly string[] = [
  'Streaming feels instant — like a café that serves 流式 tokens the moment they are ready 🚀.',
  'Résumé-style summaries arrive sooner — 流式 output shows them word by word 🚀.',
];

const REASONING_SENTENCES: readonly string[] = [
  'The user wants a clear answer about streaming.',
  'I should keep it short and concrete.',
  'Let me recall how tokens flow from the model to the client.',
  'Latency and partial output are the key points.',
  'I will mention chunking and the done marker.',
  'A small example would help here.',
  'Check that nothing important is missing before answering.',
  'The answer should read well when shown token by token.',
];

export const countWords = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** Fisher-Yates on a copy. */
function shuffled<T>(rng: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Whole sentences from `pool` until at least `words` words; the pool is used up before any repeats. */
function pick(rng: () => number, pool: readonly string[], words: number, start: number): string[] {
  const out: string[] = [];
  let deck: string[] = [];
  let total = start;
  while (total < words) {
    if (deck.length === 0) deck = shuffled(rng, pool);
    const s = deck.pop() ?? '';
    out.push(s);
    total += countWords(s);
  }
  return out;
}

/**
 * About `words` words of readable English with one multibyte sentence at a seeded position, as
 * the pieces that join to it: the sentences, each after the first with its leading space.
 */
export function answerPieces(rng: () => number, words: number): string[] {
  const unicode = UNICODE_SENTENCES[Math.floor(rng() * UNICODE_SENTENCES.length)] ?? '';
  const picked = pick(rng, ANSWER_SENTENCES, Math.max(1, words), countWords(unicode));
  picked.splice(Math.floor(rng() * (picked.length + 1)), 0, unicode);
  return picked.map((s, i) => (i === 0 ? s : ` ${s}`));
}

/** About `words` words of plausible reasoning. */
export function reasoningText(rng: () => number, words: number): string {
  return pick(rng, REASONING_SENTENCES, Math.max(1, words), 0).join(' ');
}

/** The short sentence that precedes a tool call. */
export const toolPreamble = (name: string): string => `Let me call ${name} for that — one moment 🚀.`;

// A word or number with its leading whitespace, or one other character (punctuation, emoji) with
// its leading whitespace, or trailing whitespace. The alternatives cover every character, so
// joining the tokens always gives back the text.
const TOKEN = /\s*(?:[\p{L}\p{N}]+|[^\s\p{L}\p{N}])|\s+/gu;

/** Splits text into token-like pieces: "Hello", " world", ",". */
export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

const tokenized = new Map<string, readonly string[]>();

/**
 * `tokenize(pieces.join(''))` for pieces that each start a token (a sentence, or one with its
 * leading space), with each distinct piece split once: a 2-million-word answer is made of a few
 * dozen sentences, and splitting its 12 MB with the Unicode pattern took about a second.
 */
export function tokenizePieces(pieces: readonly string[]): string[] {
  const out: string[] = [];
  for (const piece of pieces) {
    let tokens = tokenized.get(piece);
    if (!tokens) {
      tokens = tokenize(piece);
      // Only sentence-sized pieces are kept: the pool's are short, and a long one is seldom seen twice.
      if (piece.length <= 1024 && tokenized.size < 512) tokenized.set(piece, tokens);
    }
    // One at a time: spreading a piece of 150k tokens into push() overflows the stack.
    for (const t of tokens) out.push(t);
  }
  return out;
}

/**
 * `tokenize(text.slice(chars))` for the `tokens` of `text`, when `chars` falls between two of them
 * (the pattern has no look-behind, so a scan from a token's start finds the tokens that follow);
 * undefined when it falls inside one. A continuation of a 2-million-word answer re-split its rest
 * in about a second.
 */
export function tokensAfter(tokens: readonly string[], chars: number): string[] | undefined {
  let at = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (at === chars) return tokens.slice(i);
    at += (tokens[i] as string).length;
    if (at > chars) return undefined;
  }
  return at === chars ? [] : undefined;
}

/** Joins consecutive pieces into groups of `size`. */
export function group(pieces: readonly string[], size: number): string[] {
  if (size <= 1) return [...pieces];
  const out: string[] = [];
  for (let i = 0; i < pieces.length; i += size) out.push(pieces.slice(i, i + size).join(''));
  return out;
}

/** Splits text into pieces of up to `size` code points (never inside a surrogate pair). */
export function fragments(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}
