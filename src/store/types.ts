// The store behind resumable answers and conversations: a few string operations with expiry, so
// an in-process map and a Redis server can both stand behind it and MCP code never sees which.

/** A store that cannot be reached or refused an operation. Its message says which store and why. */
export class StoreError extends Error {
  readonly code = 'store';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface Store {
  /** `memory`, or the Redis URL without credentials: named in error messages. */
  readonly name: string;
  get(key: string): Promise<string | undefined>;
  /** Sets `key` to `value`, to expire after `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * Appends `value` (creating the key when missing) and restarts its expiry; resolves with the
   * key's new length in UTF-8 bytes.
   */
  append(key: string, value: string, ttlMs: number): Promise<number>;
  /**
   * The value from byte `fromByte` (a length `append` returned, so on a character boundary) to
   * its end; undefined when the key does not exist.
   */
  readFrom(key: string, fromByte: number): Promise<string | undefined>;
  /** Restarts the expiry of keys that exist. */
  touch(keys: readonly string[], ttlMs: number): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
