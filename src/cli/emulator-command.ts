// `exai emulator`: the GLM/Kimi emulator for other clients, with faults and switches from the command line.
import type { Emulator } from '../emulator/index.js';
import { UsageError } from '../errors.js';

export interface EmulatorCommandOptions {
  host: string;
  port: number;
  paceMs: number;
  words: number;
  fault: string[];
  reasoning?: boolean;
  tools?: boolean;
  echoMessages?: boolean;
}

/** Starts the emulator and prints how to point a client at it; the caller waits for Ctrl-C. */
export async function startEmulatorCommand(opts: EmulatorCommandOptions): Promise<Emulator> {
  const [{ startEmulator }, { faultScript }] = await Promise.all([
    import('../emulator/index.js'),
    import('../emulator/fault-spec.js'),
  ]);
  // Parsed before listening: a bad --fault is a usage error, not a server that misbehaves later.
  let parsed: ReturnType<typeof faultScript>;
  try {
    parsed = faultScript(opts.fault);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { script, always } = parsed;
  const emu = await startEmulator({
    host: opts.host,
    port: opts.port,
    paceMs: opts.paceMs,
    words: opts.words,
    reasoning: opts.reasoning === true,
    tools: opts.tools === true,
    echoMessages: opts.echoMessages === true,
  });
  emu.script(script);
  emu.setDefaultFault(always);
  const switches = [
    opts.reasoning && 'every model reasons first',
    opts.tools && 'user turns are answered with a tool call',
    opts.echoMessages && 'answers start with the number of messages received',
  ].filter(Boolean);
  const faults = opts.fault.length
    ? `  faults: ${opts.fault.join(' then ')}${always ? ' (the last one for every later request)' : ', then normal answers'}\n`
    : '';
  process.stdout.write(
    `exai emulator listening on ${emu.url}\n` +
      `  GLM_BASE_URL=${emu.baseURL('glm')}\n  KIMI_BASE_URL=${emu.baseURL('kimi')}\n` +
      faults +
      (switches.length ? `  ${switches.join('; ')}\n` : '') +
      '  any non-empty API key is accepted; Ctrl-C stops it\n',
  );
  return emu;
}
