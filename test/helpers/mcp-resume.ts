// Driving a long answer to its end the way a host's model does: `chat`, then `chat_resume` while
// the result names a resume id, with either SDK client; each part's text, timing and progress.
import type { Client } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type ExaiResultSeen, exaiResult, now, type ProgressSeen, textOf, type Wire } from './mcp.js';

export type AnyClient = Client | V1Client;

export interface Part {
  tool: 'chat' | 'chat_resume';
  text: string;
  status: string;
  meta: ExaiResultSeen;
  isError: boolean;
  /** ms from the start of this call to its result. */
  ms: number;
  /** Progress on the wire for this call. */
  seen: ProgressSeen[];
}

type Progress = (p: { progress: number; message?: string; _meta?: Record<string, unknown> }) => void;

/** One tool call with either client version (v1 takes a result schema before the options). */
export function callWith(
  client: AnyClient,
  name: string,
  args: Record<string, unknown>,
  opts: { onprogress?: Progress; signal?: AbortSignal; timeout?: number } = {},
): Promise<unknown> {
  const options = { timeout: 60_000, ...opts };
  if (client instanceof V1Client) return client.callTool({ name, arguments: args }, undefined, options);
  return client.callTool({ name, arguments: args }, options);
}

export async function part(
  client: AnyClient,
  wire: Wire,
  tool: 'chat' | 'chat_resume',
  args: Record<string, unknown>,
  opts: { signal?: AbortSignal } = {},
): Promise<Part> {
  const started = now();
  const result = await callWith(client, tool, args, { onprogress: () => undefined, ...opts });
  const key = String(tool === 'chat' ? args.prompt : args.resume_id);
  // Let the last notifications reach the wire tap.
  await new Promise((r) => setTimeout(r, 5));
  return {
    tool,
    text: textOf(result),
    status: textOf(result, 1),
    meta: exaiResult(result),
    isError: (result as { isError?: boolean }).isError === true,
    ms: now() - started,
    seen: [...wire.seen(key)],
  };
}

/** `chat`, then `chat_resume` until a part names no resume id. */
export async function chatToEnd(
  client: AnyClient,
  wire: Wire,
  args: Record<string, unknown>,
  maxParts = 20,
): Promise<Part[]> {
  const parts = [await part(client, wire, 'chat', args)];
  for (;;) {
    const last = parts.at(-1) as Part;
    const id = last.meta?.resume_id;
    if (last.isError || !id) return parts;
    if (parts.length >= maxParts) throw new Error(`more than ${maxParts} parts`);
    parts.push(await part(client, wire, 'chat_resume', { resume_id: id }));
  }
}
