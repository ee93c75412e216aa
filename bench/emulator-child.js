// The emulator in its own process for the benchmarks, so its CPU is never counted against a consumer.
// Usage: node bench/emulator-child.js '<startEmulator options as JSON>'; prints one JSON line
// {url, glm, kimi, pid} on stdout. When forked (IPC), it also takes commands from the parent:
//   {type:'options', options}  → setOptions, replies {type:'ok'}
//   {type:'record', on}        → start/stop logging when each content token was written
//   {type:'log'}               → replies {type:'log', entries:[{content, marks:[end, sentAt, …]}]}
import { ServerResponse } from 'node:http';
import { startEmulator } from '../dist/emulator/index.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const emulator = await startEmulator({ host: '127.0.0.1', ...options });

// Recording (MCP relay scenario): which content offset each write completed and its
// x_emulator_sent_at, so a client that only sees coalesced text can still date every token.
let recording = false;
let finished = [];
const entries = new WeakMap();
const write = ServerResponse.prototype.write;
ServerResponse.prototype.write = function recordWrite(chunk, ...rest) {
  const ok = write.call(this, chunk, ...rest);
  if (recording && typeof chunk === 'string' && chunk.startsWith('data: {')) note(this, chunk);
  return ok;
};

function note(res, text) {
  let chunk;
  try {
    chunk = JSON.parse(text.slice(6));
  } catch {
    return;
  }
  const content = chunk.choices?.[0]?.delta?.content;
  if (!content || typeof chunk.x_emulator_sent_at !== 'number') return;
  let entry = entries.get(res);
  if (!entry) {
    entry = { content: '', marks: [] };
    entries.set(res, entry);
    res.once('close', () => finished.push(entry));
  }
  entry.content += content;
  entry.marks.push(entry.content.length, chunk.x_emulator_sent_at);
}

process.on('message', (msg) => {
  if (msg?.type === 'options') {
    emulator.setOptions(msg.options);
    process.send?.({ type: 'ok' });
  } else if (msg?.type === 'record') {
    recording = !!msg.on;
    finished = [];
    process.send?.({ type: 'ok' });
  } else if (msg?.type === 'log') {
    process.send?.({ type: 'log', entries: finished });
    finished = [];
  }
});

const stop = () => {
  emulator.close().finally(() => process.exit(0));
  // Never outlive a stuck close.
  setTimeout(() => process.exit(0), 2000).unref();
};
// The parent going away (IPC closed) or a signal ends the emulator.
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

process.stdout.write(
  `${JSON.stringify({ url: emulator.url, glm: emulator.baseURL('glm'), kimi: emulator.baseURL('kimi'), pid: process.pid })}\n`,
);
