// The memory floor of one long answer: how much a Node process's RSS grows while it reads a 10 MiB
// answer at full speed (the emulator in a process of its own), for consumers that keep less and
// less work per chunk: exai's library, a bare `\n\n` splitter that keeps the text as one string,
// the same keeping it as UTF-8 Buffers, and one that keeps nothing. Each runs in a fresh process,
// three times. What docs/security.md compares the MCP server's figures with.
// Usage: node bench/memory-floor.js   (after `npm run build`)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { killAll, startEmulatorChild } from './children.js';
import { distModule, MODEL, messagesFor } from './common.js';
import { httpPost, lineSplitter } from './consumers.js';

const LIMIT = 10 * 1024 * 1024;
const MODES = ['exai', 'string', 'utf8', 'drop'];
const LABELS = {
  exai: 'exai (for await + finalResult)',
  string: '`\\n\\n` splitter + JSON.parse, text kept as one string',
  utf8: 'the same, text kept as UTF-8 Buffers',
  drop: 'the same, nothing kept',
};
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;

const request = (maxTokens) => ({
  model: MODEL,
  stream: true,
  messages: messagesFor('memory floor'),
  ...(maxTokens ? { max_tokens: maxTokens } : {}),
});

/** One answer read by the benchmarks' bare `\n\n` splitter, cut at LIMIT characters of content. */
async function bare(base, mode, maxTokens) {
  const res = await httpPost(undefined, `${base}/chat/completions`, request(maxTokens));
  const parts = [];
  let chars = 0;
  return new Promise((resolve, reject) => {
    const done = () => {
      res.destroy();
      resolve(mode === 'string' ? parts.join('') : mode === 'utf8' ? Buffer.concat(parts) : chars);
    };
    const feed = lineSplitter((data) => {
      if (chars >= LIMIT || data === '[DONE]') return;
      const content = JSON.parse(data).choices?.[0]?.delta?.content;
      if (!content) return;
      chars += content.length;
      if (mode === 'utf8') parts.push(Buffer.from(content));
      else if (mode === 'string') parts.push(content);
      if (chars >= LIMIT) done();
    });
    res.setEncoding('utf8');
    res.on('data', feed);
    res.once('end', done);
    res.once('error', reject);
  });
}

/** The same answer through exai's library (EXAI_MAX_OUTPUT_BYTES cuts it at LIMIT bytes). */
async function viaExai(base, maxTokens) {
  const { createClient, loadConfig } = await import(distModule('index.js'));
  const config = loadConfig({
    env: { GLM_API_KEY: 'k'.repeat(20), GLM_BASE_URL: base, EXAI_MAX_OUTPUT_BYTES: String(LIMIT) },
    dotenvDir: false,
  });
  const client = createClient('glm', { config });
  const stream = await client.chat.completions.create({ ...request(maxTokens), stream: true });
  for await (const _ of stream);
  return (await stream.finalResult()).content;
}

async function consumer(mode, base) {
  const read = (maxTokens) => (mode === 'exai' ? viaExai(base, maxTokens) : bare(base, mode, maxTokens));
  await read(50); // warm-up: modules, sockets, JIT
  const start = rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 10);
  const kept = await read();
  clearInterval(timer);
  peak = Math.max(peak, rss());
  const size = typeof kept === 'number' ? kept : kept.length;
  process.stdout.write(JSON.stringify({ mode, growthMB: (peak - start) / 2 ** 20, kept: size }));
}

if (process.argv[2] === '--consumer') {
  await consumer(process.argv[3], process.argv[4]);
} else {
  const emulator = await startEmulatorChild({ paceMs: 0, words: 2_500_000, tokensPerChunk: 64 });
  try {
    const self = fileURLToPath(import.meta.url);
    const rows = [];
    for (let run = 0; run < 3; run++) {
      for (const mode of MODES) {
        const out = execFileSync(process.execPath, [self, '--consumer', mode, emulator.glm], {
          encoding: 'utf8',
          timeout: 120_000,
        });
        rows.push(JSON.parse(out));
      }
    }
    console.log('| consumer of a 10 MiB answer | RSS growth MB (3 fresh processes) | × 10 MiB |');
    console.log('| --- | --- | --- |');
    for (const mode of MODES) {
      const g = rows.filter((r) => r.mode === mode).map((r) => r.growthMB);
      const range = `${Math.min(...g).toFixed(1)}–${Math.max(...g).toFixed(1)}`;
      const x = `${(Math.min(...g) / 10).toFixed(1)}–${(Math.max(...g) / 10).toFixed(1)}`;
      console.log(`| ${LABELS[mode]} | ${range} | ${x} |`);
    }
  } finally {
    await emulator.close();
    killAll();
  }
}
