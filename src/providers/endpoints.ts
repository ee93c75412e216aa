// The providers' OpenAI-compatible base URLs by name (`GLM_ENDPOINT`, `KIMI_ENDPOINT`). Data only.
// Sources: docs.z.ai (API and GLM Coding Plan quick starts), platform.moonshot.ai / .cn; checked 2026-12-01.
import type { ProviderName } from '../types.js';

export const ENDPOINTS = {
  glm: {
    global: 'https://api.z.ai/api/paas/v4',
    china: 'https://open.bigmodel.cn/api/paas/v4',
    /** GLM Coding Plan: subscription keys work only here. */
    coding: 'https://api.z.ai/api/coding/paas/v4',
    'coding-china': 'https://open.bigmodel.cn/api/coding/paas/v4',
  },
  kimi: {
    global: 'https://api.moonshot.ai/v1',
    china: 'https://api.moonshot.cn/v1',
  },
} as const satisfies Record<ProviderName, Record<string, string>>;

export function endpointNames(provider: ProviderName): string[] {
  return Object.keys(ENDPOINTS[provider]);
}

/** The base URL of a named endpoint, or undefined for a name the provider does not have. */
export function endpointURL(provider: ProviderName, name: string): string | undefined {
  const table: Record<string, string> = ENDPOINTS[provider];
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
