// The shared store: a Redis server, so every `exai serve` instance behind a load balancer sees the
// same answers and conversations. Connects on first use; while Redis is unreachable every
// operation fails at once with a StoreError (no queue that grows), and it reconnects by itself.
import { createClient } from '@redis/client';
import type { Store } from './types.js';
import { StoreError } from './types.js';

// An operation Redis does not answer by then fails, rather than holding a tool call.
const OP_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 2000;

type Client = ReturnType<typeof createClient>;

export class RedisStore implements Store {
  readonly name: string;
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private closed = false;

  constructor(private readonly url: string) {
    const u = new URL(url);
    // The name appears in errors: never the credentials.
    this.name = `redis://${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  }

  async get(key: string): Promise<string | undefined> {
    const v = await this.run((c) => c.sendCommand(['GET', key]));
    return typeof v === 'string' ? v : undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.run((c) => c.sendCommand(['SET', key, value, 'PX', String(ttlMs)]));
  }

  async append(key: string, value: string, ttlMs: number): Promise<number> {
    const replies = await this.run((c) => c.multi().append(key, value).pExpire(key, ttlMs).exec());
    return Number(replies[0]);
  }

  async readFrom(key: string, fromByte: number): Promise<string | undefined> {
    const replies = await this.run((c) => c.multi().exists(key).getRange(key, fromByte, -1).exec());
    if (Number(replies[0]) === 0) return undefined;
    return String(replies[1] ?? '');
  }

  async touch(keys: readonly string[], ttlMs: number): Promise<void> {
    if (keys.length === 0) return;
    await this.run((c) => {
      const m = c.multi();
      for (const k of keys) m.pExpire(k, ttlMs);
      return m.exec();
    });
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.run((c) => c.sendCommand(['DEL', ...keys]));
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    if (c?.isOpen) await c.close().catch(() => c.destroy());
  }

  private async run<T>(op: (c: Client) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError(`the ${this.name} store is closed`);
    const c = await this.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        op(c),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new StoreError(`${this.name} did not answer within ${OP_TIMEOUT_MS} ms`)),
            OP_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`${this.name} failed: ${reason(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<Client> {
    let everConnected = false;
    const client: Client = createClient({
      url: this.url,
      // Commands while disconnected fail at once instead of queueing without bound.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        // The first connection fails fast (the caller gets the error); a dropped one is retried.
        reconnectStrategy: (retries: number, cause: Error) =>
          everConnected ? Math.min(100 * 2 ** Math.min(retries, 4), 1000) : cause,
      },
    });
    // Without a listener an 'error' event would crash the process; the failing call reports it.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      client.destroy();
      throw new StoreError(`cannot reach ${this.name}: ${reason(error)}`, { cause: error });
    }
    everConnected = true;
    // The connection must not keep a finishing process alive.
    client.unref();
    if (this.closed) {
      client.destroy();
      throw new StoreError(`the ${this.name} store is closed`);
    }
    this.client = client;
    return client;
  }
}

function reason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${code} ${error.message}`
      : error.message;
  }
  return String(error);
}
