// The call's request budget (DESIGN §4): which request, if any, follows a failed one. Pure, so the
// policy is tested without sockets; the runner only reports what happened and does what it is told.

/** What one failed request left behind, as the runner saw it. */
export interface FailedRequest {
  /** The request delivered new visible answer text (not reasoning, whitespace or an echo). */
  progress: boolean;
  /** The call has shown answer text (beyond whitespace) so far, this request included. */
  answered: boolean;
  /** The failed request was a streaming one. */
  streaming: boolean;
  /** Another attempt cannot succeed (GLM 1113, a 401, ...). */
  fatal: boolean;
  /** A 4xx saying this model or endpoint does not stream. */
  streamRefused: boolean;
  /** The stream broke inside a tool call, or ended with `tool_calls` and no call. */
  toolCallBroken: boolean;
}

export type NextRequest =
  /** Ask again without a prefill: nothing worth continuing was shown. */
  | { kind: 'fresh'; backoff: number }
  /** Ask the provider to continue the partial answer. `backoff` is undefined right after progress. */
  | { kind: 'continue'; backoff: number | undefined }
  /** One non-streaming request, once per call. */
  | { kind: 'fallback' }
  | { kind: 'stop' };

/**
 * Every request that delivers nothing new spends one unit of `maxRetries`; the fallback is made
 * at most once; continuations follow only a shown answer, at most `maxStalled` in a row without
 * progress. So a fault that repeats on every request costs at most `maxRetries + 2` requests.
 */
export class RequestBudget {
  private units: number;
  private spent = 0;
  private stalled = 0;
  private fellBack = false;

  constructor(
    maxRetries: number,
    private readonly maxStalled = 2,
  ) {
    this.units = Math.max(0, maxRetries);
  }

  /** The non-streaming fallback was made (also when the call began without streaming). */
  get fallbackUsed(): boolean {
    return this.fellBack;
  }

  next(f: FailedRequest): NextRequest {
    if (f.fatal) return { kind: 'stop' };
    if (f.streamRefused) return this.fallback(f);
    // Tool-call arguments cannot be continued: after shown text the call ends here.
    if (f.toolCallBroken && f.answered) return { kind: 'stop' };
    // maxStalled 0 turns continuation off altogether (the client's `maxRecoveries: 0`).
    if (f.answered && this.maxStalled === 0) return { kind: 'stop' };
    if (f.progress) {
      this.stalled = 0;
      return { kind: 'continue', backoff: undefined };
    }
    if (f.answered) {
      // The failed request was a continuation that brought nothing: the answer is stuck.
      this.stalled++;
      if (this.units === 0 || this.stalled >= this.maxStalled) return { kind: 'stop' };
      return { kind: 'continue', backoff: this.spend() };
    }
    if (this.units > 0) return { kind: 'fresh', backoff: this.spend() };
    return this.fallback(f);
  }

  private fallback(f: FailedRequest): NextRequest {
    if (!f.streaming || this.fellBack || f.answered) return { kind: 'stop' };
    this.fellBack = true;
    return { kind: 'fallback' };
  }

  /** Spends a unit; returns its 0-based number, the backoff step. */
  private spend(): number {
    this.units--;
    return this.spent++;
  }
}
