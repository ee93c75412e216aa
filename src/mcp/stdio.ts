// `exai serve`: MCP over stdin/stdout. stdout carries protocol messages only; logs go to stderr.
import { serveStdio as sdkServeStdio } from '@modelcontextprotocol/server/stdio';
import { describeError } from './errors.js';
import { MAX_MESSAGE_BYTES } from './limits.js';
import { createRuntime, type ServeOptions } from './runtime.js';
import { StdioWire } from './stdio-wire.js';
import { buildServer } from './tools.js';

export interface StdioServerHandle {
  close(): Promise<void>;
  /** Resolves once the connection is gone (stdin ended, stdout closed, or `close()`). */
  readonly closed: Promise<void>;
}

export async function serveStdio(opts: ServeOptions): Promise<StdioServerHandle> {
  const rt = createRuntime(opts, true);
  const wire = new StdioWire(process.stdin, process.stdout, {
    maxLineBytes: MAX_MESSAGE_BYTES,
    limiter: rt.limiter,
    running: () => rt.active,
  });
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => {
    closedResolve = resolve;
  });
  // The SDK entry serves both protocol eras: one instance per connection from this factory.
  const handle = sdkServeStdio(() => buildServer(rt), {
    transport: wire,
    onerror: (error) => opts.logger.warn('MCP stdio error', { error: describeError(error) }),
  });
  opts.logger.debug('exai MCP server on stdio');
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const aborting = rt.closeAll();
      await handle.close().catch((error: unknown) => {
        opts.logger.debug('closing the stdio transport failed', { error: describeError(error) });
      });
      await aborting;
      rt.closeTransport();
      closedResolve();
    })();
    return closing;
  };
  // The SDK entry sets the wire's onclose; chain ours so a closed stdout or stdin ends the server.
  const sdkOnClose = wire.onclose;
  wire.onclose = () => {
    sdkOnClose?.();
    void close();
  };
  return { close, closed };
}
