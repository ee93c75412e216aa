// The default store: an in-process map with expiry, bounded in keys and bytes (the oldest written
// entries go first), for a single `exai serve` instance.
import type { Store } from './types.js';

interface Entry {
  value: string;
  bytes: number;
  expiresAt: number;
}

export interface MemoryStoreOptions {
  /** Default 64 MiB of values in all. */
  maxBytes?: number;
  /** Default 100 000 keys. */
  maxKeys?: number;
  now?: () => number;
}

export class MemoryStore implements Store {
  readonly name = 'memory';
  // Map order is write order: re-inserting on every write keeps the oldest write first to evict.
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(o: MemoryStoreOptions = {}) {
    this.maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
    this.maxKeys = o.maxKeys ?? 100_000;
    this.now = o.now ?? Date.now;
    // Expired entries nobody reads again would otherwise stay until evicted.
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  /** Bytes held (for tests and metrics). */
  get size(): { keys: number; bytes: number } {
    return { keys: this.entries.size, bytes: this.bytes };
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.write(key, value, ttlMs);
  }

  async append(key: string, value: string, ttlMs: number): Promise<number> {
    const e = this.live(key);
    return this.write(
      key,
      (e?.value ?? '') + value,
      ttlMs,
      (e?.bytes ?? 0) + Buffer.byteLength(value, 'utf8'),
    );
  }

  async readFrom(key: string, fromByte: number): Promise<string | undefined> {
    const e = this.live(key);
    if (!e) return undefined;
    if (fromByte <= 0) return e.value;
    return Buffer.from(e.value, 'utf8').subarray(fromByte).toString('utf8');
  }

  async touch(keys: readonly string[], ttlMs: number): Promise<void> {
    for (const key of keys) {
      const e = this.live(key);
      if (e) e.expiresAt = this.now() + ttlMs;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.remove(key);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
    this.bytes = 0;
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= this.now()) {
      this.remove(key);
      return undefined;
    }
    return e;
  }

  private write(key: string, value: string, ttlMs: number, bytes = Buffer.byteLength(value, 'utf8')): number {
    this.remove(key);
    this.entries.set(key, { value, bytes, expiresAt: this.now() + ttlMs });
    this.bytes += bytes;
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.maxBytes && this.entries.size <= this.maxKeys) break;
      if (oldest === key) break;
      this.remove(oldest);
    }
    return bytes;
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, e] of this.entries) if (e.expiresAt <= now) this.remove(key);
  }
}
