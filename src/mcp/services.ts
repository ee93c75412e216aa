// What the stateful tools share within one `serve`: the store and the answers running here.
// Kept beside the Runtime (one per serve) rather than in it, so the stateless parts stay small.
import { createStore, type Store } from '../store/index.js';
import type { AnswerJob } from './resume/job.js';
import type { Runtime } from './runtime.js';

export interface Services {
  store: Store;
  /** Answers whose upstream request runs in this process, by resume id. */
  jobs: Map<string, AnswerJob>;
  ttlMs: number;
}

const byRuntime = new WeakMap<Runtime, Promise<Services>>();

export function services(rt: Runtime): Promise<Services> {
  let s = byRuntime.get(rt);
  if (!s) {
    // Never closed explicitly: the Redis connection is unref'd, and answers still running when the
    // server closes write their end before `closeAll()` returns.
    s = createStore(rt.config.store).then((store) => ({
      store,
      jobs: new Map<string, AnswerJob>(),
      ttlMs: rt.config.storeTtlS * 1000,
    }));
    byRuntime.set(rt, s);
  }
  return s;
}
