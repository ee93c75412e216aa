// What every MCP server instance of one `serve` shares: options, the upstream transport and the
// set of in-flight chat calls, so closing the server aborts them all at once.
import type { Config } from '../config/index.js';
import { AbortError } from '../errors.js';
import type { Logger } from '../log.js';
import { createTransport, type Transport } from '../providers/transport.js';
import { CallLimiter } from './limits.js';
import { Metrics } from './metrics.js';
import { shortcutResponseChecks } from './sdk-checks.js';

export interface ServeOptions {
  config: Config;
  logger: Logger;
  /** Upstream HTTP; by default the server opens its own pool and closes it on `close()`. */
  transport?: Transport;
  /**
   * Silence (ms) after which a chat call with a progress token gets a heartbeat notification.
   * Default: `config.heartbeatMs` (`EXAI_HEARTBEAT_MS`, 10000).
   */
  heartbeatMs?: number;
}

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  /** undefined: the library's shared pool. */
  readonly transport: Transport | undefined;
  readonly heartbeatMs: number;
  /** A signal for one call: aborted by `callerSignal` or by `closeAll()`. Call `release()` when done. */
  track(callerSignal: AbortSignal): { signal: AbortSignal; release(): void };
  /** Aborts every in-flight call and resolves once they have all returned (or after `waitMs`). */
  closeAll(waitMs?: number): Promise<void>;
  /** Calls in flight. */
  readonly active: number;
  readonly metrics: Metrics;
  /** `EXAI_MAX_CONCURRENT_CALLS`: transports admit chat calls through it. */
  readonly limiter: CallLimiter;
}

/**
 * @param ownTransport open a private upstream pool (closed by `closeTransport`) when none is given;
 *   otherwise the library's shared pool is used.
 */
export function createRuntime(
  opts: ServeOptions,
  ownTransport: boolean,
): Runtime & { closeTransport(): void } {
  // Every message a server sends passes the SDK's response checks (sdk-checks.ts).
  shortcutResponseChecks();
  const heartbeatMs = opts.heartbeatMs ?? opts.config.heartbeatMs;
  const owned = opts.transport === undefined && ownTransport ? createTransport() : undefined;
  const inflight = new Map<AbortController, Promise<void>>();
  let closed = false;

  return {
    config: opts.config,
    logger: opts.logger,
    transport: opts.transport ?? owned,
    heartbeatMs,
    metrics: new Metrics(),
    limiter: new CallLimiter(opts.config.maxConcurrentCalls),
    get active() {
      return inflight.size;
    },
    track(callerSignal) {
      const controller = new AbortController();
      let done!: () => void;
      inflight.set(
        controller,
        new Promise<void>((resolve) => {
          done = resolve;
        }),
      );
      const onAbort = () => controller.abort(new AbortError('request cancelled by the MCP client'));
      if (closed) controller.abort(new AbortError('the MCP server is shutting down'));
      else if (callerSignal.aborted) onAbort();
      else callerSignal.addEventListener('abort', onAbort, { once: true });
      return {
        signal: controller.signal,
        release() {
          callerSignal.removeEventListener('abort', onAbort);
          inflight.delete(controller);
          done();
        },
      };
    },
    async closeAll(waitMs = 2000) {
      closed = true;
      const pending = [...inflight.entries()];
      for (const [controller] of pending) controller.abort(new AbortError('the MCP server is shutting down'));
      if (pending.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(pending.map(([, p]) => p)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitMs);
        }),
      ]);
      clearTimeout(timer);
    },
    closeTransport() {
      owned?.close();
    },
  };
}
