// The store contract, run against both implementations: the in-process map and a real
// redis-server started on a free loopback port. Then what each does on its own: the memory
// store's bounds, Redis going down and coming back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/store/memory.js';
import { RedisStore } from '../src/store/redis.js';
import { type Store, StoreError } from '../src/store/types.js';
import { HAVE_REDIS, type RedisServer, startRedis } from './helpers/redis.js';

let redis: RedisServer;
beforeAll(async () => {
  if (HAVE_REDIS) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

const kinds = [
  ['memory', () => new MemoryStore()],
  ['redis', () => new RedisStore(redis.url)],
] as const;

describe.each(kinds.filter(([name]) => name === 'memory' || HAVE_REDIS))(
  'store contract: %s',
  (_name, make) => {
    let store: Store;
    let n = 0;
    // Keys of one test never meet another's, on a Redis shared by the suite.
    const k = (name: string) => `test:${_name}:${++n}:${name}`;
    beforeAll(() => {
      store = make();
    });
    afterAll(async () => {
      await store.close();
    });

    it('gets undefined for a missing key and what was set for a present one', async () => {
      const key = k('a');
      expect(await store.get(key)).toBeUndefined();
      await store.set(key, 'value ✓', HOUR);
      expect(await store.get(key)).toBe('value ✓');
      await store.set(key, 'replaced', HOUR);
      expect(await store.get(key)).toBe('replaced');
    });

    it('appends, creating the key, and returns the length in UTF-8 bytes', async () => {
      const key = k('append');
      expect(await store.append(key, '', HOUR)).toBe(0);
      expect(await store.get(key)).toBe('');
      expect(await store.append(key, 'ab', HOUR)).toBe(2);
      expect(await store.append(key, 'é流🚀', HOUR)).toBe(2 + 2 + 3 + 4);
      expect(await store.get(key)).toBe('abé流🚀');
    });

    it('reads from any byte length append returned, exactly to the end', async () => {
      const key = k('range');
      const pieces = ['Hello ', 'café ', '流式 ', '🚀🚀', '', ' end'];
      const lengths: number[] = [0];
      for (const p of pieces) lengths.push(await store.append(key, p, HOUR));
      const whole = pieces.join('');
      for (let i = 0; i < lengths.length; i++) {
        expect(await store.readFrom(key, lengths[i] ?? 0)).toBe(pieces.slice(i).join(''));
      }
      expect(await store.readFrom(key, 0)).toBe(whole);
      expect(await store.readFrom(k('missing'), 0)).toBeUndefined();
    });

    it('expires keys after their ttl; touch restarts it; append restarts it', async () => {
      const [a, b, c] = [k('ttl-a'), k('ttl-b'), k('ttl-c')];
      await store.set(a, '1', 300);
      await store.set(b, '1', 300);
      await store.append(c, 'x', 300);
      await sleep(150);
      await store.touch([b, k('never-set')], 1000);
      await store.append(c, 'y', 1000);
      await sleep(300);
      expect(await store.get(a)).toBeUndefined();
      expect(await store.readFrom(a, 0)).toBeUndefined();
      expect(await store.get(b)).toBe('1');
      expect(await store.get(c)).toBe('xy');
    });

    it('deletes keys, present or not', async () => {
      const [a, b] = [k('del-a'), k('del-b')];
      await store.set(a, '1', HOUR);
      await store.append(b, '2', HOUR);
      await store.delete([a, b, k('del-none')]);
      expect(await store.get(a)).toBeUndefined();
      expect(await store.get(b)).toBeUndefined();
      await store.delete([]);
    });
  },
);

describe('memory store', () => {
  it('stays within its bounds, dropping the oldest written entries first', async () => {
    const store = new MemoryStore({ maxBytes: 1000, maxKeys: 5 });
    for (let i = 0; i < 10; i++) await store.set(`k${i}`, 'x'.repeat(100), HOUR);
    expect(store.size.keys).toBe(5);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k9')).toBe('x'.repeat(100));
    await store.set('big', 'y'.repeat(950), HOUR);
    expect(store.size.bytes).toBeLessThanOrEqual(1000);
    expect(await store.get('big')).toBe('y'.repeat(950));
    await store.close();
  });
});

describe.skipIf(!HAVE_REDIS)('redis store', () => {
  it('fails at once with a clear error while Redis is down, and works again once it is back', async () => {
    const store = new RedisStore(redis.url);
    try {
      await store.set('test:down', 'before', HOUR);
      await redis.stop();
      const started = Date.now();
      const error = await store.get('test:down').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(String((error as Error).message)).toContain(`redis://127.0.0.1:${redis.port}`);
      expect(Date.now() - started).toBeLessThan(2500);
      await redis.start();
      let value: string | undefined;
      for (let i = 0; i < 50 && value === undefined; i++) {
        value = await store.get('test:down').catch(() => undefined);
        if (value === undefined) await store.set('test:down', 'after', HOUR).catch(() => sleep(100));
      }
      // A restarted server without persistence starts empty: the write after it is what is read.
      expect(value).toBe('after');
    } finally {
      await store.close();
    }
  }, 20_000);

  it('cannot reach a server that is not there, and says where it tried, without the password', async () => {
    const store = new RedisStore('redis://:hunter2-secret@127.0.0.1:1/0');
    const error = await store.get('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/^cannot reach redis:\/\/127\.0\.0\.1:1\/0: .*ECONNREFUSED/);
    expect((error as Error).message).not.toContain('hunter2');
    await store.close();
  });
});
