#!/usr/bin/env node
// The `exai` command: chat, models, serve, emulator. Exit codes: 0 ok, 1 request failed, 2 usage/config, 130 Ctrl-C.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/index.js';
import { ExaiError, UsageError } from '../errors.js';
import { redact } from '../log.js';
import { sharedTransport } from '../providers/transport.js';
import { MAX_TOKENS_CEILING, TEMPERATURE } from '../request-checks.js';
import { VERSION } from '../version.js';
import { EXIT, runChatCommand } from './chat.js';
import { type EmulatorCommandOptions, startEmulatorCommand } from './emulator-command.js';
import { CHAT_HELP, EMULATOR_HELP, ENVIRONMENT_HELP } from './help.js';
import { cliLogger, logFormat } from './log-sink.js';
import { liveListings, modelsTable } from './models.js';
import { Screen } from './terminal.js';

function number(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return n;
  };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
function onStopSignal(handler: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const listener = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(EXIT.interrupted);
    stopping = true;
    handler(signal);
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}

function buildProgram(): Command {
  const program = new Command('exai')
    .description('Real-time token streaming from GLM (Z.ai) and Kimi (Moonshot)')
    .version(VERSION, '-v, --version')
    .addHelpText('after', ENVIRONMENT_HELP)
    .exitOverride();

  program
    .command('chat')
    .description('stream an answer to stdout as it arrives; stats and reasoning go to stderr')
    .argument('[prompt]', 'the question, or - to read it from stdin (with -i: the first turn)')
    .option('-i, --interactive', 'a conversation: a prompt loop that keeps the context')
    .addOption(
      new Option('--provider <name>', 'provider (default: from --model, else the one with a key)').choices([
        'glm',
        'kimi',
      ]),
    )
    .option(
      '--model <id>',
      'model id, e.g. glm-5.3 or kimi-k2.6 (default: the provider default; see exai models)',
    )
    .option('--system <text>', 'system prompt')
    .option(
      '--temperature <t>',
      'sampling temperature, 0 to 1 (both providers document that range)',
      number(TEMPERATURE.min, TEMPERATURE.max),
    )
    .option('--max-tokens <n>', 'maximum tokens in the answer', integer(1, MAX_TOKENS_CEILING))
    .option('--no-stream', 'make one non-streaming request')
    .option('--show-reasoning', 'print the model reasoning (dimmed) to stderr')
    .option('--json', 'print one ChatResult as JSON on stdout at the end instead of the text')
    .option('--emulator', 'answer from the built-in emulator (no API key needed)')
    .addHelpText('after', CHAT_HELP)
    .action(async (prompt: string | undefined, opts) => {
      if (opts.interactive) {
        if (opts.json || prompt === '-')
          throw new UsageError('-i is a conversation on the terminal: it takes neither --json nor -');
        const { runInteractive } = await import('./interactive.js');
        process.exitCode = await runInteractive(prompt, opts);
        return;
      }
      if (prompt === undefined)
        throw new UsageError(
          'missing the prompt: exai chat "your question" (or - to read stdin, or -i for a conversation)',
        );
      const controller = new AbortController();
      const release = onStopSignal(() => controller.abort());
      try {
        process.exitCode = await runChatCommand(prompt, opts, controller.signal);
      } finally {
        release();
      }
    });

  program
    .command('models')
    .description('list the model catalog: context, output limit, reasoning, vision, status, date checked')
    .option('--json', 'print JSON instead of a table')
    .option('--live', "also ask each provider's GET /models which ids it serves now (needs its key)")
    .action(async (opts: { json?: boolean; live?: boolean }) => {
      const config = loadConfig();
      const table = modelsTable(config, opts.live ? await liveListings(config) : undefined);
      const { text, ...data } = table;
      process.stdout.write(opts.json ? `${JSON.stringify(opts.live ? data : data.rows, null, 2)}\n` : text);
      // The listing asks over keep-alive sockets: do not let them hold the process open.
      if (opts.live) sharedTransport().close();
    });

  program
    .command('serve')
    .description('run the MCP server on stdio, or on Streamable HTTP at /mcp with --http')
    .option('--http', 'serve Streamable HTTP instead of stdio')
    .option('--host <host>', 'HTTP bind address (a non-loopback address needs EXAI_HTTP_TOKEN)', '127.0.0.1')
    .option('--port <port>', 'HTTP port', integer(0, 65535), 8765)
    .action(async (opts: { http?: boolean; host: string; port: number }) => {
      const config = loadConfig();
      const screen = new Screen({ stdout: process.stdout, stderr: process.stderr });
      const logger = cliLogger(config.logLevel, logFormat(process.stderr), screen);
      const mcp = await import('../mcp/index.js');
      const httpServer = opts.http
        ? await mcp.serveHttp({ config, logger, host: opts.host, port: opts.port })
        : undefined;
      const server = httpServer ?? (await mcp.serveStdio({ config, logger }));
      if (httpServer) logger.info('exai MCP server listening', { url: httpServer.url });
      await new Promise<void>((resolve) => {
        const release = onStopSignal((signal) => {
          // SIGTERM (an orchestrator) drains the HTTP server; SIGINT (a person) stops at once.
          // A second signal exits immediately (onStopSignal).
          const drain = httpServer !== undefined && signal === 'SIGTERM';
          if (!drain) logger.info('shutting down', { signal });
          const stopping = drain ? httpServer.drain(config.drainTimeoutMs) : server.close();
          stopping.finally(() => {
            release();
            resolve();
          });
        });
        // stdio: the host closing our stdin means it is gone.
        if (!opts.http) process.stdin.once('end', () => server.close().finally(resolve));
        // stdio: a closed stdout (or a wire that gave up) ends the server too, with exit code 0.
        if ('closed' in server) void server.closed.then(resolve);
      });
    });

  program
    .command('emulator')
    .description('run the GLM/Kimi emulator for other clients (no API key needed)')
    .option('--host <host>', 'bind address', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', integer(0, 65535), 8787)
    .option('--pace-ms <ms>', 'delay between chunks', integer(0, 60_000), 25)
    .option('--words <n>', 'answer length in words', integer(1, 1_000_000), 60)
    .option(
      '--fault <spec>',
      'a fault for the next request, e.g. drop:5 (repeatable; see below)',
      collect,
      [],
    )
    .option('--reasoning', 'every model reasons first (reasoning_content), not only thinking models')
    .option(
      '--tools',
      'answer user turns with a tool call, with a built-in get_weather tool if none is offered',
    )
    .option('--echo-messages', 'start each answer with the number of messages received')
    .addHelpText('after', EMULATOR_HELP)
    .action(async (opts: EmulatorCommandOptions) => {
      const emu = await startEmulatorCommand(opts);
      await new Promise<void>((resolve) => {
        const release = onStopSignal(() => {
          release();
          emu.close().finally(resolve);
        });
      });
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`exai: ${redact(message)}\n`);
    if (error instanceof ExaiError && (error.code === 'config' || error.code === 'usage')) return EXIT.usage;
    return EXIT.failed;
  }
}

const code = await main(process.argv);
process.exitCode = code;
