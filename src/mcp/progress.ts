// The progress relay: turns a tool call's token stream into coalesced MCP progress updates with
// exact deltas, plus heartbeats while the provider is silent. Pure logic over an injectable clock.

import { type Clock, realClock } from './relay-clock.js';
import { MESSAGE_MAX, tailLine } from './tail-line.js';

export type { Clock } from './relay-clock.js';

export type Channel = 'content' | 'reasoning';

/** One progress notification's payload (the caller adds the progress token). */
export interface ProgressUpdate {
  /** Strictly increasing: characters relayed so far plus the sequence number. */
  progress: number;
  /** The tail of the text so far, one line, at most {@link MESSAGE_MAX} characters. */
  message: string;
  /** Exact text since the previous update on this call ('' for a heartbeat). */
  delta: string;
  channel: Channel;
  /** 1, 2, 3, … per call. */
  seq: number;
  heartbeat: boolean;
}

export interface RelayOptions {
  /** Coalescing window: at most one update per window (a channel switch flushes early). */
  intervalMs: number;
  /** Silence after which a heartbeat goes out, and again every such period. */
  heartbeatMs: number;
  /** Named in heartbeat messages. */
  model: string;
  send(update: ProgressUpdate): void;
  /**
   * Whether the client's connection takes bytes now (transport backpressure). While false, updates
   * wait and their deltas merge, so memory per call stays bounded whatever the client does.
   */
  canSend?: () => boolean;
  /**
   * Characters of one channel held while the connection is not writable before the relay stops
   * holding them. Content: the rest then goes out as one last delta, cut from the final answer at
   * `close(finalContent)`, so a client that stopped reading costs no copy of the answer.
   * Reasoning: it is no longer relayed (the deltas sent stay an exact prefix of it).
   */
  maxPendingChars?: number;
  clock?: Clock;
  /** Where a resumed answer's numbering goes on: the last part's final `seq` and `progress`. */
  start?: { seq: number; progress: number };
}

/** While the model reasons unseen, a note goes out at least this often. */
export const THINKING_EVERY_MS = 5000;

// Enough raw text to produce a 200-character line after whitespace is folded.
const TAIL_KEEP = 4 * MESSAGE_MAX;

/**
 * `text` as a string of its own. V8 makes a slice of a long string a view that keeps the whole
 * string alive: a tail cut from a merged megabyte delta would pin it for the rest of the call.
 */
function ownCopy(text: string, of: string, delta: string): string {
  // The tail joined with a short delta is a new string of at most 2 × TAIL_KEEP characters: a
  // slice of it pins little. A delta taken whole may be a view on a string of any size.
  const fresh = of !== delta && of.length <= 2 * TAIL_KEEP;
  return fresh || text.length < 13 ? text : Buffer.from(text, 'utf16le').toString('utf16le');
}

export class ProgressRelay {
  private readonly clock: Clock;
  /** Text waiting for its window (or for the connection), per channel: an update has one. */
  private readonly held: Record<Channel, string> = { content: '', reasoning: '' };
  /** Of the channels holding text, the one whose text came first: it goes out first. */
  private firstHeld: Channel = 'content';
  private seq: number;
  private relayedChars: number;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  /** When text last arrived (or the call started): heartbeats count silence from here. */
  private lastTextAt: number;
  /** Hidden reasoning arrived since the last text: the model is thinking, not queued. */
  private thinking = false;
  private readonly tails: Record<Channel, string> = { content: '', reasoning: '' };
  private flushTimer: unknown;
  private heartbeatTimer: unknown;
  /** When the armed heartbeat timer fires, and when a heartbeat is due (later, after an update). */
  private heartbeatTimerAt = 0;
  private heartbeatDue = 0;
  private stopped = false;
  /** Content characters sent in updates (the rest, once deferred, comes from the final answer). */
  private contentSent = 0;
  /** Content is no longer held: the connection stayed unwritable past `maxPendingChars`. */
  private deferred = false;
  /**
   * Reasoning is no longer relayed: more of it waited for the connection than `maxPendingChars`.
   * The deltas sent are an exact prefix of the reasoning.
   */
  private reasoningOff = false;

  constructor(private readonly o: RelayOptions) {
    this.clock = o.clock ?? realClock;
    this.seq = o.start?.seq ?? 0;
    // progress = relayed chars + seq, so a resumed part goes on from the last part's value.
    this.relayedChars = (o.start?.progress ?? 0) - this.seq;
    this.lastTextAt = this.clock.now();
    this.scheduleHeartbeat(this.lastTextAt);
  }

  /** Characters of channel `content` relayed or pending: what the client has been promised. */
  contentChars = 0;

  /** Queues `text` for the client: at once if the window is open, else when it opens. */
  push(channel: Channel, text: string): void {
    if (this.stopped || text === '') return;
    // A switch of channel sends what the other one holds at once (if the connection takes it;
    // if not, the relay may stop holding a channel here).
    if (this.held[channel === 'content' ? 'reasoning' : 'content'] !== '') this.flush();
    if (channel === 'reasoning' && (this.deferred || this.reasoningOff)) {
      // No longer relayed: for the client the model thinks unseen.
      this.noteThinking();
      return;
    }
    const now = this.clock.now();
    this.lastTextAt = now;
    this.thinking = false;
    if (this.deferred) {
      // Only counted: the final answer holds this text.
      this.contentChars += text.length;
      return;
    }
    if (!this.holding()) this.firstHeld = channel;
    this.held[channel] += text;
    if (channel === 'content') this.contentChars += text.length;
    const due = this.lastSentAt + this.o.intervalMs;
    if (now >= due) this.flush();
    else this.flushTimer ??= this.clock.setTimeout(this.onFlushTimer, due - now);
  }

  private holding(): boolean {
    return this.held.content !== '' || this.held.reasoning !== '';
  }

  /** The window's timer: flushes once the window is over (a timer may fire a little early). */
  private readonly onFlushTimer = (): void => {
    this.flushTimer = undefined;
    const wait = this.lastSentAt + this.o.intervalMs - this.clock.now();
    if (wait > 0 && !this.stopped && this.holding()) {
      this.flushTimer = this.clock.setTimeout(this.onFlushTimer, wait);
    } else this.flush();
  };

  /**
   * The provider is active but sends nothing to relay (reasoning that is not shown). The first
   * such chunk after text (or at the start) brings a "thinking" note at once — a client that
   * resets its timeout on progress must not time out while the model thinks — then the heartbeat
   * runs every {@link THINKING_EVERY_MS} at most while thinking goes on.
   */
  noteThinking(): void {
    if (this.stopped || this.thinking) return;
    this.thinking = true;
    if (this.holding()) this.flush();
    // A connection that takes nothing now gets no note per switch of channel: the next heartbeat
    // says the model is thinking.
    if (this.o.canSend?.() !== false) this.beat();
  }

  /** Sends what is held now (unless the connection is not writable and `force` is false). */
  flush(force = false): void {
    this.clearFlushTimer();
    if (this.stopped || !this.holding()) return;
    if (!force && this.o.canSend?.() === false) {
      // Past the bound a channel is no longer held: content then comes from the answer at `close`,
      // reasoning is no longer relayed.
      const max = this.o.maxPendingChars ?? Number.POSITIVE_INFINITY;
      if (this.held.content.length > max) {
        this.deferred = true;
        this.held.content = '';
      }
      if (this.held.reasoning.length > max) {
        this.reasoningOff = true;
        this.held.reasoning = '';
      }
      // Not writable: keep merging; look again after one window.
      if (this.holding()) {
        this.flushTimer = this.clock.setTimeout(this.onFlushTimer, Math.max(this.o.intervalMs, 10));
      }
      return;
    }
    const first = this.firstHeld;
    this.sendHeld(first);
    this.sendHeld(first === 'content' ? 'reasoning' : 'content');
  }

  /** One update with what `channel` holds, if it holds anything. */
  private sendHeld(channel: Channel): void {
    const delta = this.held[channel];
    if (delta === '') return;
    this.held[channel] = '';
    this.relayedChars += delta.length;
    if (channel === 'content') this.contentSent += delta.length;
    // The tail is brought up to date once per update, not per token.
    const recent = delta.length >= TAIL_KEEP ? delta : this.tails[channel] + delta;
    this.tails[channel] = ownCopy(recent.slice(-TAIL_KEEP), recent, delta);
    const tail = channel === 'reasoning' ? `thinking: ${this.tails.reasoning}` : this.tails.content;
    this.emit({ delta, channel, message: tailLine(tail), heartbeat: false });
  }

  /**
   * Flushes what is held and stops: nothing is sent afterwards. `finalContent` (the answer)
   * supplies the content a deferred relay no longer held.
   */
  close(finalContent?: string): void {
    if (this.deferred && !this.stopped) {
      this.deferred = false;
      this.held.content = finalContent === undefined ? '' : finalContent.slice(this.contentSent);
      // Reasoning still held goes first: across the two channels, the order of text the relay
      // stopped holding is lost (within each channel it is kept).
      this.firstHeld = this.held.reasoning !== '' ? 'reasoning' : 'content';
    }
    this.flush(true);
    this.stop();
  }

  /** Stops without flushing (the request was cancelled). */
  stop(): void {
    this.stopped = true;
    this.held.content = '';
    this.held.reasoning = '';
    this.clearFlushTimer();
    if (this.heartbeatTimer !== undefined) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** The last `seq` sent (including those of earlier parts). */
  get sent(): number {
    return this.seq;
  }

  /** The last `progress` value sent. */
  get progress(): number {
    return this.relayedChars + this.seq;
  }

  private emit(u: Omit<ProgressUpdate, 'progress' | 'seq'>): void {
    this.seq++;
    const now = this.clock.now();
    // A heartbeat does not close the coalescing window: the next token still goes out at once.
    if (!u.heartbeat) this.lastSentAt = now;
    this.o.send({ ...u, seq: this.seq, progress: this.relayedChars + this.seq });
    this.scheduleHeartbeat(now);
  }

  private heartbeat(): void {
    this.heartbeatTimer = undefined;
    if (this.stopped) return;
    // Updates went out since it was armed: the heartbeat is due later. (Not `now < due`: a real
    // timer fires up to a millisecond before a fractional due time, and would be armed again.)
    if (this.heartbeatDue > this.heartbeatTimerAt) {
      this.armHeartbeat(this.clock.now());
      return;
    }
    // Text is waiting for its window (a heartbeat period shorter than the window) or for the
    // connection: it goes out when it can, and the heartbeat looks again a period later.
    if (this.holding()) {
      this.scheduleHeartbeat(this.clock.now());
      return;
    }
    // Also into a connection that takes nothing now, one a period: a write there can be what shows
    // that the client went away (without it, the HTTP suite's client-gone test failed once).
    this.beat();
  }

  private beat(): void {
    const silentS = Math.round((this.clock.now() - this.lastTextAt) / 1000);
    const message = this.thinking
      ? `${this.o.model} is thinking… (${silentS}s)`
      : `waiting for ${this.o.model}… (${silentS}s)`;
    this.emit({ delta: '', channel: 'content', message, heartbeat: true });
  }

  private scheduleHeartbeat(from: number): void {
    if (this.stopped) return;
    const period = this.thinking ? Math.min(this.o.heartbeatMs, THINKING_EVERY_MS) : this.o.heartbeatMs;
    this.heartbeatDue = from + period;
    // Every update pushes the heartbeat back; the timer is left alone (no timer per update) and,
    // firing before the heartbeat is due, is armed again for the rest.
    if (this.heartbeatTimer !== undefined) {
      if (this.heartbeatTimerAt <= this.heartbeatDue) return;
      this.clock.clearTimeout(this.heartbeatTimer);
    }
    this.armHeartbeat(this.clock.now());
  }

  private armHeartbeat(now: number): void {
    this.heartbeatTimerAt = Math.max(now, this.heartbeatDue);
    this.heartbeatTimer = this.clock.setTimeout(() => this.heartbeat(), this.heartbeatTimerAt - now);
  }

  private clearFlushTimer(): void {
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}
