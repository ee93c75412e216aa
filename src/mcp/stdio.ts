// `exai serve`: MCP over stdin/stdout. stdout carries protocol messages only; logs go to stderr.
import { serveStdio as sdkServeStdio } from '@modelcontextprotocol/server/stdio';
import { describeError } from './errors.js';
import { createRuntime, type ServeOptions } from './runtime.js';
import { buildServer } from './tools.js';

export async function serveStdio(opts: ServeOptions): Promise<{ close(): Promise<void> }> {
  const rt = createRuntime(opts, true);
  // The SDK entry serves both protocol eras: one instance per connection from this factory.
  const handle = sdkServeStdio(() => buildServer(rt), {
    onerror: (error) => opts.logger.warn('MCP stdio error', { error: describeError(error) }),
  });
  opts.logger.debug('exai MCP server on stdio');
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        const aborting = rt.closeAll();
        await handle.close().catch((error: unknown) => {
          opts.logger.debug('closing the stdio transport failed', { error: describeError(error) });
        });
        await aborting;
        rt.closeTransport();
      })();
      return closing;
    },
  };
}
