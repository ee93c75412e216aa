// `exai models --live`: asks a provider's `GET /models` which ids it serves now, so the catalog's
// entries the provider no longer lists can be marked. Not every provider serves a listing.
import type { ProviderConfig } from '../config/index.js';
import { readText } from '../streaming/body.js';
import type { ProviderName } from '../types.js';
import type { Transport } from './transport.js';

export interface LiveListing {
  provider: ProviderName;
  /** The ids the provider lists; null when it has no listing or could not be asked. */
  listed: string[] | null;
  /** One line for people: how many ids, or why there is no listing. */
  note: string;
}

const LIMIT = 1024 * 1024;

/** One GET /models; never throws: every failure becomes a note (without the key). */
export async function liveModels(
  config: ProviderConfig,
  transport: Transport,
  timeoutMs = 10_000,
): Promise<LiveListing> {
  const provider = config.name;
  const none = (note: string): LiveListing => ({ provider, listed: null, note });
  if (!config.apiKey) return none('not asked: no API key');
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await transport.request({
      method: 'GET',
      url: `${config.baseURL}/models`,
      headers: { authorization: `Bearer ${config.apiKey}`, accept: 'application/json' },
      body: '',
      signal,
    });
    const text = await readText(res.body, LIMIT);
    if (res.status === 404 || res.status === 405) {
      return none(`the provider serves no model listing (GET /models answered ${res.status})`);
    }
    if (res.status < 200 || res.status >= 300) return none(`GET /models failed with HTTP ${res.status}`);
    const ids = idsOf(text);
    if (ids === undefined) return none('GET /models answered something that is not a model list');
    return {
      provider,
      listed: ids,
      note: `${ids.length} model${ids.length === 1 ? '' : 's'} listed by the provider`,
    };
  } catch (error) {
    const why = signal.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    return none(`GET /models failed: ${why}`);
  }
}

/** Ids of an OpenAI-style `{ data: [{ id }] }` list. */
function idsOf(text: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return undefined;
  return data
    .map((m) => (typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined))
    .filter((id): id is string => typeof id === 'string');
}
