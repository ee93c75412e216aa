// A pass-through HTTP proxy in front of the emulator that notes when the emulator wrote each
// content token (`x_emulator_sent_at`), so tests can time token → MCP client delivery.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TappedToken {
  text: string;
  /** performance.timeOrigin + performance.now() in the emulator when it wrote the chunk. */
  sentAt: number;
}

export interface Tap {
  /** Base URL to use instead of `target`. */
  baseURL: string;
  /** Content tokens of the latest request whose last user message was `prompt`. */
  tokens(prompt: string): TappedToken[];
  close(): Promise<void>;
}

function lastUserText(body: string): string {
  try {
    const messages =
      (JSON.parse(body) as { messages?: Array<{ role: string; content: unknown }> }).messages ?? [];
    const last = messages.filter((m) => m.role === 'user').at(-1);
    return typeof last?.content === 'string' ? last.content : '';
  } catch {
    return '';
  }
}

export async function startTap(target: string): Promise<Tap> {
  const byPrompt = new Map<string, TappedToken[]>();
  const base = new URL(target);
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const tokens: TappedToken[] = [];
      byPrompt.set(lastUserText(body.toString('utf8')), tokens);
      const upstream = http.request(
        new URL(`${base.origin}${req.url ?? '/'}`),
        { method: req.method, headers: { ...req.headers, host: base.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          let pending = '';
          up.on('data', (chunk: Buffer) => {
            // Forward first: the tap must not delay the stream it measures.
            res.write(chunk);
            pending += chunk.toString('utf8');
            const lines = pending.split('\n');
            pending = lines.pop() ?? '';
            for (const line of lines) {
              if (!line.startsWith('data: {')) continue;
              const data = JSON.parse(line.slice(6)) as {
                x_emulator_sent_at?: number;
                choices?: Array<{ delta?: { content?: string | null } }>;
              };
              const text = data.choices?.[0]?.delta?.content;
              if (text && data.x_emulator_sent_at !== undefined)
                tokens.push({ text, sentAt: data.x_emulator_sent_at });
            }
          });
          up.on('end', () => res.end());
          up.on('error', () => res.destroy());
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}${base.pathname}`,
    tokens: (prompt) => byPrompt.get(prompt) ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** For each token, the time from the emulator writing it to the client receiving the update that carried it. */
export function tokenDelays(tokens: TappedToken[], updates: Array<{ delta: string; at: number }>): number[] {
  const delays: number[] = [];
  let received = 0;
  let u = 0;
  let end = 0;
  for (const t of tokens) {
    end += t.text.length;
    while (received < end && u < updates.length) {
      received += updates[u]?.delta.length ?? 0;
      u++;
    }
    const carrier = updates[u - 1];
    if (received >= end && carrier) delays.push(carrier.at - t.sentAt);
  }
  return delays;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}
