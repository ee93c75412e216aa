// Failures as tool results: one clear, redacted line the calling model can act on.
import type { CallToolResult } from '@modelcontextprotocol/server';
import { KEY_VAR } from '../config/index.js';
import { APIError } from '../errors.js';
import { redact } from '../log.js';
import { findModel, MODELS } from '../providers/catalog.js';

/** The message for `error`, with a hint where the library's own words leave the fix open. */
export function describeError(error: unknown, model?: string): string {
  if (error instanceof APIError) {
    let text = error.message;
    if (error.status === 401 || error.status === 403) {
      text += ` — check ${KEY_VAR[error.provider]} in the MCP server's environment`;
    } else if ((error.status === 400 || error.status === 404) && model && !findModel(model)) {
      const known = MODELS.filter((m) => m.provider === error.provider).map((m) => m.id);
      text += ` — "${model}" is not a model exai knows; ${error.provider} models: ${known.join(', ')}`;
    }
    if (error.requestId) text += ` [request id ${error.requestId}]`;
    return redact(text);
  }
  if (error instanceof Error) return redact(error.message);
  return redact(String(error));
}

export function toolError(error: unknown, model?: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: describeError(error, model) }] };
}
