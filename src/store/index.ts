// Picks the store `EXAI_STORE` names: the in-process map, or a Redis server shared by instances.
import { MemoryStore } from './memory.js';
import type { Store } from './types.js';

export { MemoryStore } from './memory.js';
export { type Store, StoreError } from './types.js';

/** `memory` or a redis:// URL (validated by the config). Redis connects lazily, on first use. */
export async function createStore(url: string): Promise<Store> {
  if (url === 'memory') return new MemoryStore();
  // Loaded only when asked for: a single instance never pays for the Redis client.
  const { RedisStore } = await import('./redis.js');
  return new RedisStore(url);
}
