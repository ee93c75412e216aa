// One answer's upstream stream, owned by the server rather than by a tool call: while `chat` waits,
// deltas go to its progress relay; once `chat` has returned early (detached), they are appended to
// the store in coalesced writes until the answer ends, is cancelled, or nobody resumes it.
import { AbortError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { StoreError } from '../../store/index.js';
import { isAnswerChoice } from '../../streaming/aggregator.js';
import type { ChatStream } from '../../streaming/stream.js';
import type { ChatResult } from '../../types.js';
import { describeError } from '../errors.js';
import type { Channel } from '../progress.js';
import type { Runtime } from '../runtime.js';
import type { Services } from '../services.js';
import { type AnswerFinal, type AnswerState, allAnswerKeys, answerKeys, newResumeId } from './keys.js';

/** How the upstream request ended: a result (possibly partial) or a failure with nothing to show. */
export interface JobEnd {
  result?: ChatResult;
  failure?: unknown;
  /** Why the conversation turn was not saved (store down), if it was not. */
  notSaved?: string;
}

export interface JobOptions {
  rt: Runtime;
  svc: Services;
  /** Called once with the final result when the request was not cancelled: saves the turn. */
  onFinished(result: ChatResult): Promise<void>;
}

const FLUSH_MS = 100;
const ALIVE_EVERY_MS = 1000;
/** The `alive` key outlives a few missed refreshes, not a dead instance. */
export const ALIVE_TTL_MS = 5000;

/** An answer nobody resumes is aborted after this long: a few call budgets, never under 5 s. */
export const abandonAfterMs = (budgetMs: number) => Math.max(3 * budgetMs, 5000);

export class AnswerJob {
  readonly id = newResumeId();
  readonly keys = answerKeys(this.id);
  /**
   * Content characters read from the stream: the text itself is the stream's aggregate, not a
   * second copy here (a long answer would otherwise be held twice until the call returns).
   */
  private contentRead = 0;
  private reasoning = '';
  private stream: ChatStream | undefined;
  /** The stream has ended (the result may still be being saved). */
  streamEnded = false;
  /** Receives every delta while a tool call waits on this answer. */
  listener: ((channel: Channel, text: string) => void) | undefined;
  readonly done: Promise<JobEnd>;
  private resolveDone!: (end: JobEnd) => void;
  private readonly own = new AbortController();
  private readonly tracked: { signal: AbortSignal; release(): void };
  private detached = false;
  private finished = false;
  private dropped = false;
  private pending = { content: '', reasoning: '' };
  private timer: NodeJS.Timeout | undefined;
  /** Store writes run one after another: the final record must follow the last append. */
  private chain: Promise<void> = Promise.resolve();
  private lastAliveAt = 0;
  private lastStoreOkAt = Date.now();
  private abandonMs = 0;
  private readonly log: Logger;

  constructor(private readonly o: JobOptions) {
    this.log = o.rt.logger;
    this.tracked = o.rt.track(this.own.signal);
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Aborted by `abort()` or by the server shutting down. */
  get signal(): AbortSignal {
    return this.tracked.signal;
  }

  abort(reason: string): void {
    if (!this.own.signal.aborted) this.own.abort(new AbortError(reason));
  }

  /** The request could not even start: ends the job with this failure. */
  fail(error: unknown): void {
    this.streamEnded = true;
    this.end({ failure: error });
  }

  /** Consumes the stream to its end; never throws (failures are in the JobEnd). */
  async run(stream: ChatStream): Promise<void> {
    this.stream = stream;
    try {
      for await (const chunk of stream) {
        // The choices the stream's aggregate is made of: detach() counts on the same text.
        for (const choice of chunk.choices) {
          if (!isAnswerChoice(choice)) continue;
          const delta = choice.delta;
          if (delta?.reasoning_content) this.take('reasoning', delta.reasoning_content);
          if (delta?.content) this.take('content', delta.content);
        }
      }
    } catch {
      // The same failure is in finalResult(): rejected when nothing arrived, else a partial result.
    }
    const end: JobEnd = {};
    try {
      end.result = await stream.finalResult();
    } catch (error) {
      end.failure = error;
    }
    this.streamEnded = true;
    // The result holds the answer now; nothing can detach any more.
    this.reasoning = '';
    this.stream = undefined;
    if (end.result && !this.signal.aborted) {
      await this.o.onFinished(end.result).catch((error: unknown) => {
        end.notSaved = describeError(error);
        this.log.warn('conversation not saved', { error: end.notSaved });
      });
    }
    this.end(end);
  }

  /**
   * The waiting call returns now: the text so far is its part; from here on, text goes to the
   * store. Synchronous, so no delta falls between the part and the store.
   */
  detach(): { content: string; reasoning: string } {
    this.detached = true;
    this.listener = undefined;
    this.o.svc.jobs.set(this.id, this);
    const content = this.stream?.contentSoFar().slice(0, this.contentRead) ?? '';
    return { content, reasoning: this.reasoning };
  }

  /** Writes the first state record; from then on the answer can be resumed anywhere. */
  async persist(state: AnswerState, budgetMs: number): Promise<void> {
    const { store, ttlMs } = this.o.svc;
    this.abandonMs = abandonAfterMs(budgetMs);
    await this.enqueue(async () => {
      await store.set(this.keys.state, JSON.stringify(state), ttlMs);
      await store.set(this.keys.touch, String(Date.now()), ttlMs);
      await store.set(this.keys.alive, '1', ALIVE_TTL_MS);
      await store.append(this.keys.content, '', ttlMs);
      await store.append(this.keys.reasoning, '', ttlMs);
    });
    this.lastAliveAt = Date.now();
    this.lastStoreOkAt = Date.now();
    // The answer may have ended while the first part was being returned.
    if (this.finished || this.streamEnded) return;
    this.timer = setInterval(() => void this.enqueue(() => this.tick()).catch(() => undefined), FLUSH_MS);
  }

  private take(channel: Channel, text: string): void {
    if (channel === 'content') this.contentRead += text.length;
    else this.reasoning += text;
    if (this.detached) this.pending[channel] += text;
    else this.listener?.(channel, text);
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.chain.then(op);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Appends what arrived, keeps `alive`, and obeys a cancel or an abandonment. */
  private async tick(): Promise<void> {
    const { store } = this.o.svc;
    try {
      await this.flush();
      const now = Date.now();
      if (now - this.lastAliveAt >= ALIVE_EVERY_MS) {
        await store.set(this.keys.alive, '1', ALIVE_TTL_MS);
        this.lastAliveAt = now;
      }
      if ((await store.get(this.keys.cancel)) !== undefined)
        this.abort('the answer was cancelled by chat_resume');
      const touched = Number((await store.get(this.keys.touch)) ?? 0);
      if (now - touched > this.abandonMs)
        this.abandon(`nobody resumed it for ${Math.round(this.abandonMs / 1000)} s`);
      this.lastStoreOkAt = now;
    } catch (error) {
      this.log.warn('answer store write failed', { resumeId: this.id, error: describeError(error) });
      if (Date.now() - this.lastStoreOkAt > this.abandonMs) {
        this.abandon(`the store was unreachable for ${Math.round(this.abandonMs / 1000)} s`);
      }
    }
  }

  /** Stops the answer and deletes what was stored of it: nobody will resume it. */
  abandon(why: string): void {
    if (this.dropped) return;
    this.dropped = true;
    this.log.info('answer abandoned', { resumeId: this.id, why });
    this.abort(`answer abandoned: ${why}`);
  }

  private async flush(): Promise<void> {
    const { store, ttlMs } = this.o.svc;
    const { content, reasoning } = this.pending;
    if (content === '' && reasoning === '') return;
    this.pending = { content: '', reasoning: '' };
    try {
      // Reasoning first: a reader that sees new content has seen the reasoning before it.
      if (reasoning) await store.append(this.keys.reasoning, reasoning, ttlMs);
      if (content) await store.append(this.keys.content, content, ttlMs);
    } catch (error) {
      // Kept for the next try, in order. (An append that failed after writing would repeat:
      // Redis APPEND either runs or the connection failed before it was sent.)
      this.pending = {
        content: content + this.pending.content,
        reasoning: reasoning + this.pending.reasoning,
      };
      throw error as StoreError;
    }
  }

  private end(end: JobEnd): void {
    if (!this.detached) {
      this.finish(end);
      return;
    }
    void this.enqueue(() => this.finishInStore(end))
      .catch((error: unknown) => {
        this.log.error('the end of a resumable answer could not be stored', {
          resumeId: this.id,
          error: describeError(error),
        });
      })
      .finally(() => this.finish(end));
  }

  private finish(end: JobEnd): void {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.o.svc.jobs.delete(this.id);
    this.tracked.release();
    this.resolveDone(end);
  }

  private async finishInStore(end: JobEnd): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const { store, ttlMs } = this.o.svc;
    if (this.dropped) {
      await store.delete(allAnswerKeys(this.id));
      return;
    }
    // A store that failed a while may still hold pending text: try until it is written or gone.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.flush();
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const r = end.result;
    const final: AnswerFinal = r
      ? {
          finish_reason: r.finishReason,
          ...(r.usage ? { usage: r.usage } : {}),
          metadata: r.metadata,
          ...(r.error
            ? { error: { code: r.error.code, message: describeError(new Error(r.error.message)) } }
            : {}),
          ...(end.notSaved ? { notSaved: end.notSaved } : {}),
        }
      : { finish_reason: null, failed: describeError(end.failure) };
    await store.set(this.keys.final, JSON.stringify(final), ttlMs);
    await store.touch([this.keys.state, this.keys.content, this.keys.reasoning], ttlMs);
  }
}
